import Testing

@testable import HAProxyConfig

@Suite struct TokenizerTests {
    let tokenizer = LineTokenizer(environment: ["HOME": "/root", "PORT": "8080"])

    func words(_ line: String) -> [String]? {
        try? tokenizer.words(in: Substring(line)).get()
    }

    @Test func quotingAndEscapingLikeHAProxy() {
        #expect(words("  server web01   10.0.0.1:80\tcheck ") == ["server", "web01", "10.0.0.1:80", "check"])
        #expect(words(#"stats realm "Portico Statistics" # comment"#) == ["stats", "realm", "Portico Statistics"])
        #expect(words("log 127.0.0.1 local2 # the seed's syslog") == ["log", "127.0.0.1", "local2"])
        #expect(words("# only a comment") == [])
        #expect(words("a#b c") == ["a"])
        #expect(words(##"a\#b"##) == ["a#b"])
        #expect(words(#"a\ b c"#) == ["a b", "c"])
        #expect(words(#"a\\b"#) == [#"a\b"#])
        #expect(words(#"x \x41\x62 \t"#) == ["x", "Ab", "\t"])
        #expect(words(#"x "tab\there""#) == ["x", "tab\there"])
        #expect(words(#"x 'single "quoted" \t $HOME # kept'"#) == ["x", #"single "quoted" \t $HOME # kept"#])
        #expect(words(#"x a"b c"d"#) == ["x", "ab cd"])
        #expect(words(#"x "" y"#) == ["x", "", "y"])
        #expect(words(#"x \q"#) == ["x", #"\q"#])
    }

    @Test func environmentVariablesInDoubleQuotes() {
        #expect(words(#"pidfile "$HOME/portico.pid""#) == ["pidfile", "/root/portico.pid"])
        #expect(words(#"bind ":${PORT}""#) == ["bind", ":8080"])
        #expect(words(#"x "$UNSET-suffix""#) == ["x", "-suffix"])
        #expect(words(#"x "cost: $""#) == ["x", "cost: $"])
        #expect(words(#"x $HOME"#) == ["x", "$HOME"])
        #expect(words(#"x "\$HOME""#) == ["x", "$HOME"])
    }

    @Test func unmatchedQuotesReportTheirColumn() {
        #expect(throws: LineTokenizer.UnmatchedQuote(position: 13)) {
            try tokenizer.words(in: #"    pidfile "/tmp/x"#).get()
        }
        #expect(throws: LineTokenizer.UnmatchedQuote(position: 3)) {
            try tokenizer.words(in: "a 'b").get()
        }
    }

    @Test func windowsLineEndingsAndConditionalBlocks() {
        #expect(report("global\r\n    daemon\r\n    maxconn 100\r\n", quiet: false) == [])
        #expect(
            report("global\n.if defined(DEBUG)\n    daemon\n.endif\n", quiet: false) == [
                "[ALERT] parsing [t.cfg:2] : '.if' is not supported yet by Portico",
                "[ALERT] parsing [t.cfg:4] : '.endif' is not supported yet by Portico",
            ])
    }

    @Test func quotedArgumentsReachTheModel() throws {
        let result = parse(
            """
            backend b
                option httpchk GET "/health check" HTTP/1.1
                http-check send hdr 'X-Probe' "a value with spaces"
                server s 10.0.0.1:80 check
            """)
        #expect(result.diagnostics == [])
        let check = try #require(result.config.backends.first?.httpCheck)
        #expect(check.uri == "/health check")
        #expect(check.headers == [HTTPCheckHeader(name: "X-Probe", value: "a value with spaces")])
    }
}

@Suite struct ValueTests {
    @Test func timeUnits() throws {
        let cases: [(String, Duration)] = [
            ("0", .zero), ("1500", .milliseconds(1500)), ("250ms", .milliseconds(250)), ("500us", .microseconds(500)),
            ("2s", .seconds(2)), ("3m", .seconds(180)), ("1h", .seconds(3600)), ("1d", .seconds(86400)),
            ("24d", .seconds(24 * 86400)),
        ]
        for (text, expected) in cases {
            #expect(try Values.time(text).get() == expected, "\(text)")
        }
        #expect(throws: Values.TimeError.unexpectedCharacter("x")) { try Values.time("2x").get() }
        #expect(throws: Values.TimeError.unexpectedCharacter("x")) { try Values.time("2sx").get() }
        #expect(throws: Values.TimeError.unexpectedCharacter("3")) { try Values.time("1h30m").get() }
        #expect(throws: Values.TimeError.unexpectedCharacter("-")) { try Values.time("-1s").get() }
        #expect(throws: Values.TimeError.overflow) { try Values.time("25d").get() }
        #expect(throws: Values.TimeError.overflow) { try Values.time("99999999999999999999").get() }
        #expect(throws: Values.TimeError.empty) { try Values.time("").get() }
    }

    @Test func sizes() {
        #expect(Values.size("16384") == 16384)
        #expect(Values.size("16k") == 16384)
        #expect(Values.size("1M") == 1_048_576)
        #expect(Values.size("1x") == nil)
        #expect(Values.size("-1") == nil)
    }

    @Test func ipAddresses() {
        #expect(Values.ipv4("192.168.10.21") == [192, 168, 10, 21])
        #expect(Values.ipv4("192.168.10") == nil)
        #expect(Values.ipv4("256.1.1.1") == nil)
        #expect(Values.ipv4("1.2.3.4.5") == nil)
        #expect(Values.ipv6("::1") == Array(repeating: 0, count: 15) + [1])
        #expect(Values.ipv6("::") == Array(repeating: 0, count: 16))
        #expect(Values.ipv6("2001:db8::7")?.prefix(4) == [0x20, 0x01, 0x0d, 0xb8])
        #expect(Values.ipv6("::ffff:10.0.0.1")?.suffix(6) == [0xff, 0xff, 10, 0, 0, 1])
        #expect(Values.ipv6("1:2:3:4:5:6:7:8")?.count == 16)
        #expect(Values.ipv6("1:2:3:4:5:6:7") == nil)
        #expect(Values.ipv6("1::2::3") == nil)
        #expect(Values.ipv6("12345::1") == nil)
        #expect(Values.ipv6("10.0.0.1") == nil)
    }

    @Test func hostNames() {
        #expect(Values.isHostName("web01"))
        #expect(Values.isHostName("web-01.example.internal"))
        #expect(!Values.isHostName("1.2.3"))
        #expect(!Values.isHostName("foo..bar"))
        #expect(!Values.isHostName("-web"))
        #expect(!Values.isHostName("web$"))
    }

    func failure(_ text: String) -> Values.AddressError? {
        guard case .failure(let error) = Values.hostAndPort(text) else { return nil }
        return error
    }

    @Test func hostAndPortForms() throws {
        func parsed(_ text: String) -> String? {
            guard case .success(let (host, port)) = Values.hostAndPort(text) else { return nil }
            return "\(host)|\(port)"
        }
        #expect(parsed("*:80") == "0.0.0.0|80")
        #expect(parsed(":80") == "0.0.0.0|80")
        #expect(parsed(":::80") == "::|80")
        #expect(parsed("[::1]:8080") == "::1|8080")
        #expect(parsed("ipv6@:80") == "::|80")
        #expect(parsed("ipv4@127.0.0.1:80") == "127.0.0.1|80")
        #expect(parsed("web01:8080") == "web01|8080")
        #expect(parsed("2001:db8::1:80") == "2001:db8::1|80")
        #expect(failure("10.0.0.1") == .missingPort)
        #expect(failure("10.0.0.1:0") == .invalidPort("0"))
        #expect(failure("ipv4@::1:80") == .invalidAddress("::1"))
        #expect(failure("abns@foo") == .unsupportedFamily("abns@"))
        #expect(failure("/run/x.sock") == .unsupportedFamily("UNIX socket"))
    }

    @Test func networks() throws {
        let v4 = try #require(Values.network("10.1.2.3/255.255.0.0"))
        #expect(v4 == IPNetwork(address: [10, 1, 0, 0], prefixLength: 16))
        #expect(v4.description == "10.1.0.0/16")
        #expect(v4.contains([10, 1, 200, 1]))
        #expect(!v4.contains([10, 2, 0, 1]))
        // IPv4 clients seen through a dual-stack listener.
        #expect(v4.contains(Array(repeating: 0, count: 10) + [0xff, 0xff, 10, 1, 9, 9]))
        let host = try #require(Values.network("127.0.0.1"))
        #expect(host.prefixLength == 32)
        let v6 = try #require(Values.network("fd00::/8"))
        #expect(v6.contains([0xfd] + Array(repeating: 7, count: 15)))
        #expect(!v6.contains([0xfe] + Array(repeating: 0, count: 15)))
        #expect(Values.network("10.0.0.0/33") == nil)
        #expect(Values.network("10.0.0.0/255.0.255.0") == nil)
        #expect(Values.network("nonsense") == nil)
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "balanse", in: ["balance", "bind", "backlog"]) == "balance")
        #expect(Suggestion.closest(to: "tiemout", in: ["timeout", "retries"]) == "timeout")
        #expect(Suggestion.closest(to: "xyz", in: ["timeout", "retries"]) == nil)
    }
}
