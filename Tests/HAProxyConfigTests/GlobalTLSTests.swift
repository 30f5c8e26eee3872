import Testing

@testable import HAProxyConfig

/// `ca-base`, `crt-base`, `ssl-default-*`, the DH settings and `chroot` in `global`, with the diagnostics
/// HAProxy 2.6.12's `haproxy -c` prints for the same lines.
@Suite struct GlobalTLSAndChrootTests {
    /// Debian's stock /etc/haproxy/haproxy.cfg (haproxy 2.6.12-1+deb12u4) without its `errorfile` lines,
    /// byte for byte (tabs and the eight-space lines included).
    static let debianStock = """
        global
        \tlog /dev/log\tlocal0
        \tlog /dev/log\tlocal1 notice
        \tchroot /var/lib/haproxy
        \tstats socket /run/haproxy/admin.sock mode 660 level admin
        \tstats timeout 30s
        \tuser haproxy
        \tgroup haproxy
        \tdaemon

        \t# Default SSL material locations
        \tca-base /etc/ssl/certs
        \tcrt-base /etc/ssl/private

        \t# See: https://ssl-config.mozilla.org/#server=haproxy&server-version=2.0.3&config=intermediate
                ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
        ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
        ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384
                ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
                ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets

        defaults
        \tlog\tglobal
        \tmode\thttp
        \toption\thttplog
        \toption\tdontlognull
                timeout connect 5000
                timeout client  50000
                timeout server  50000

        """

    @Test("Debian's stock global and defaults load with exactly the chroot warning")
    func debianStockFile() throws {
        let result = parse(Self.debianStock, quiet: false)
        #expect(
            result.report == ["[WARNING] parsing [t.cfg:4] : " + GlobalKeywords.chrootWarning("/var/lib/haproxy")])
        #expect(!result.hasAlerts)
        let global = result.config.global
        #expect(global.chroot == "/var/lib/haproxy")
        #expect(
            global.logTargets.map(\.destination) == [.unixSocket(path: "/dev/log"), .unixSocket(path: "/dev/log")])
        #expect(global.logTargets.map(\.facility) == [.local0, .local1])
        #expect(global.logTargets[1].level == .notice)
        #expect(global.tls.caBase == "/etc/ssl/certs")
        #expect(global.tls.crtBase == "/etc/ssl/private")
        #expect(
            global.tls.bind.ciphers
                == "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384")
        #expect(
            global.tls.bind.cipherSuites
                == "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
        #expect(global.tls.bind.options == TLSOptions(minVersion: .tlsv12, noTLSTickets: true))
        #expect(global.tls.server == TLSDefaults())
    }

    @Test("every TLS global keyword is kept with its value")
    func acceptedForms() {
        let result = parse(
            """
            global
                ca-base /etc/ssl/certs
                crt-base /etc/ssl/private
                ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256
                ssl-default-bind-ciphers ECDHE-RSA-AES256-GCM-SHA384
                ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
                ssl-default-bind-options ssl-min-ver SSLv3 ssl-max-ver TLSv1.3 prefer-client-ciphers
                ssl-default-bind-options no-sslv3 no-tlsv10 no-tlsv11 force-tlsv12 no-tls-tickets ssl-min-ver TLSv1.2
                ssl-default-server-ciphers AES256-SHA
                ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384
                ssl-default-server-options no-tlsv13 force-tlsv13 force-sslv3 ssl-max-ver TLSv1.1
                ssl-dh-param-file /etc/haproxy/dhparam.pem
                tune.ssl.default-dh-param 2048
            """)
        #expect(result.report == [])
        let tls = result.config.global.tls
        #expect(tls.caBase == "/etc/ssl/certs")
        #expect(tls.crtBase == "/etc/ssl/private")
        // A later cipher line replaces the earlier one; option lines add up, the last ssl-min-ver wins.
        #expect(tls.bind.ciphers == "ECDHE-RSA-AES256-GCM-SHA384")
        #expect(tls.bind.cipherSuites == "TLS_AES_128_GCM_SHA256")
        #expect(
            tls.bind.options
                == TLSOptions(
                    minVersion: .tlsv12, maxVersion: .tlsv13, disabledVersions: [.sslv3, .tlsv10, .tlsv11],
                    forcedVersions: [.tlsv12], noTLSTickets: true, preferClientCiphers: true))
        #expect(tls.server.ciphers == "AES256-SHA")
        #expect(tls.server.cipherSuites == "TLS_AES_256_GCM_SHA384")
        #expect(
            tls.server.options
                == TLSOptions(maxVersion: .tlsv11, disabledVersions: [.tlsv13], forcedVersions: [.tlsv13, .sslv3]))
        #expect(tls.dhParamFile == "/etc/haproxy/dhparam.pem")
        #expect(tls.defaultDHParamBits == 2048)
        #expect(result.config.global.chroot == nil)
    }

    /// One broken `global` body (after `global` on line 6) and what `haproxy -c` 2.6.12 prints for it.
    struct Case: CustomTestStringConvertible, Sendable {
        let lines: [String]
        let expected: [String]
        var testDescription: String { lines.joined(separator: " / ") }
    }

    /// `[ALERT] parsing [t.cfg:LINE] : MESSAGE`.
    static func alert(_ line: Int, _ message: String) -> String {
        "[ALERT] parsing [t.cfg:\(line)] : " + message
    }

    static func warning(_ line: Int, _ message: String) -> String {
        "[WARNING] parsing [t.cfg:\(line)] : " + message
    }

    static let brokenCases: [Case] = {
        var cases: [Case] = []
        func add(_ lines: [String], _ expected: [String]) { cases.append(Case(lines: lines, expected: expected)) }
        for keyword in ["ca-base", "crt-base"] {
            add([keyword], [alert(7, "global statement '\(keyword)' expects a directory path as an argument.")])
            add([keyword + " /a /b"], [alert(7, "'\(keyword)' cannot handle unexpected argument '/b'.")])
            add([keyword + " /a", keyword + " /b"], [alert(8, "'\(keyword)' already specified.")])
            // The argument count is checked first, then the repetition, then the missing argument, as in HAProxy.
            add(
                [keyword + " /a", keyword + " /b /c"],
                [alert(8, "'\(keyword)' cannot handle unexpected argument '/c'.")])
            add([keyword + " /a", keyword], [alert(8, "'\(keyword)' already specified.")])
        }
        for side in ["bind", "server"] {
            for kind in ["ciphers", "ciphersuites"] {
                let keyword = "ssl-default-\(side)-\(kind)"
                add([keyword], [alert(7, "global statement '\(keyword)' expects a cipher suite as an argument.")])
                add([keyword + " A B"], [alert(7, "'\(keyword)' cannot handle unexpected argument 'B'.")])
            }
            let keyword = "ssl-default-\(side)-options"
            add([keyword], [alert(7, "global statement '\(keyword)' expects an option as an argument.")])
            add(
                [keyword + " no-tlsv13 ssl-min-ver"],
                [alert(7, "'ssl-min-ver' : missing the ssl/tls version on global statement '\(keyword)'.")])
            add(
                [keyword + " ssl-max-ver"],
                [alert(7, "'ssl-max-ver' : missing the ssl/tls version on global statement '\(keyword)'.")])
            // Versions are case-sensitive in HAProxy.
            add(
                [keyword + " ssl-min-ver tlsv1.2"],
                [alert(7, "'tlsv1.2' : unknown ssl/tls version on global statement '\(keyword)'.")])
            add(
                [keyword + " ssl-min-ver TLSv1.1 bogus1 bogus2"],
                [alert(7, "unknown option 'bogus1' on global statement '\(keyword)'.")])
        }
        add(
            ["ssl-default-server-options prefer-client-ciphers"],
            [alert(7, "unknown option 'prefer-client-ciphers' on global statement 'ssl-default-server-options'.")])
        add(["ssl-dh-param-file"], [alert(7, "'ssl-dh-param-file' expects a file path as an argument.")])
        add(["ssl-dh-param-file /a /b"], [alert(7, "'ssl-dh-param-file' cannot handle unexpected argument '/b'.")])
        add(["tune.ssl.default-dh-param"], [alert(7, "'tune.ssl.default-dh-param' expects an integer argument.")])
        add(
            ["tune.ssl.default-dh-param 2048 3"],
            [alert(7, "'tune.ssl.default-dh-param' cannot handle unexpected argument '3'.")])
        for value in ["1023", "0", "abc"] {
            add(
                ["tune.ssl.default-dh-param " + value],
                [alert(7, "'tune.ssl.default-dh-param' expects a value >= 1024.")])
        }
        add(["chroot"], [alert(7, "'chroot' expects a directory as an argument.")])
        add(["chroot /a /b"], [alert(7, "'chroot' cannot handle unexpected argument '/b'.")])
        // HAProxy prints the repetition as an alert that leaves the configuration valid: a warning here.
        for second in ["chroot /b", "chroot"] {
            add(
                ["chroot /a", second],
                [warning(7, GlobalKeywords.chrootWarning("/a")), warning(8, "'chroot' already specified. Continuing.")])
        }
        return cases
    }()

    @Test("argument errors are reported as haproxy -c reports them", arguments: brokenCases)
    func brokenForms(_ broken: Case) {
        let text = "global\n" + broken.lines.map { "    " + $0 }.joined(separator: "\n") + "\n"
        #expect(report(text).filter { !$0.contains("Fatal errors") } == broken.expected)
    }

    @Test("a broken TLS option line changes nothing")
    func brokenOptionLineNotApplied() {
        let result = parse("global\n    ssl-default-bind-options no-tls-tickets ssl-min-ver TLSv9\n")
        #expect(result.hasAlerts)
        #expect(result.config.global.tls.bind.options == TLSOptions())
    }

    @Test("chroot is kept but not applied, and the warning names the line, the reason and the systemd way")
    func chrootWarning() {
        let result = parse("global\n    chroot /var/lib/haproxy\n")
        #expect(!result.hasAlerts)
        #expect(result.config.global.chroot == "/var/lib/haproxy")
        let warning = result.report.first ?? ""
        #expect(warning.hasPrefix(Self.warning(7, "'chroot /var/lib/haproxy' is accepted but not applied")))
        for needed in ["reloads in-process", "RootDirectory=", "ProtectSystem=strict", "ReadOnlyPaths="] {
            #expect(warning.contains(needed), "\(needed)")
        }
    }

    @Test("an ssl bind line is still refused with the TLS defaults in place")
    func sslBindStillRefused() {
        let result = parse(
            Self.debianStock
                + "\nfrontend f\n    bind :443 ssl crt site.pem\n    default_backend b\nbackend b\n"
                + "    server s 127.0.0.1:80\n", quiet: false)
        #expect(result.hasAlerts)
        let refusal = Self.alert(30, "'bind :443' : 'ssl' is not supported yet by Portico")
        #expect(result.alerts.map(\.description).contains(refusal), "\(result.report)")
    }

    @Test("UNIX socket log targets: absolute paths and unix@, with HAProxy's 97-byte path limit")
    func unixLogTargets() {
        let longest = "/" + String(repeating: "x", count: 96)
        let result = parse(
            "global\n    log \(longest) local0\n    log unix@/dev/log local1\n    log unix@relative local2\n")
        #expect(result.report == [])
        #expect(
            result.config.global.logTargets.map(\.destination) == [
                .unixSocket(path: longest), .unixSocket(path: "/dev/log"), .unixSocket(path: "relative"),
            ])
        let tooLong = longest + "x"
        let plain = Self.alert(7, "log : socket path '\(tooLong)' too long (max 97)")
        #expect(report("global\n    log \(tooLong) local0\n").first == plain)
        let prefixed = Self.alert(7, "log : socket path 'unix@\(tooLong)' too long (max 97)")
        #expect(report("global\n    log unix@\(tooLong) local0\n").first == prefixed)
    }
}
