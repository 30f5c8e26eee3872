extension ConfigParser {
    // MARK: - vrrp_script

    mutating func vrrpScript(name: String, _ block: [Statement], location: ConfigLocation) {
        if let existing = config.script(named: name) {
            error(location, "vrrp_script \(name) already defined at \(existing.location)")
            return
        }
        var script = VRRPScript(name: name, location: location)
        let context = "(\(name)): "
        for statement in block {
            let keyword = statement.keyword
            let value = statement.words.count > 1 ? statement.words[1].text : ""
            switch keyword {
            case "script":
                guard expectArguments(statement, 1, Int.max, context: context) else { continue }
                script.command = commandWords(statement.arguments)
            case "interval":
                // keepalived.conf(5): "seconds between script invocations, (default: 1 second)"; whole seconds
                // only, as Keepalived 2.2.7 rejects `interval 0.5`.
                guard expectArguments(statement, 1, 1, context: context),
                    let seconds = integer(
                        statement, in: 1...4294,
                        message: "\(context)vrrp script interval '\(value)' must be between 1 and 4294")
                else { continue }
                script.interval = .seconds(seconds)
            case "timeout":
                guard expectArguments(statement, 1, 1, context: context),
                    let seconds = integer(
                        statement, in: 1...4294,
                        message: "\(context)vrrp script timeout '\(value)' invalid")
                else { continue }
                script.timeout = .seconds(seconds)
            case "fall", "rise":
                guard expectArguments(statement, 1, 1, context: context),
                    let count = integer(
                        statement, in: 1...Int(Int32.max),
                        message: "\(context)vrrp script \(keyword) value '\(value)' invalid")
                else { continue }
                if keyword == "fall" { script.fall = count } else { script.rise = count }
            case "weight":
                guard expectArguments(statement, 1, 2, context: context),
                    let weight = integer(
                        statement, in: -253...253,
                        message: "vrrp_script \(name) weight \(value) must be in [-253, 253]"),
                    let reverse = reverseFlag(statement, at: 2, context: context)
                else { continue }
                script.weight = weight
                script.reverse = reverse
            case "user":
                guard expectArguments(statement, 1, 2, context: context) else { continue }
                script.user = ScriptUser(
                    user: value, group: statement.words.count > 2 ? statement.words[2].text : nil
                )
            case "init_fail":
                guard expectArguments(statement, 0, 0, context: context) else { continue }
                script.initFail = true
            default:
                unknownKeyword(statement, in: .script)
                continue
            }
            script.keywordLocations[keyword] = statement.location
        }
        if script.command.isEmpty {
            error(location, "\(context)No script specified for vrrp_script")
        }
        config.scripts.append(script)
    }

    /// `reverse`, `noreverse` or `no_reverse` after a weight; nil (with an error) for anything else.
    mutating func reverseFlag(_ statement: Statement, at index: Int, context: String) -> Bool? {
        guard index < statement.words.count else { return false }
        switch statement.words[index].text {
        case "reverse": return true
        case "noreverse", "no_reverse": return false
        default:
            error(statement.location, "\(context)Unknown option '\(statement.words[index].text)' after weight")
            return nil
        }
    }

    /// The words of a script command: one quoted string is split like a shell would, bare words are kept.
    func commandWords(_ words: ArraySlice<Word>) -> [String] {
        words.flatMap { word in word.quoted ? ValueParsing.commandWords(word.text) : [word.text] }
    }

    // MARK: - vrrp_track_process

    mutating func vrrpTrackProcess(name: String, _ block: [Statement], location: ConfigLocation) {
        if let existing = config.trackProcess(named: name) {
            error(location, "vrrp_track_process \(name) already defined at \(existing.location)")
            return
        }
        var process = VRRPTrackProcess(name: name, location: location)
        let context = "(\(name)): "
        for statement in block {
            let keyword = statement.keyword
            let value = statement.words.count > 1 ? statement.words[1].text : ""
            switch keyword {
            case "process":
                // A quoted string is one element here (keepalived.conf(5)), unlike a script command.
                guard expectArguments(statement, 1, Int.max, context: context) else { continue }
                process.process = statement.arguments.map(\.text)
            case "param_match":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                switch value {
                case "initial": process.parameterMatch = .initial
                case "partial": process.parameterMatch = .partial
                default:
                    error(
                        statement.location, "\(context)Unknown param_match type '\(value)' - must be initial or partial"
                    )
                    continue
                }
            case "weight":
                guard expectArguments(statement, 1, 2, context: context),
                    let weight = integer(
                        statement, in: -254...254,
                        message:
                            "Weight (\(value)) for vrrp_track_process \(name) must be between [-254..254] inclusive"
                    ),
                    let reverse = reverseFlag(statement, at: 2, context: context)
                else { continue }
                process.weight = weight
                process.reverse = reverse
            case "quorum":
                guard expectArguments(statement, 1, 1, context: context),
                    let quorum = integer(
                        statement, in: 1...65535,
                        message: "Quorum (\(value)) for vrrp_track_process \(name) must be between [1..65535] inclusive"
                    )
                else { continue }
                process.quorum = quorum
            case "quorum_max":
                guard expectArguments(statement, 1, 1, context: context),
                    let maximum = integer(
                        statement, in: 0...65535,
                        message:
                            "Quorum max (\(value)) for vrrp_track_process \(name) must be between [0..65535] inclusive"
                    )
                else { continue }
                process.quorumMax = maximum
            case "delay", "fork_delay", "terminate_delay":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                guard let microseconds = ValueParsing.microseconds(value), (1...3_600_000_000).contains(microseconds)
                else {
                    error(
                        statement.location,
                        "\(keyword) (\(value)) for vrrp_track_process \(name) "
                            + "must be between [0.000001..3600] inclusive"
                    )
                    continue
                }
                if keyword != "terminate_delay" { process.forkDelay = .microseconds(microseconds) }
                if keyword != "fork_delay" { process.terminateDelay = .microseconds(microseconds) }
            default:
                unknownKeyword(statement, in: .trackProcess)
                continue
            }
            process.keywordLocations[keyword] = statement.location
        }
        if process.process.isEmpty {
            error(location, "\(context)No process specified for vrrp_track_process")
        }
        config.trackProcesses.append(process)
    }
}
