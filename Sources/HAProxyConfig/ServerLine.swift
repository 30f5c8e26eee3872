/// `server NAME ADDR:PORT [options]` and `default-server [options]`.
enum ServerLine {
    static let supportedOptions: Set<String> = [
        "check", "no-check", "inter", "fastinter", "downinter", "fall", "rise", "weight", "backup", "no-backup",
        "disabled", "enabled", "maxconn", "port", "addr", "slowstart",
    ]

    static func parse(
        _ line: ConfigLine, isDefaultServer: Bool, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        var options = draft.settings.defaultServer
        var index: Int
        var prefix: String
        var parsedAddress: ServerAddress? = nil
        var name = ""
        if isDefaultServer {
            prefix = "'default-server'"
            index = 1
        } else {
            guard let serverName = line.word(1), let addressText = line.word(2) else {
                sink.alert("'server' expects <name> and <addr>[:<port>] as arguments.", line)
                return
            }
            name = serverName
            prefix = "'server \(draft.name)/\(name)'"
            if let bad = Values.invalidNameCharacter(name) {
                sink.alert("\(prefix) : invalid character '\(bad)' in server name.", line)
                return
            }
            switch Values.hostAndPort(addressText) {
            case .success(let (host, port)):
                if host == .anyIPv4 || host == .anyIPv6 {
                    sink.alert("\(prefix) : invalid address: '\(addressText)' (a server needs a real address).", line)
                } else {
                    parsedAddress = ServerAddress(host: host, port: port)
                }
            case .failure(.missingPort):
                sink.alert(
                    "\(prefix) : missing port in address '\(addressText)'; Portico needs <addr>:<port>.", line)
            case .failure(.invalidPort(let port)):
                sink.alert("\(prefix) : invalid port '\(port)' in address '\(addressText)'.", line)
            case .failure(.invalidAddress):
                sink.alert("\(prefix) : invalid address: '\(addressText)'.", line)
            case .failure(.unsupportedFamily(let family)):
                sink.alert("\(prefix) : '\(family)' server addresses are not supported yet by Portico", line)
            }
            index = 3
        }

        var valid = true
        while let option = line.word(index) {
            let value = line.word(index + 1)
            var consumed = 2
            switch option {
            case "check":
                options.check = true
                consumed = 1
            case "no-check":
                options.check = false
                consumed = 1
            case "backup":
                options.backup = true
                consumed = 1
            case "no-backup":
                options.backup = false
                consumed = 1
            case "disabled":
                options.disabled = true
                consumed = 1
            case "enabled":
                options.disabled = false
                consumed = 1
            case "inter", "fastinter", "downinter", "slowstart":
                guard let duration = time(option, value, prefix, line, &sink) else {
                    valid = false
                    break
                }
                switch option {
                case "inter": options.inter = duration
                case "fastinter": options.fastInter = duration
                case "downinter": options.downInter = duration
                default: options.slowStart = duration
                }
            case "fall", "rise":
                guard let count = integer(option, value, 1...Int.max, prefix, line, &sink) else {
                    valid = false
                    break
                }
                if option == "fall" { options.fall = count } else { options.rise = count }
            case "weight":
                guard let weight = integer(option, value, 0...Server.maxWeight, prefix, line, &sink) else {
                    valid = false
                    break
                }
                options.weight = weight
            case "maxconn":
                guard let count = integer(option, value, 0...Int.max, prefix, line, &sink) else {
                    valid = false
                    break
                }
                options.maxConn = count == 0 ? nil : count
            case "port":
                guard let port = integer(option, value, 1...65535, prefix, line, &sink) else {
                    valid = false
                    break
                }
                options.checkPort = port
            case "addr":
                guard let value else {
                    sink.alert("\(prefix) : 'addr' expects <ipv4|ipv6> as an argument.", line)
                    valid = false
                    break
                }
                if let bytes = Values.ipv4(Substring(value)), bytes != [0, 0, 0, 0] {
                    options.checkAddress = .ipv4(value)
                } else if Values.ipv6(Substring(value)) != nil {
                    options.checkAddress = .ipv6(value)
                } else if Values.isHostName(Substring(value)) {
                    options.checkAddress = .name(value)
                } else {
                    sink.alert("\(prefix) : invalid address '\(value)' for 'addr'.", line)
                    valid = false
                }
            default:
                if HAProxyKeywords.serverOptions.contains(option) {
                    sink.alert("\(prefix) : '\(option)' is not supported yet by Portico", line)
                } else {
                    let candidates = HAProxyKeywords.serverOptions.union(supportedOptions)
                    sink.alert(
                        "\(prefix) : unknown keyword '\(option)'"
                            + (Suggestion.closest(to: option, in: candidates).map { "; did you mean '\($0)'?" } ?? "."),
                        line)
                }
                // The position of the next option is unknown after an unknown one.
                return
            }
            index += consumed
        }
        guard valid else { return }

        if isDefaultServer {
            draft.settings.defaultServer = options
            return
        }
        guard let address = parsedAddress else { return }
        if let existing = draft.servers.first(where: { $0.name == name }) {
            sink.alert(
                "backend '\(draft.name)', another server named '\(name)' was already defined at line "
                    + "\(existing.location.line), please use distinct names.", line)
            return
        }
        draft.servers.append(
            Server(
                name: name, address: address, location: line.location, checkEnabled: options.check,
                checkInterval: options.inter, fastInterval: options.fastInter, downInterval: options.downInter,
                fall: options.fall, rise: options.rise, weight: options.weight, isBackup: options.backup,
                isDisabled: options.disabled, maxConn: options.maxConn, checkPort: options.checkPort,
                checkAddress: options.checkAddress, slowStart: options.slowStart))
    }

    private static func time(
        _ option: String, _ value: String?, _ prefix: String, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> Duration? {
        guard let value else {
            sink.alert("\(prefix) : '\(option)' expects <time> as an argument.", line)
            return nil
        }
        switch Values.time(value) {
        case .success(let duration):
            // A zero check interval would spin; HAProxy refuses it too.
            if duration == .zero && option != "slowstart" {
                sink.alert("\(prefix) : '\(option)' expects a positive delay (got '\(value)').", line)
                return nil
            }
            return duration
        case .failure(let error):
            sink.alert("\(prefix) : " + timeError(error, text: value, keyword: option), line)
            return nil
        }
    }

    private static func integer(
        _ option: String, _ value: String?, _ range: ClosedRange<Int>, _ prefix: String, _ line: ConfigLine,
        _ sink: inout DiagnosticSink
    ) -> Int? {
        guard let value, let number = Values.integer(value), range.contains(number) else {
            let bounds =
                range.upperBound == Int.max
                ? "an integer of at least \(range.lowerBound)"
                : "an integer between \(range.lowerBound) and \(range.upperBound)"
            sink.alert("\(prefix) : '\(option)' expects \(bounds) (got '\(value ?? "")').", line)
            return nil
        }
        return number
    }
}

/// `bind ADDR:PORT[,ADDR:PORT...] [name N] [v4v6|v6only]`.
enum BindLine {
    static func parse(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard let list = line.word(1) else {
            sink.alert("'bind' expects [addr1]:port1[-end1]{,[addr]:port[-end]}... as arguments.", line)
            return
        }
        draft.bindLines += 1
        var name: String? = nil
        var v6Only: Bool? = nil
        var index = 2
        while let option = line.word(index) {
            switch option {
            case "name":
                guard let value = line.word(index + 1) else {
                    sink.alert("'bind \(list)' : missing name.", line)
                    return
                }
                name = value
                index += 2
            case "v4v6":
                v6Only = false
                index += 1
            case "v6only":
                v6Only = true
                index += 1
            default:
                if HAProxyKeywords.bindOptions.contains(option) {
                    sink.alert("'bind \(list)' : '\(option)' is not supported yet by Portico", line)
                } else {
                    let candidates = HAProxyKeywords.bindOptions
                    sink.alert(
                        "'bind \(list)' unknown keyword '\(option)'"
                            + (Suggestion.closest(to: option, in: candidates).map { "; did you mean '\($0)'?" } ?? "."),
                        line)
                }
                return
            }
        }
        var binds: [Bind] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if let dash = item.lastIndex(of: "-"), let colon = item.lastIndex(of: ":"), dash > colon {
                sink.alert("'bind' : port ranges ('\(item)') are not supported yet by Portico", line)
                return
            }
            switch Values.hostAndPort(item) {
            case .success(let (host, port)):
                if case .name = host {
                    sink.alert("'bind' : invalid address: '\(host)' in '\(item)' (bind needs an IP address).", line)
                    return
                }
                binds.append(
                    Bind(
                        address: BindAddress(host: host, port: port), text: item, location: line.location, name: name,
                        v6Only: v6Only))
            case .failure(.missingPort):
                sink.alert("'bind' : missing port number: '\(item)'", line)
                return
            case .failure(.invalidPort(let port)):
                sink.alert("'bind' : invalid port '\(port)' in '\(item)'", line)
                return
            case .failure(.invalidAddress(let host)):
                sink.alert("'bind' : invalid address: '\(host)' in '\(item)'", line)
                return
            case .failure(.unsupportedFamily(let family)):
                sink.alert("'bind' : '\(family)' listeners are not supported yet by Portico", line)
                return
            }
        }
        draft.binds += binds
    }
}
