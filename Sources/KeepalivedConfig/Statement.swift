/// One word of a keepalived.conf line. Quoting matters: `"a b"` is one word, and a quoted `{` is not a brace.
struct Word: Hashable, Sendable {
    var text: String
    var quoted: Bool
}

/// A line of keywords and arguments, with the block that follows it when there is one:
/// `vrrp_instance VI_1 {` ... `}` is one statement whose `block` holds the inner statements.
struct Statement: Hashable, Sendable {
    var words: [Word]
    var location: ConfigLocation
    var block: [Statement]?

    var keyword: String { words.first?.text ?? "" }
    var arguments: ArraySlice<Word> { words.dropFirst() }
}

/// Splits a file into statements: `#` and `!` start comments anywhere outside quotes, `"..."` groups words,
/// and `{` / `}` open and close blocks wherever they appear. Brace errors are reported in Keepalived's words.
struct StatementReader {
    private(set) var diagnostics: [Diagnostic] = []

    private enum Token {
        case word(Word)
        case open
        case close
    }

    mutating func read(text: String, file: String) -> [Statement] {
        var tokens: [(Token, Int)] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            tokenize(line: line, lineNumber: lineNumber, file: file, into: &tokens)
        }
        return build(tokens: tokens, file: file)
    }

    private mutating func tokenize(line: Substring, lineNumber: Int, file: String, into tokens: inout [(Token, Int)]) {
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if character == "#" || character == "!" { return }
            if character.isWhitespace {
                index = line.index(after: index)
                continue
            }
            if character == "{" || character == "}" {
                tokens.append((character == "{" ? .open : .close, lineNumber))
                index = line.index(after: index)
                continue
            }
            if character == "\"" {
                let start = line.index(after: index)
                guard let end = line[start...].firstIndex(of: "\"") else {
                    diagnostics.append(
                        .error(ConfigLocation(file: file, line: lineNumber), "Unterminated quoted string"))
                    tokens.append((.word(Word(text: String(line[start...]), quoted: true)), lineNumber))
                    return
                }
                tokens.append((.word(Word(text: String(line[start..<end]), quoted: true)), lineNumber))
                index = line.index(after: end)
                continue
            }
            // A word runs to the next character handled above; the first character is never one of them,
            // so every iteration consumes at least one character.
            var end = line.index(after: index)
            while end < line.endIndex, !line[end].isWhitespace, !"{}\"#!".contains(line[end]) {
                end = line.index(after: end)
            }
            tokens.append((.word(Word(text: String(line[index..<end]), quoted: false)), lineNumber))
            index = end
        }
    }

    /// Words on one line form a statement; a `{` (on the same line or the next) attaches a block to the
    /// statement before it, so one-line blocks like `track_script { chk }` work too.
    private mutating func build(tokens: [(Token, Int)], file: String) -> [Statement] {
        struct Frame {
            var owner: Statement?
            var statements: [Statement] = []
        }
        var stack: [Frame] = [Frame(owner: nil)]
        var current: Statement?
        var currentLine = 0

        func flush() {
            if let statement = current { stack[stack.count - 1].statements.append(statement) }
            current = nil
        }

        for (token, line) in tokens {
            let location = ConfigLocation(file: file, line: line)
            switch token {
            case .word(let word):
                if current != nil, line != currentLine { flush() }
                if current == nil {
                    current = Statement(words: [], location: location, block: nil)
                    currentLine = line
                }
                current?.words.append(word)
            case .open:
                var owner: Statement
                if let statement = current {
                    owner = statement
                    current = nil
                } else if let last = stack[stack.count - 1].statements.last, last.block == nil {
                    owner = stack[stack.count - 1].statements.removeLast()
                } else {
                    // Its contents are still read (for brace balance) but dropped: there is no keyword to give them.
                    diagnostics.append(.error(location, "'{' without a keyword"))
                    owner = Statement(words: [], location: location, block: nil)
                }
                owner.block = []
                stack.append(Frame(owner: owner))
            case .close:
                flush()
                if stack.count == 1 {
                    diagnostics.append(.error(location, "Extra '}' found"))
                    continue
                }
                let frame = stack.removeLast()
                if var owner = frame.owner, !owner.words.isEmpty {
                    owner.block = frame.statements
                    stack[stack.count - 1].statements.append(owner)
                }
            }
        }
        flush()
        if stack.count > 1, let outer = stack[1].owner {
            let missing = stack.count - 1
            let name = outer.words.map(\.text).joined(separator: " ")
            diagnostics.append(
                .error(
                    outer.location, "There are \(missing) missing '}'s or extra '{'s (block '\(name)' is not closed)")
            )
            // Keep what was read so later keywords are still checked.
            while stack.count > 1 {
                let frame = stack.removeLast()
                if var owner = frame.owner {
                    owner.block = frame.statements
                    stack[stack.count - 1].statements.append(owner)
                }
            }
        }
        return stack[0].statements
    }
}
