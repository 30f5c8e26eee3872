import ConfigSuggestion

/// Keepalived's "did you mean" rule: one edit for short keywords, two up to eight letters, three beyond.
enum Suggestion {
    static func closest(to word: String, in candidates: [String]) -> String? {
        let limit = word.count <= 4 ? 1 : (word.count <= 8 ? 2 : 3)
        return ConfigSuggestion.Suggestion.closest(to: word, in: candidates, maxDistance: limit)
    }
}
