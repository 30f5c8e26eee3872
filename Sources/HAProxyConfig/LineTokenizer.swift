/// Splits one configuration line into words the way HAProxy does:
/// - words are separated by spaces or tabs; `#` outside quotes starts a comment;
/// - `\` escapes the next character (`\ `, `\#`, `\\`, `\'`, `\"`), and `\r`, `\n`, `\t`, `\xHH` produce CR, LF,
///   TAB and byte HH; any other backslash is kept as is;
/// - inside double quotes backslash escapes still apply, `#` and spaces are literal, and `$NAME` / `${NAME}` expand
///   to the environment variable (empty when unset), as in HAProxy;
/// - inside single quotes everything is literal;
/// - quotes may appear inside a word (`a"b c"d` is one word) and `""` is an empty word.
struct LineTokenizer {
    struct UnmatchedQuote: Error, Equatable {
        /// 1-based column of the opening quote, as HAProxy reports it.
        var position: Int
    }

    var environment: [String: String]

    func words(in line: Substring) -> Result<[String], UnmatchedQuote> {
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        let bytes = Array(line.utf8)
        var index = 0
        var quote: UInt8? = nil
        var quoteStart = 0

        func finishWord() {
            if inWord {
                words.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
                inWord = false
            }
        }

        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == open {
                    quote = nil
                    index += 1
                    continue
                }
                if open == UInt8(ascii: "\""), byte == UInt8(ascii: "\\") {
                    index = unescape(bytes, at: index, into: &current)
                    continue
                }
                if open == UInt8(ascii: "\""), byte == UInt8(ascii: "$") {
                    index = expandVariable(bytes, at: index, into: &current)
                    continue
                }
                current.append(byte)
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                finishWord()
                index += 1
            case UInt8(ascii: "#"):
                finishWord()
                return .success(words)
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                quote = byte
                quoteStart = index
                inWord = true
                index += 1
            case UInt8(ascii: "\\"):
                inWord = true
                index = unescape(bytes, at: index, into: &current)
            default:
                inWord = true
                current.append(byte)
                index += 1
            }
        }
        if quote != nil {
            return .failure(UnmatchedQuote(position: quoteStart + 1))
        }
        finishWord()
        return .success(words)
    }

    /// Handles the backslash at `index`; returns the index after the escape.
    private func unescape(_ bytes: [UInt8], at index: Int, into output: inout [UInt8]) -> Int {
        guard index + 1 < bytes.count else {
            output.append(UInt8(ascii: "\\"))
            return index + 1
        }
        let next = bytes[index + 1]
        switch next {
        case UInt8(ascii: " "), UInt8(ascii: "#"), UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""),
            UInt8(ascii: "$"):
            output.append(next)
            return index + 2
        case UInt8(ascii: "r"):
            output.append(13)
            return index + 2
        case UInt8(ascii: "n"):
            output.append(10)
            return index + 2
        case UInt8(ascii: "t"):
            output.append(9)
            return index + 2
        case UInt8(ascii: "x"):
            if index + 3 < bytes.count, let high = hexValue(bytes[index + 2]), let low = hexValue(bytes[index + 3]) {
                output.append(high << 4 | low)
                return index + 4
            }
            output.append(UInt8(ascii: "\\"))
            return index + 1
        default:
            output.append(UInt8(ascii: "\\"))
            return index + 1
        }
    }

    /// Expands `$NAME` or `${NAME}` at `index` (inside double quotes); a lone `$` stays literal.
    private func expandVariable(_ bytes: [UInt8], at index: Int, into output: inout [UInt8]) -> Int {
        var cursor = index + 1
        let braced = cursor < bytes.count && bytes[cursor] == UInt8(ascii: "{")
        if braced { cursor += 1 }
        let nameStart = cursor
        while cursor < bytes.count, isNameByte(bytes[cursor]) { cursor += 1 }
        if cursor == nameStart || (braced && (cursor >= bytes.count || bytes[cursor] != UInt8(ascii: "}"))) {
            output.append(UInt8(ascii: "$"))
            return index + 1
        }
        let name = String(decoding: bytes[nameStart..<cursor], as: UTF8.self)
        output.append(contentsOf: Array((environment[name] ?? "").utf8))
        return braced ? cursor + 1 : cursor
    }

    private func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
