/// "did you mean" for mistyped keywords, shared by the haproxy.cfg and keepalived.conf parsers: the closest
/// candidate by edit distance, only when it is close enough to be a plausible typo rather than another word.
public enum Suggestion {
    /// The candidate nearest to `word` within `maxDistance` edits; ties go to the alphabetically first
    /// candidate so a message never depends on the order of a keyword table.
    public static func closest(to word: String, in candidates: some Sequence<String>, maxDistance: Int) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            guard distance <= maxDistance else { continue }
            if let current = best,
                distance > current.distance || (distance == current.distance && candidate >= current.candidate)
            {
                continue
            }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit (`priotity`, `blance`), the
    /// commonest typing slip.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
