import ConfigSuggestion
import Testing

@Suite struct SuggestionTests {
    @Test func transpositionIsOneEdit() {
        #expect(Suggestion.editDistance("priotity", "priority") == 1)
        #expect(Suggestion.editDistance("blanace", "balance") == 2)
        #expect(Suggestion.editDistance("prioirty", "priority") == 1)
        #expect(Suggestion.editDistance("", "abc") == 3)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
    }

    @Test func closestWithinTheLimitOnly() {
        let table = ["balance", "backend", "bind", "maxconn"]
        #expect(Suggestion.closest(to: "balanse", in: table, maxDistance: 2) == "balance")
        #expect(Suggestion.closest(to: "frobnicate", in: table, maxDistance: 3) == nil)
    }

    @Test func tiesGoToTheAlphabeticallyFirstWhateverTheTableOrder() {
        #expect(Suggestion.closest(to: "bax", in: ["bay", "bar"], maxDistance: 1) == "bar")
        #expect(Suggestion.closest(to: "bax", in: ["bar", "bay"], maxDistance: 1) == "bar")
    }
}
