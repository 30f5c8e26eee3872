/// A value HAProxy reads as a log-format string: literal text and `%[fetch]` / `%ci` directives.
///
/// Portico implements the directives header rules use most (configuration manual 8.2.4): `%%`, `%ci`, and
/// `%[fetch]` with `src`, `path`, `url`, `query`, `method`, `hdr` / `req.hdr` / `req.fhdr` and `hdr_cnt`, without
/// converters. The parser refuses every other directive.
public struct LogFormat: Sendable, Equatable, ExpressibleByStringLiteral {
    /// As written in the configuration (for messages).
    public var text: String
    var segments: [Segment]

    /// One piece of a format.
    enum Segment: Sendable, Equatable {
        case literal(String)
        /// `%[fetch]`: the fetch's sample, as a sample expression reads it (`hdr` gives one value: the last).
        case sample(ACLFetch)
        /// `%ci`.
        case clientAddress
    }

    /// No directive: `render` returns the literal text without looking at the request.
    public var isLiteral: Bool {
        segments.allSatisfy { segment in
            if case .literal = segment { return true }
            return false
        }
    }

    /// The text of a value without directives (`%%` read as `%`); nil when it has one.
    var literalText: String? {
        var text = ""
        for segment in segments {
            guard case .literal(let part) = segment else { return nil }
            text += part
        }
        return text
    }

    /// A literal value; its ``text`` is written the way a configuration would spell it (`%` doubled).
    public init(stringLiteral value: String) {
        var escaped = ""
        for character in value {
            escaped.append(character)
            if character == "%" { escaped.append("%") }
        }
        text = escaped
        segments = value.isEmpty ? [] : [.literal(value)]
    }

    init(text: String, segments: [Segment]) {
        self.text = text
        self.segments = segments
    }

    /// The value for one request: directives replaced by their samples (HAProxy's rules for a missing sample: empty).
    public func render(_ subject: some ACLSubject) -> String {
        var value = ""
        for segment in segments {
            switch segment {
            case .literal(let text):
                value += text
            case .clientAddress:
                value += subject.sourceAddress.map(LogFormat.addressText) ?? ""
            case .sample(let fetch):
                guard let sample = fetch.samples(from: subject).first else { continue }
                value += LogFormat.text(of: sample)
            }
        }
        return value
    }

    // MARK: - Rendering

    /// A sample as HAProxy writes it into a header (log-format with its HTTP option): control characters other
    /// than HTAB, and DEL, become `%XX` so that a value can never end the header line.
    static func text(of sample: ACLSample) -> String {
        switch sample {
        case .address(let address): return addressText(address)
        case .integer(let value): return String(value)
        case .boolean(let value): return value ? "1" : "0"
        case .string(let bytes):
            var encoded: [UInt8] = []
            encoded.reserveCapacity(bytes.count)
            let hex = Array("0123456789ABCDEF".utf8)
            for byte in bytes {
                if (byte < 0x20 && byte != 0x09) || byte == 0x7f {
                    encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
                } else {
                    encoded.append(byte)
                }
            }
            return String(decoding: encoded, as: UTF8.self)
        }
    }

    /// An address as HAProxy prints it (inet_ntop): dotted IPv4; IPv6 with the longest run of two or more zero
    /// groups as `::`, and `::ffff:a.b.c.d` / `::a.b.c.d` for IPv4-mapped and IPv4-compatible addresses.
    static func addressText(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        guard address.count == 16 else { return "" }
        let groups = (0..<8).map { Int(address[2 * $0]) << 8 | Int(address[2 * $0 + 1]) }
        var best: (start: Int, count: Int)?
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = (index, end - index) }
            index = end
        }
        var text = ""
        index = 0
        while index < 8 {
            if let best, index == best.start {
                text += index == 0 ? "::" : ":"
                index += best.count
                continue
            }
            if index == 6, let best, best.start == 0,
                best.count == 6 || (best.count == 5 && groups[5] == 0xffff)
            {
                text += address[12..<16].map(String.init).joined(separator: ".")
                break
            }
            text += String(groups[index], radix: 16)
            if index < 7 { text += ":" }
            index += 1
        }
        return text
    }
}

/// Why a log-format value was refused.
enum LogFormatError: Error, Equatable {
    /// HAProxy refuses it too, with this message (without its "error detected in ..." prefix).
    case malformed(String)
    /// HAProxy runs it; Portico does not yet. The message names the directive.
    case unsupported(String)
}

extension LogFormat {
    /// HAProxy 2.6's log-format variables (`%ci`, `%T`, ...), configuration manual 8.2.4.
    static let aliases: Set<String> = [
        "o", "B", "CC", "CS", "H", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "ST", "T", "Ta", "Tc", "Td", "Th", "Ti",
        "Tq", "TR", "Tr", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp", "bq", "ci", "cp", "f", "fc", "fi",
        "fp", "ft", "hr", "hrl", "hs", "hsl", "lc", "ms", "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq", "sslc",
        "sslv", "t", "tr", "trg", "trl", "ts",
    ]

    /// Parses a value as HAProxy's log-format parser reads it. `inResponse`: an `http-response` value, where
    /// Portico only renders connection-level directives (`%[src]`, `%ci`).
    static func parse(_ text: String, inResponse: Bool = false) -> Result<LogFormat, LogFormatError> {
        let characters = Array(text)
        var segments: [Segment] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty { segments.append(.literal(literal)) }
            literal = ""
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            guard character == "%" else {
                literal.append(character)
                continue
            }
            guard index < characters.count else { return .failure(.malformed("truncated line after '%'.")) }
            let next = characters[index]
            if next == "%" {
                literal.append("%")
                index += 1
            } else if next == "[" {
                let start = index + 1
                guard let close = characters[start...].firstIndex(of: "]") else {
                    return .failure(.malformed("missing ']' after '\(String(characters[start...]))'."))
                }
                let expression = String(characters[start..<close])
                let shown = String(characters[start...])
                switch sampleFetch(expression, shown: shown, inResponse: inResponse) {
                case .failure(let error): return .failure(error)
                case .success(let fetch):
                    flush()
                    segments.append(fetch)
                }
                index = close + 1
            } else if next == "{" {
                let close = characters[index...].firstIndex(of: "}") ?? characters.count - 1
                var end = close + 1
                while end < characters.count, characters[end].isASCII, characters[end].isLetter { end += 1 }
                let directive = "%" + String(characters[index..<end])
                return .failure(.unsupported("log-format directive '\(directive)' is not supported yet by Portico"))
            } else if next.isASCII, next.isLetter {
                var end = index
                while end < characters.count, characters[end].isASCII,
                    characters[end].isLetter || characters[end].isNumber
                {
                    end += 1
                }
                let name = String(characters[index..<end])
                index = end
                if name == "ci" {
                    flush()
                    segments.append(.clientAddress)
                } else if aliases.contains(name) {
                    return .failure(.unsupported("log-format directive '%\(name)' is not supported yet by Portico"))
                } else {
                    return .failure(
                        .malformed(
                            "no such format variable '\(name)'. If you wanted to emit the '%' character verbatim, "
                                + "you need to use '%%'."))
                }
            } else {
                return .failure(.unsupported("log-format directive '%\(next)' is not supported yet by Portico"))
            }
        }
        flush()
        return .success(LogFormat(text: text, segments: segments))
    }

    /// Fetches a sample expression may name in Portico, with the arguments each takes.
    private enum FetchName {
        case source, path, url, query, method, header, fullHeader, headerCount
    }

    private static let fetchNames: [String: FetchName] = [
        "src": .source, "path": .path, "url": .url, "query": .query, "method": .method, "hdr": .header,
        "req.hdr": .header, "req.fhdr": .fullHeader, "hdr_cnt": .headerCount, "req.hdr_cnt": .headerCount,
    ]

    /// `<fetch>[(<args>)]` inside `%[...]`. `shown` is what HAProxy quotes in its alerts: the text from the
    /// expression to the end of the value.
    private static func sampleFetch(
        _ expression: String, shown: String, inResponse: Bool
    ) -> Result<Segment, LogFormatError> {
        let parsed = requestSampleFetch(expression, shown: shown)
        guard inResponse, case .success(.sample(let fetch)) = parsed, let source = fetch.requestSource else {
            return parsed
        }
        if source == "HTTP request headers" {
            // HAProxy refuses these too: the request's headers are gone when the response is processed.
            return .failure(
                .malformed(
                    "sample fetch <\(shown)> may not be reliably used here because it needs '\(source)' which is not "
                        + "available here."))
        }
        return .failure(
            .unsupported(
                "fetch method '%[\(expression)]' is not supported yet by Portico in http-response values (only "
                    + "'%[src]' and '%ci')"))
    }

    private static func requestSampleFetch(_ expression: String, shown: String) -> Result<Segment, LogFormatError> {
        let failure = { (message: String) in
            Result<Segment, LogFormatError>.failure(
                .malformed("failed to parse sample expression <\(shown)> : \(message)"))
        }
        let name = String(expression.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        guard !name.isEmpty else { return failure("missing fetch method.") }
        var rest = expression.dropFirst(name.count)
        guard let kind = fetchNames[name] else {
            guard HAProxyFetches.names.contains(name) else { return failure("unknown fetch method '\(name)'.") }
            return .failure(
                .unsupported("fetch method '\(name)' in '%[\(expression)]' is not supported yet by Portico"))
        }
        var arguments: [String] = []
        if rest.hasPrefix("(") {
            guard let close = rest.firstIndex(of: ")") else { return failure("fetch method '\(name)' : expected ')'.") }
            let inside = rest[rest.index(after: rest.startIndex)..<close]
            if !inside.isEmpty {
                arguments = inside.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            rest = rest[rest.index(after: close)...]
        }
        if rest.hasPrefix(",") {
            return .failure(
                .unsupported("converters ('\(rest)') in '%[\(expression)]' are not supported yet by Portico"))
        }
        guard rest.isEmpty else {
            return .failure(.unsupported("sample expression '%[\(expression)]' is not supported yet by Portico"))
        }
        switch kind {
        case .source, .path, .url, .query, .method:
            guard arguments.isEmpty else { return failure("fetch method '\(name)' : end of arguments expected.") }
            switch kind {
            case .source: return .success(.sample(.source))
            case .path: return .success(.sample(.path))
            case .url: return .success(.sample(.url))
            case .query: return .success(.sample(.query))
            default: return .success(.sample(.method))
            }
        case .header, .fullHeader, .headerCount:
            guard let header = arguments.first, !header.isEmpty else {
                return .failure(
                    .unsupported(
                        "'%[\(expression)]' without a header name is not supported yet by Portico (HAProxy then "
                            + "reads every header field)"))
            }
            let lowered = header.lowercased()
            let maximum = kind == .headerCount ? 1 : 2
            guard arguments.count <= maximum else {
                return failure("fetch method '\(name)' : end of arguments expected.")
            }
            if kind == .headerCount { return .success(.sample(.headerCount(name: lowered))) }
            // In a sample expression, no occurrence (or 0) means the last one (configuration manual 7.3.6).
            var occurrence = -1
            if arguments.count == 2 {
                guard let given = Values.signedInteger(arguments[1]) else {
                    return failure(
                        "fetch method '\(name)' : failed to parse '\(arguments[1])' as type 'integer' at position 2.")
                }
                if given != 0 { occurrence = given }
            }
            return .success(
                .sample(
                    kind == .header
                        ? .header(name: lowered, occurrence: occurrence)
                        : .fullHeader(name: lowered, occurrence: occurrence)))
        }
    }
}
