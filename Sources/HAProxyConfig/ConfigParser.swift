extension BalancerConfig {
    /// Parses haproxy.cfg files, in order, as one configuration (like `haproxy -f a.cfg -f b.cfg`), then runs the
    /// semantic checks. Every problem of every file is reported; nothing stops at the first error.
    ///
    /// - Parameter environment: variables for `"$NAME"` / `"${NAME}"` inside double quotes (pass the process
    ///   environment from the CLI; empty by default so parsing stays pure).
    public static func parse(_ files: [ConfigFile], environment: [String: String] = [:]) -> ConfigParseResult {
        var parser = ConfigParser(environment: environment)
        for file in files {
            parser.parse(file)
        }
        return parser.finish()
    }

    /// Parses one configuration text; `fileName` is what diagnostics show.
    public static func parse(
        _ text: String, fileName: String = "haproxy.cfg", environment: [String: String] = [:]
    ) -> ConfigParseResult {
        parse([ConfigFile(name: fileName, text: text)], environment: environment)
    }
}

/// Reads sections and dispatches each line to its section's keyword table.
struct ConfigParser {
    private enum SectionState {
        case outside
        case global
        case proxy(ProxyDraft)
        /// A real HAProxy section Portico does not implement: its header was reported, its body is skipped.
        case skipped
    }

    private var section: SectionState = .outside
    private var sink = DiagnosticSink()
    private var global = GlobalSettings()
    /// The latest `defaults` section: proxies without `from` start from it.
    private var lastDefaults = ProxySettings()
    private var namedDefaults: [String: ProxySettings] = [:]
    private var proxies: [ProxyDraft] = []
    private let tokenizer: LineTokenizer
    /// File names in the order they were parsed, to sort diagnostics.
    private var fileOrder: [String: Int] = [:]

    init(environment: [String: String]) {
        tokenizer = LineTokenizer(environment: environment)
    }

    mutating func parse(_ file: ConfigFile) {
        if fileOrder[file.name] == nil { fileOrder[file.name] = fileOrder.count }
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both so files edited on Windows keep their lines.
        let lines = file.text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for rawLine in lines {
            lineNumber += 1
            let location = SourceLocation(file: file.name, line: lineNumber)
            switch tokenizer.words(in: rawLine) {
            case .failure(let unmatched):
                sink.items.append(.alert("unmatched quote at position \(unmatched.position)", at: location))
            case .success(let words):
                guard !words.isEmpty else { continue }
                handle(ConfigLine(words: words, location: location))
            }
        }
        // A section ends with its file, as in HAProxy; defaults carry over to the next file.
        closeSection()
    }

    private mutating func handle(_ line: ConfigLine) {
        let keyword = line.keyword
        if ConfigParser.sectionKeywords.contains(keyword) {
            closeSection()
            openSection(line)
            return
        }
        if HAProxyKeywords.otherSections.contains(keyword) {
            closeSection()
            sink.alert("'\(keyword)' sections are not supported yet by Portico", line)
            section = .skipped
            return
        }
        if keyword.hasPrefix(".") {
            // .if/.elif/.else/.endif/.diag/.notice/.warning/.alert: HAProxy's conditional blocks.
            let known = [".if", ".elif", ".else", ".endif", ".diag", ".notice", ".warning", ".alert"]
            if known.contains(keyword) {
                sink.alert("'\(keyword)' is not supported yet by Portico", line)
            } else {
                sink.alert("unknown directive '\(keyword)'", line)
            }
            return
        }
        switch section {
        case .outside:
            sink.alert("unknown keyword '\(keyword)' out of section.", line)
        case .skipped:
            break
        case .global:
            GlobalKeywords.handle(line, global: &global, sink: &sink)
        case .proxy(var draft):
            section = .outside
            let before = sink.items.count
            ProxyKeywords.handle(line, draft: &draft, sink: &sink)
            draft.hasAlerts = draft.hasAlerts || sink.items[before...].contains { $0.isAlert }
            section = .proxy(draft)
        }
    }

    private struct SortKey: Comparable {
        var file: Int
        var line: Int

        static func < (lhs: SortKey, rhs: SortKey) -> Bool { (lhs.file, lhs.line) < (rhs.file, rhs.line) }
    }

    static let sectionKeywords: Set<String> = ["global", "defaults", "frontend", "backend", "listen"]

    private mutating func openSection(_ line: ConfigLine) {
        let keyword = line.keyword
        if keyword == "global" {
            if line.words.count > 1 {
                sink.alert("'global' cannot handle unexpected argument '\(line.words[1])'.", line)
            }
            section = .global
            return
        }
        guard let kind = ProxyKind(rawValue: keyword) else { return }
        var arguments = Array(line.arguments)
        var base = lastDefaults
        if let fromIndex = arguments.firstIndex(of: "from") {
            let rest = arguments[(fromIndex + 1)...]
            if rest.count != 1 {
                sink.alert("'\(keyword)': 'from' expects the name of a defaults section as its only argument.", line)
            } else if let name = rest.first {
                if let named = namedDefaults[name] {
                    base = named
                } else {
                    sink.alert("'\(keyword)': unable to find defaults section '\(name)'.", line)
                }
            }
            arguments.removeSubrange(fromIndex...)
        }
        if kind == .defaults {
            // A defaults section resets everything to HAProxy's documented values unless it says `from`.
            if !line.arguments.contains("from") { base = ProxySettings() }
            if arguments.count > 1 {
                sink.alert("'defaults' cannot handle unexpected argument '\(arguments[1])'.", line)
            }
            section = .proxy(
                ProxyDraft(kind: .defaults, name: arguments.first ?? "", location: line.location, settings: base))
            return
        }
        guard let name = arguments.first else {
            sink.alert("'\(keyword)' expects <name> as an argument.", line)
            section = .skipped
            return
        }
        if arguments.count > 1 {
            sink.alert("'\(keyword) \(name)' cannot handle unexpected argument '\(arguments[1])'.", line)
        }
        if let bad = Values.invalidNameCharacter(name) {
            sink.alert("invalid character '\(bad)' in \(keyword) name '\(name)'.", line)
        }
        for other in proxies where other.name == name {
            let overlaps =
                (other.kind.hasFrontendCapability && kind.hasFrontendCapability)
                || (other.kind.hasBackendCapability && kind.hasBackendCapability)
            if overlaps {
                sink.alert(
                    "\(keyword) '\(name)' has the same name as \(other.kind.rawValue) '\(name)' declared at "
                        + "\(other.location).", line)
                break
            }
        }
        section = .proxy(ProxyDraft(kind: kind, name: name, location: line.location, settings: base))
    }

    private mutating func closeSection() {
        if case .proxy(let draft) = section {
            if draft.kind == .defaults {
                lastDefaults = draft.settings
                if !draft.name.isEmpty { namedDefaults[draft.name] = draft.settings }
            } else {
                var draft = draft
                // Rules see every `acl` line of their name in the section, even those written after them.
                draft.useBackends = draft.useBackends.map { rule in
                    var rule = rule
                    rule.condition = rule.condition?.resolved(with: draft.acls)
                    return rule
                }
                proxies.append(draft)
            }
        }
        section = .outside
    }

    mutating func finish() -> ConfigParseResult {
        closeSection()
        sink.items += global.cpuMap.diagnostics(threadCount: global.threadCount)
        if let count = global.threadCount { global.cpuMap.dropThreads(above: count) }
        var config = BalancerConfig(global: global)
        for draft in proxies {
            ProxyAssembly.add(draft, global: global, to: &config)
        }
        ConfigValidation.check(config, proxies: proxies, sink: &sink)
        // Semantic checks ran last but point at earlier lines: report everything in file and line order,
        // keeping the order of messages about the same line; messages without a line come last.
        let ordered = sink.items.enumerated().sorted { lhs, rhs in
            let left = key(lhs.element.location)
            let right = key(rhs.element.location)
            return left != right ? left < right : lhs.offset < rhs.offset
        }
        return ConfigParseResult(config: config, diagnostics: ordered.map(\.element))
    }

    private func key(_ location: SourceLocation?) -> SortKey {
        guard let location else { return SortKey(file: Int.max, line: Int.max) }
        return SortKey(file: fileOrder[location.file] ?? Int.max - 1, line: location.line)
    }
}
