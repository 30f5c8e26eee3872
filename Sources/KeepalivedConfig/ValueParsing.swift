/// Number syntax of keepalived.conf values.
enum ValueParsing {
    /// A decimal integer with an optional sign (`-30`, `+5`, `120`).
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(digits)
        else { return nil }
        return negative ? -value : value
    }

    /// An unsigned decimal with up to 6 fractional digits (Keepalived's timer resolution), in microseconds:
    /// `1.5` → 1_500_000. More digits are rejected rather than silently rounded.
    static func microseconds(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 9,
            whole.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int(whole)
        else { return nil }
        var fraction = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(digits)
            else { return nil }
            fraction = value
            for _ in digits.count..<6 { fraction *= 10 }
        }
        return seconds * 1_000_000 + fraction
    }

    /// `1500000` µs → `1.500000`, as Keepalived prints intervals with `%f`.
    static func formatSeconds(microseconds: Int) -> String {
        let fraction = String(microseconds % 1_000_000)
        return "\(microseconds / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// Splits a script command line into words as Keepalived does: whitespace separates, single or double
    /// quotes group (`"/bin/notify 'a b'"` → `["/bin/notify", "a b"]`).
    static func commandWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
