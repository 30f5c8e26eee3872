/// What an ACL condition can look at in a request (the Balancer adapts its request head to it).
public protocol ACLSubject {
    /// The method as received, e.g. "GET".
    var method: String { get }
    /// The request target as received (origin-form `/p?q` or absolute-form `http://h/p?q`); "" for a TCP connection.
    var target: String { get }
    /// The values of every field line named `name` (given lowercase), in order, one entry per field line,
    /// not split on commas.
    func fieldValues(named name: String) -> [String]
    /// The client's address: 4 bytes (IPv4) or 16 (IPv6); nil when unknown.
    var sourceAddress: [UInt8]? { get }
}

/// A parsed `if`/`unless` condition.
///
/// HAProxy's disjunctive form (configuration manual 7.2): terms side by side are AND-ed, `or` / `||` separate
/// alternatives, `!` negates one term. An ACL named by several `acl` lines matches when any of its lines does.
public struct Condition: Sendable, Equatable {
    /// `unless`: the rule applies when the terms do not match.
    public var isUnless: Bool
    /// The condition as written, from `if` / `unless` on, for messages and logs.
    public var text: String
    /// The alternatives (OR); each is a list of terms that must all match (AND). Empty: the terms never match.
    var alternatives: [[ConditionTerm]]

    init(isUnless: Bool, text: String, alternatives: [[ConditionTerm]]) {
        self.isUnless = isUnless
        self.text = text
        self.alternatives = alternatives
    }

    public func matches(_ subject: some ACLSubject) -> Bool {
        let termsMatch = alternatives.contains { terms in terms.allSatisfy { $0.matches(subject) } }
        return termsMatch != isUnless
    }

    /// True when only connection-level fetches (src, always_*) are used: usable before any HTTP request is read.
    public var isConnectionLevel: Bool { firstRequestFetch == nil }

    /// The first fetch that needs an HTTP request, with what it reads in HAProxy's words ("HTTP request headers").
    var firstRequestFetch: (keyword: String, source: String)? {
        for terms in alternatives {
            for term in terms {
                for expression in term.acl.expressions {
                    if let source = expression.fetch.requestSource { return (expression.keyword, source) }
                }
            }
        }
        return nil
    }

    /// Points named terms at the final definition of their ACL: as in HAProxy, an `acl` line written after the
    /// rule still adds to the ACL the rule uses.
    func resolved(with acls: [String: ACL]) -> Condition {
        var copy = self
        copy.alternatives = alternatives.map { terms in
            terms.map { term in
                guard term.isDeclared, let acl = acls[term.acl.name] else { return term }
                var resolved = term
                resolved.acl = acl
                return resolved
            }
        }
        return copy
    }
}

/// One term of a condition: an ACL, possibly negated.
struct ConditionTerm: Sendable, Equatable {
    var acl: ACL
    var isNegated: Bool
    /// Names an `acl` line of the section (not a predefined or anonymous ACL).
    var isDeclared: Bool

    func matches(_ subject: some ACLSubject) -> Bool { acl.matches(subject) != isNegated }
}

/// The `acl` lines of one name (or one anonymous `{ ... }` ACL, whose name is empty): matches when any line does.
struct ACL: Sendable, Equatable {
    var name: String
    var expressions: [ACLExpression]

    func matches(_ subject: some ACLSubject) -> Bool { expressions.contains { $0.matches(subject) } }
}

/// `<fetch> [flags] [values]`: matches when any sample the fetch extracts matches any value.
struct ACLExpression: Sendable, Equatable {
    /// The fetch as written, without arguments (`hdr_beg`), for messages.
    var keyword: String
    var fetch: ACLFetch
    var method: ACLMatchMethod
    var ignoreCase: Bool
    var patterns: [ACLPattern]

    func matches(_ subject: some ACLSubject) -> Bool {
        let samples = fetch.samples(from: subject)
        switch method {
        case .found:
            return !samples.isEmpty
        case .bool:
            return samples.contains { $0.isTrue }
        default:
            return samples.contains { sample in patterns.contains { matches(sample, $0) } }
        }
    }

    private func matches(_ sample: ACLSample, _ pattern: ACLPattern) -> Bool {
        switch (sample, pattern) {
        case (.string(let bytes), .string(let value)):
            return StringMatch.matches(bytes, value, method: method, ignoreCase: ignoreCase)
        case (.string(let bytes), .regex(let regex)):
            return regex.matches(bytes)
        case (.string(let bytes), .range(let range)):
            return method == .len && range.contains(bytes.count)
        case (.string(let bytes), .network(let network)):
            let text = String(decoding: bytes, as: UTF8.self)
            guard let address = Values.ipv4(Substring(text)) ?? Values.ipv6(Substring(text)) else { return false }
            return AddressMatch.contains(network, address)
        case (.address(let address), .network(let network)):
            return AddressMatch.contains(network, address)
        case (.integer(let value), .range(let range)):
            return range.contains(value)
        default:
            return false
        }
    }
}

/// What a fetch extracts from the request.
enum ACLFetch: Sendable, Equatable {
    /// `path`: the target's path, without the query string.
    case path
    /// `url`: the whole target.
    case url
    case method
    /// `hdr(name[,occurrence])`: every comma-separated value of every field line; one of them with an occurrence.
    case header(name: String, occurrence: Int?)
    /// `req.fhdr(name[,occurrence])` (log-format values only): one whole field line, not split on commas; a
    /// negative occurrence counts from the last.
    case fullHeader(name: String, occurrence: Int)
    /// `query` (log-format values only): the target after its first `?`; no sample without one.
    case query
    /// `hdr_cnt(name)`: how many comma-separated values the field lines hold.
    case headerCount(name: String)
    /// `hdr_val(name)`: each value as an integer.
    case headerInteger(name: String)
    /// `src`: the client's address.
    case source
    /// `always_true` / `always_false`.
    case constant(Bool)

    /// What an HTTP fetch reads, as HAProxy names it in "none of which is available here"; nil at connection level.
    var requestSource: String? {
        switch self {
        case .source, .constant: return nil
        case .method: return "HTTP request"
        case .path, .url, .query, .header, .fullHeader, .headerCount, .headerInteger: return "HTTP request headers"
        }
    }

    func samples(from subject: some ACLSubject) -> [ACLSample] {
        switch self {
        case .path:
            guard let path = RequestTarget.path(of: subject.target) else { return [] }
            return [.string(Array(path.utf8))]
        case .url:
            return subject.target.isEmpty ? [] : [.string(Array(subject.target.utf8))]
        case .query:
            guard let mark = subject.target.firstIndex(of: "?") else { return [] }
            return [.string(Array(subject.target[subject.target.index(after: mark)...].utf8))]
        case .fullHeader(let name, let occurrence):
            let lines = subject.fieldValues(named: name)
            let index = occurrence > 0 ? occurrence - 1 : lines.count + occurrence
            return lines.indices.contains(index) ? [.string(Array(lines[index].utf8))] : []
        case .method:
            return subject.method.isEmpty ? [] : [.string(Array(subject.method.utf8))]
        case .header(let name, let occurrence):
            let values = FieldList.values(subject.fieldValues(named: name))
            guard let occurrence, occurrence != 0 else { return values.map { .string($0) } }
            let index = occurrence > 0 ? occurrence - 1 : values.count + occurrence
            return values.indices.contains(index) ? [.string(values[index])] : []
        case .headerCount(let name):
            return [.integer(FieldList.values(subject.fieldValues(named: name)).count)]
        case .headerInteger(let name):
            return FieldList.values(subject.fieldValues(named: name)).map { .integer(FieldList.leadingInteger($0)) }
        case .source:
            guard let address = subject.sourceAddress, address.count == 4 || address.count == 16 else { return [] }
            return [.address(address)]
        case .constant(let value):
            return [.boolean(value)]
        }
    }
}

/// One value a fetch extracted.
enum ACLSample: Sendable, Equatable {
    case string([UInt8])
    case address([UInt8])
    case integer(Int)
    case boolean(Bool)

    var isTrue: Bool {
        switch self {
        case .boolean(let value): return value
        case .integer(let value): return value != 0
        case .string, .address: return true
        }
    }
}

/// HAProxy's pattern matching methods (`-m`), configuration manual 7.1.
enum ACLMatchMethod: String, Sendable, Equatable, CaseIterable {
    case found, bool, int, ip, bin, len, str, sub, reg, beg, end, dir, dom
}

/// One value of an ACL, parsed for its matching method.
enum ACLPattern: Sendable, Equatable {
    case string([UInt8])
    case regex(ACLRegex)
    case network(IPNetwork)
    case range(ACLIntegerRange)
}

/// An integer pattern: `5`, `1024:65535`, `:1023`, `1024:`, or one written with `eq`/`ge`/`gt`/`le`/`lt`.
struct ACLIntegerRange: Sendable, Equatable {
    var minimum: Int?
    var maximum: Int?

    init(minimum: Int? = nil, maximum: Int? = nil) {
        self.minimum = minimum
        self.maximum = maximum
    }

    func contains(_ value: Int) -> Bool {
        (minimum.map { $0 <= value } ?? true) && (maximum.map { value <= $0 } ?? true)
    }
}

/// A regex compiled at parse time. Compared by its source and flags (Regex itself is not Equatable).
struct ACLRegex: @unchecked Sendable, Equatable {
    // Regex values are immutable once built; matching does not mutate them, so sharing across threads is safe.
    var source: String
    var ignoreCase: Bool
    private let regex: Regex<AnyRegexOutput>

    /// Throws Swift's message when `source` is not a valid regex.
    init(_ source: String, ignoreCase: Bool) throws {
        self.source = source
        self.ignoreCase = ignoreCase
        // Unicode-scalar semantics sit closer to PCRE's than grapheme clusters do (`.` is one code point).
        let compiled = try Regex(source).matchingSemantics(.unicodeScalar)
        regex = ignoreCase ? compiled.ignoresCase() : compiled
    }

    /// HAProxy's regex match is a search: the regex may match anywhere in the sample.
    func matches(_ bytes: [UInt8]) -> Bool { String(decoding: bytes, as: UTF8.self).contains(regex) }

    static func == (lhs: ACLRegex, rhs: ACLRegex) -> Bool {
        lhs.source == rhs.source && lhs.ignoreCase == rhs.ignoreCase
    }
}

/// String matching methods on bytes, with HAProxy's ASCII-only `-i`.
enum StringMatch {
    static func matches(_ sample: [UInt8], _ pattern: [UInt8], method: ACLMatchMethod, ignoreCase: Bool) -> Bool {
        let subject = ignoreCase ? sample.map(lowercased) : sample
        let value = ignoreCase ? pattern.map(lowercased) : pattern
        switch method {
        case .str: return subject == value
        case .beg: return subject.starts(with: value)
        case .end: return subject.count >= value.count && Array(subject.suffix(value.count)) == value
        case .sub: return contains(subject, value)
        case .dir: return matchesWord(subject, value, delimiters: [UInt8(ascii: "/"), UInt8(ascii: "?")])
        case .dom:
            let delimiters: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "."), UInt8(ascii: ":")]
            return matchesWord(subject, value, delimiters: delimiters)
        default: return false
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    private static func contains(_ subject: [UInt8], _ value: [UInt8]) -> Bool {
        guard value.count <= subject.count else { return false }
        if value.isEmpty { return true }
        return (0...(subject.count - value.count)).contains { start in
            subject[start..<(start + value.count)].elementsEqual(value)
        }
    }

    /// `dir` / `dom`: the pattern, without its own leading and trailing delimiters, must appear as a whole run of
    /// delimited words: starting at the beginning or after a delimiter, ending at the end or before one.
    private static func matchesWord(_ subject: [UInt8], _ pattern: [UInt8], delimiters: Set<UInt8>) -> Bool {
        var word = pattern[...]
        while let first = word.first, delimiters.contains(first) { word = word.dropFirst() }
        while let last = word.last, delimiters.contains(last) { word = word.dropLast() }
        guard !word.isEmpty, word.count <= subject.count else { return false }
        for start in 0...(subject.count - word.count) {
            let atWordStart = start == 0 || delimiters.contains(subject[start - 1])
            guard atWordStart, !delimiters.contains(subject[start]) else { continue }
            let end = start + word.count
            let atWordEnd = end == subject.count || delimiters.contains(subject[end])
            if atWordEnd, subject[start..<end].elementsEqual(word) { return true }
        }
        return false
    }
}

/// IPv4 and IPv6 matching the way HAProxy mixes families (configuration manual 7.1.6).
enum AddressMatch {
    static func contains(_ network: IPNetwork, _ address: [UInt8]) -> Bool {
        if address.count == network.address.count { return network.contains(address) }
        if address.count == 4, network.isIPv6 {
            // An IPv4 client is compared as ::ffff:a.b.c.d against an IPv6 network.
            return network.contains([UInt8](repeating: 0, count: 10) + [0xff, 0xff] + address)
        }
        if address.count == 16, !network.isIPv6, let embedded = embeddedIPv4(address) {
            return network.contains(embedded)
        }
        return false
    }

    /// The IPv4 address inside `::ffff:a.b.c.d`, `::a.b.c.d` or `2002:a.b.c.d::`, as HAProxy reads them.
    static func embeddedIPv4(_ address: [UInt8]) -> [UInt8]? {
        if address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xff, address[11] == 0xff {
            return Array(address[12..<16])
        }
        if address[0..<12].allSatisfy({ $0 == 0 }) { return Array(address[12..<16]) }
        if address[0] == 0x20, address[1] == 0x02, address[6..<16].allSatisfy({ $0 == 0 }) {
            return Array(address[2..<6])
        }
        return nil
    }
}

/// The parts of a request target HAProxy's fetches read.
enum RequestTarget {
    /// HAProxy's `path`: from the first `/` after the scheme and authority (absolute-form) or the target itself
    /// (origin-form), up to the `?`. nil for `*` and authority-form targets, which have no path.
    static func path(of target: String) -> Substring? {
        let utf8 = target.utf8
        guard let first = utf8.first, first != UInt8(ascii: "*") else { return nil }
        var index = utf8.startIndex
        if isLetter(first) {
            // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
            index = utf8.index(after: index)
            while index < utf8.endIndex, isSchemeCharacter(utf8[index]) { index = utf8.index(after: index) }
            for expected in [UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "/")] {
                guard index < utf8.endIndex, utf8[index] == expected else { return nil }
                index = utf8.index(after: index)
            }
        }
        guard let slash = utf8[index...].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let end = utf8[slash...].firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
        return target[slash..<end]
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    private static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}

/// Field values as HAProxy's `hdr` sees them: each field line split on commas outside quoted strings, each
/// element stripped of surrounding spaces and tabs.
enum FieldList {
    static func values(_ lines: [String]) -> [[UInt8]] {
        lines.flatMap { split(Array($0.utf8)) }
    }

    static func split(_ line: [UInt8]) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        var current: [UInt8] = []
        var inQuotes = false
        var escaped = false
        for byte in line {
            if inQuotes {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                }
                current.append(byte)
            } else if byte == UInt8(ascii: ",") {
                elements.append(trimmed(current))
                current.removeAll()
            } else {
                if byte == UInt8(ascii: "\"") { inQuotes = true }
                current.append(byte)
            }
        }
        elements.append(trimmed(current))
        return elements
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
            let end = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(bytes[start...end])
    }

    /// The integer a value starts with (`12abc` is 12), 0 when it starts with none, as HAProxy's `hdr_val` reads it.
    static func leadingInteger(_ bytes: [UInt8]) -> Int {
        var index = 0
        var sign = 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            sign = -1
            index += 1
        }
        var value = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return sign * Int.max }
            value = product &+ Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return sign * value
    }
}
