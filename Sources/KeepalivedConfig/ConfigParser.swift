/// The parser proper: reads the main file and its includes into statements, walks them with one keyword
/// table per block, then resolves cross references (tracked scripts, global defaults) and checks what
/// Keepalived checks once everything is read. Every problem becomes a diagnostic; nothing stops the run.
struct ConfigParser {
    let source: ConfigSource
    let mainFile: String
    var diagnostics: [Diagnostic] = []
    var config: VRRPConfig
    /// Files in the order they were first read, to sort diagnostics in reading order.
    var fileOrder: [String] = []
    var pendingInstances: [PendingInstance] = []
    /// Track-script/process items with the weight written on the item (nil when inherited).
    struct PendingTrack {
        var name: String
        var location: ConfigLocation
        var weight: Int?
        var reverse: Bool?
    }
    struct PendingInstance {
        var instance: VRRPInstanceBlock
        var advertMicroseconds: Int?
        var nopreempt: ConfigLocation?
        var trackScripts: [PendingTrack] = []
        var trackProcesses: [PendingTrack] = []
        var authentication: Authentication?
        /// An invalid VIP line was already reported, which explains an empty `virtual_ipaddress`.
        var hadInvalidVIP = false
    }

    /// Includes nested deeper than this are a loop (Keepalived's own limit is similar).
    static let maximumIncludeDepth = 8

    init(source: ConfigSource, mainFile: String) {
        self.source = source
        self.mainFile = mainFile
        config = VRRPConfig(
            file: mainFile,
            global: GlobalDefinitions(location: ConfigLocation(file: mainFile, line: 1))
        )
    }

    mutating func run(text: String?) -> ParseResult {
        let statements: [Statement]
        if let text {
            statements = read(text: text, file: mainFile, depth: 0)
        } else {
            do {
                let text = try source.read(mainFile)
                statements = read(text: text, file: mainFile, depth: 0)
            } catch {
                diagnostics.append(.error(nil, "Configuration file '\(mainFile)' could not be read: \(error)"))
                statements = []
            }
        }
        for statement in statements { topLevel(statement) }
        finish()
        return ParseResult(config: config, diagnostics: sortedDiagnostics())
    }

    // MARK: - Reading and includes

    private mutating func read(text: String, file: String, depth: Int) -> [Statement] {
        if !fileOrder.contains(file) { fileOrder.append(file) }
        var reader = StatementReader()
        let statements = reader.read(text: text, file: file)
        diagnostics += reader.diagnostics
        return expandIncludes(statements, file: file, depth: depth)
    }

    /// Replaces `include GLOB` statements, at any depth, by the statements of the matching files, in glob order.
    /// Relative patterns are relative to the including file's directory (keepalived.conf(5), "include").
    private mutating func expandIncludes(_ statements: [Statement], file: String, depth: Int) -> [Statement] {
        var result: [Statement] = []
        for var statement in statements {
            guard statement.keyword == "include", statement.words.first?.quoted == false else {
                if let block = statement.block { statement.block = expandIncludes(block, file: file, depth: depth) }
                result.append(statement)
                continue
            }
            guard statement.words.count == 2, statement.block == nil else {
                diagnostics.append(.error(statement.location, "include requires exactly one file name or pattern"))
                continue
            }
            let pattern = ConfigPath.resolve(statement.words[1].text, relativeTo: ConfigPath.directory(of: file))
            if depth >= Self.maximumIncludeDepth {
                diagnostics.append(
                    .error(statement.location, "include '\(statement.words[1].text)' nested too deeply (include loop?)")
                )
                continue
            }
            let files = IncludePattern.hasWildcard(pattern) ? IncludePattern.expand(pattern, source: source) : [pattern]
            if files.isEmpty {
                // Keepalived's plain `include` does not fail on a pattern without match; say so, since a
                // misspelt directory silently dropping half the config is exactly what burns operators.
                diagnostics.append(.warning(statement.location, "include '\(statement.words[1].text)' matches no file"))
            }
            for included in files {
                do {
                    let text = try source.read(included)
                    result += read(text: text, file: included, depth: depth + 1)
                } catch {
                    diagnostics.append(.error(statement.location, "Could not open included file '\(included)'"))
                }
            }
        }
        return result
    }

    // MARK: - Diagnostics helpers

    mutating func error(_ location: ConfigLocation?, _ message: String) {
        diagnostics.append(.error(location, message))
    }

    mutating func warning(_ location: ConfigLocation?, _ message: String) {
        diagnostics.append(.warning(location, message))
    }

    /// Unknown or not-yet-supported keyword in `table`'s block.
    mutating func unknownKeyword(_ statement: Statement, in table: KeywordTable) {
        let keyword = statement.keyword
        if table.notSupported.contains(keyword) {
            error(statement.location, "Keyword '\(keyword)' is not supported yet")
        } else if let suggestion = Suggestion.closest(to: keyword, in: table.all) {
            error(statement.location, "Unknown keyword '\(keyword)' - did you mean '\(suggestion)'?")
        } else {
            error(statement.location, "Unknown keyword '\(keyword)'")
        }
    }

    /// Checks that a simple keyword has no block and between `minimum` and `maximum` arguments.
    mutating func expectArguments(_ statement: Statement, _ minimum: Int, _ maximum: Int, context: String = "") -> Bool
    {
        if statement.block != nil {
            error(statement.location, "\(context)'\(statement.keyword)' does not take a '{' block")
            return false
        }
        let count = statement.arguments.count
        if count < minimum {
            error(statement.location, "\(context)'\(statement.keyword)' requires a value")
            return false
        }
        if count > maximum {
            let extra = statement.words[maximum + 1].text
            error(statement.location, "\(context)Unexpected argument '\(extra)' after '\(statement.keyword)'")
            return false
        }
        return true
    }

    /// Checks that a block keyword has a block (and the given number of arguments before it).
    mutating func expectBlock(_ statement: Statement, arguments: Int, context: String = "") -> [Statement]? {
        guard let block = statement.block else {
            error(statement.location, "\(context)'\(statement.keyword)' requires a '{' block")
            return nil
        }
        if statement.arguments.count > arguments {
            let extra = statement.words[arguments + 1].text
            error(statement.location, "\(context)Unexpected argument '\(extra)' after '\(statement.keyword)'")
        }
        return block
    }

    /// An integer argument in `range`; `message` is reported otherwise.
    mutating func integer(
        _ statement: Statement, at index: Int = 1, in range: ClosedRange<Int>,
        message: String
    ) -> Int? {
        guard index < statement.words.count, let value = ValueParsing.integer(statement.words[index].text),
            range.contains(value)
        else {
            error(statement.location, message)
            return nil
        }
        return value
    }

    private func sortedDiagnostics() -> [Diagnostic] {
        let order = Dictionary(uniqueKeysWithValues: fileOrder.enumerated().map { ($1, $0) })
        return diagnostics.enumerated().sorted { lhs, rhs in
            let l = lhs.element.location.map { (order[$0.file] ?? Int.max, $0.line) } ?? (Int.max, Int.max)
            let r = rhs.element.location.map { (order[$0.file] ?? Int.max, $0.line) } ?? (Int.max, Int.max)
            if l != r { return l < r }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    // MARK: - Top level

    private mutating func topLevel(_ statement: Statement) {
        let keyword = statement.keyword
        switch keyword {
        case "global_defs":
            guard let block = expectBlock(statement, arguments: 0) else { return }
            globalDefinitions(block, location: statement.location)
        case "vrrp_script", "vrrp_track_process", "vrrp_instance":
            guard statement.words.count >= 2 else {
                error(statement.location, "\(keyword) requires a name")
                return
            }
            guard let block = expectBlock(statement, arguments: 1) else { return }
            let name = statement.words[1].text
            if keyword == "vrrp_script" {
                vrrpScript(name: name, block, location: statement.location)
            } else if keyword == "vrrp_track_process" {
                vrrpTrackProcess(name: name, block, location: statement.location)
            } else {
                vrrpInstance(name: name, block, location: statement.location)
            }
        default:
            if keyword.hasPrefix("$") || keyword.hasPrefix("@") || keyword.hasPrefix("~") {
                error(statement.location, "Parameter substitution and conditional configuration are not supported yet")
            } else {
                unknownKeyword(statement, in: .topLevel)
            }
        }
    }

    // MARK: - global_defs

    private mutating func globalDefinitions(_ block: [Statement], location: ConfigLocation) {
        var global = config.global
        global.location = location
        for statement in block {
            let keyword = statement.keyword
            switch keyword {
            case "router_id":
                guard expectArguments(statement, 1, 1) else { continue }
                global.routerID = statement.words[1].text
            case "script_user":
                guard expectArguments(statement, 1, 2) else { continue }
                global.scriptUser = ScriptUser(
                    user: statement.words[1].text, group: statement.words.count > 2 ? statement.words[2].text : nil
                )
            case "enable_script_security":
                guard expectArguments(statement, 0, 0) else { continue }
                global.enableScriptSecurity = true
            case "vrrp_skip_check_adv_addr":
                guard expectArguments(statement, 0, 0) else { continue }
                global.skipCheckAdvertAddresses = true
            case "vrrp_version":
                guard expectArguments(statement, 1, 1),
                    let value = integer(statement, in: 2...3, message: "vrrp_version must be either 2 or 3")
                else { continue }
                global.vrrpVersion = value
            case "vrrp_garp_master_delay":
                guard expectArguments(statement, 1, 1),
                    let value = integer(
                        statement, in: 0...86400,
                        message: "vrrp_garp_master_delay '\(statement.words[1].text)' invalid")
                else { continue }
                global.garpMasterDelay = .seconds(value)
            case "vrrp_garp_master_repeat":
                guard expectArguments(statement, 1, 1),
                    let value = integer(
                        statement, in: 1...Int(Int32.max),
                        message: "vrrp_garp_master_repeat must be greater than 0")
                else { continue }
                global.garpMasterRepeat = value
            case "vrrp_garp_master_refresh":
                guard expectArguments(statement, 1, 1),
                    let value = integer(
                        statement, in: 0...86400,
                        message: "vrrp_garp_master_refresh '\(statement.words[1].text)' invalid")
                else { continue }
                global.garpMasterRefresh = .seconds(value)
            case "vrrp_garp_master_refresh_repeat":
                guard expectArguments(statement, 1, 1),
                    let value = integer(
                        statement, in: 1...Int(Int32.max),
                        message: "vrrp_garp_master_refresh_repeat must be greater than 0")
                else { continue }
                global.garpMasterRefreshRepeat = value
            default:
                unknownKeyword(statement, in: .globalDefinitions)
                continue
            }
            global.keywordLocations[keyword] = statement.location
        }
        config.global = global
    }
}
