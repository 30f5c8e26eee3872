/// `global` keywords that only matter to TLS (`ca-base`, `crt-base`, `ssl-default-*`, `ssl-dh-param-file`,
/// `tune.ssl.default-dh-param`) and `chroot`, which Portico accepts without applying.
/// Diagnostics are worded as HAProxy 2.6's `haproxy -c` words them.
extension GlobalKeywords {
    static let tlsTable: [String: Parse] = [
        "ca-base": { line, global, sink in
            if let path = baseDirectory(line, current: global.tls.caBase, &sink) { global.tls.caBase = path }
        },
        "crt-base": { line, global, sink in
            if let path = baseDirectory(line, current: global.tls.crtBase, &sink) { global.tls.crtBase = path }
        },
        "ssl-default-bind-ciphers": { line, global, sink in
            if let list = cipherList(line, &sink) { global.tls.bind.ciphers = list }
        },
        "ssl-default-bind-ciphersuites": { line, global, sink in
            if let list = cipherList(line, &sink) { global.tls.bind.cipherSuites = list }
        },
        "ssl-default-server-ciphers": { line, global, sink in
            if let list = cipherList(line, &sink) { global.tls.server.ciphers = list }
        },
        "ssl-default-server-ciphersuites": { line, global, sink in
            if let list = cipherList(line, &sink) { global.tls.server.cipherSuites = list }
        },
        "ssl-default-bind-options": { line, global, sink in
            parseOptions(line, into: &global.tls.bind.options, bindSide: true, &sink)
        },
        "ssl-default-server-options": { line, global, sink in
            parseOptions(line, into: &global.tls.server.options, bindSide: false, &sink)
        },
        "ssl-dh-param-file": { line, global, sink in
            guard expectNothingAfter(line, consumed: 2, keyword: line.keyword, &sink) else { return }
            guard let path = line.word(1) else {
                sink.alert("'ssl-dh-param-file' expects a file path as an argument.", line)
                return
            }
            global.tls.dhParamFile = path
        },
        "tune.ssl.default-dh-param": { line, global, sink in
            guard expectNothingAfter(line, consumed: 2, keyword: line.keyword, &sink) else { return }
            guard let text = line.word(1) else {
                sink.alert("'tune.ssl.default-dh-param' expects an integer argument.", line)
                return
            }
            guard let bits = Values.integer(text), bits >= 1024 else {
                sink.alert("'tune.ssl.default-dh-param' expects a value >= 1024.", line)
                return
            }
            global.tls.defaultDHParamBits = bits
        },
        "chroot": parseChroot,
    ]

    /// `ca-base DIR` / `crt-base DIR`: one directory, given once (a second line is fatal in HAProxy).
    private static func baseDirectory(_ line: ConfigLine, current: String?, _ sink: inout DiagnosticSink) -> String? {
        guard expectNothingAfter(line, consumed: 2, keyword: line.keyword, &sink) else { return nil }
        guard current == nil else {
            sink.alert("'\(line.keyword)' already specified.", line)
            return nil
        }
        guard let path = line.word(1) else {
            sink.alert("global statement '\(line.keyword)' expects a directory path as an argument.", line)
            return nil
        }
        return path
    }

    /// `ssl-default-{bind,server}-{ciphers,ciphersuites} LIST`: one word; a later line replaces it.
    /// The list is not checked against OpenSSL's cipher names (HAProxy 2.6 does not either at parse time).
    private static func cipherList(_ line: ConfigLine, _ sink: inout DiagnosticSink) -> String? {
        guard expectNothingAfter(line, consumed: 2, keyword: line.keyword, &sink) else { return nil }
        guard let list = line.word(1) else {
            sink.alert("global statement '\(line.keyword)' expects a cipher suite as an argument.", line)
            return nil
        }
        return list
    }

    /// `ssl-default-{bind,server}-options OPT...`: every option word of HAProxy 2.6's; `prefer-client-ciphers`
    /// only on the bind side. The line is applied only if every word is valid.
    private static func parseOptions(
        _ line: ConfigLine, into options: inout TLSOptions, bindSide: Bool, _ sink: inout DiagnosticSink
    ) {
        let keyword = line.keyword
        guard line.words.count > 1 else {
            sink.alert("global statement '\(keyword)' expects an option as an argument.", line)
            return
        }
        var parsed = options
        var index = 1
        while let word = line.word(index) {
            switch word {
            case "no-tls-tickets":
                parsed.noTLSTickets = true
            case "prefer-client-ciphers" where bindSide:
                parsed.preferClientCiphers = true
            case "ssl-min-ver", "ssl-max-ver":
                guard let text = line.word(index + 1) else {
                    sink.alert("'\(word)' : missing the ssl/tls version on global statement '\(keyword)'.", line)
                    return
                }
                guard let version = TLSVersion(rawValue: text) else {
                    sink.alert("'\(text)' : unknown ssl/tls version on global statement '\(keyword)'.", line)
                    return
                }
                if word == "ssl-min-ver" { parsed.minVersion = version } else { parsed.maxVersion = version }
                index += 1
            default:
                if let version = TLSVersion.allCases.first(where: { word == "no-" + $0.optionSuffix }) {
                    parsed.disabledVersions.insert(version)
                } else if let version = TLSVersion.allCases.first(where: { word == "force-" + $0.optionSuffix }) {
                    parsed.forcedVersions.insert(version)
                } else {
                    sink.alert("unknown option '\(word)' on global statement '\(keyword)'.", line)
                    return
                }
            }
            index += 1
        }
        options = parsed
    }

    /// `chroot DIR` is accepted but not applied: Portico reloads in-process (SIGHUP re-reads the configuration
    /// files from their paths) and resolves server and log hostnames at run time, which a chroot would break.
    /// A warning says so and gives the systemd way to confine the service.
    private static func parseChroot(_ line: ConfigLine, _ global: inout GlobalSettings, _ sink: inout DiagnosticSink) {
        guard expectNothingAfter(line, consumed: 2, keyword: "chroot", &sink) else { return }
        guard global.chroot == nil else {
            // HAProxy prints this as an alert that does not make the configuration invalid.
            sink.warning("'chroot' already specified. Continuing.", line)
            return
        }
        guard let directory = line.word(1) else {
            sink.alert("'chroot' expects a directory as an argument.", line)
            return
        }
        global.chroot = directory
        sink.warning(chrootWarning(directory), line)
    }

    static func chrootWarning(_ directory: String) -> String {
        "'chroot \(directory)' is accepted but not applied: Portico reloads in-process (SIGHUP re-reads the "
            + "configuration files) and resolves hostnames at run time, which a chroot would break. "
            + "To confine it, use its systemd unit instead: RootDirectory=, or ProtectSystem=strict with "
            + "ReadOnlyPaths=/ReadWritePaths=."
    }
}
