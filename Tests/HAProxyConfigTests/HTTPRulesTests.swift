import Testing

@testable import HAProxyConfig

/// A frontend with `lines` from its third line on (line n of `lines` is ``ruleLine(_:)``), and a backend.
private func httpFrontend(_ lines: [String], mode: String = "http") -> String {
    """
    frontend f
        mode \(mode)
        bind 127.0.0.1:8080
    \(lines.map { "    " + $0 }.joined(separator: "\n"))
        default_backend b
    backend b
        server s 127.0.0.1:8081

    """
}

/// The file line of the n-th (1-based) line given to ``httpFrontend(_:mode:)``.
private func ruleLine(_ n: Int) -> Int { quietOffset + 3 + n }

private func at(_ n: Int) -> String { "t.cfg:\(ruleLine(n))" }

private func location(_ n: Int) -> HAProxyConfig.SourceLocation { SourceLocation(file: "t.cfg", line: ruleLine(n)) }

struct AcceptedRequestRule: CustomTestStringConvertible, Sendable {
    var line: String
    var action: HTTPRequestAction
    var hasCondition = false
    var testDescription: String { line }
}

private let acceptedRequestRules: [AcceptedRequestRule] = [
    AcceptedRequestRule(line: "http-request allow", action: .allow),
    AcceptedRequestRule(line: "http-request allow unless { src 10.0.0.0/8 }", action: .allow, hasCondition: true),
    AcceptedRequestRule(line: "http-request deny", action: .deny(status: 403)),
    AcceptedRequestRule(line: "http-request deny deny_status 429", action: .deny(status: 429)),
    AcceptedRequestRule(line: "http-request deny deny_status 200", action: .deny(status: 200)),
    AcceptedRequestRule(
        line: "http-request deny status 404 if { path /x }", action: .deny(status: 404), hasCondition: true),
    AcceptedRequestRule(
        line: "http-request deny default-errorfiles status 503", action: .deny(status: 503)),
    AcceptedRequestRule(
        line: "http-request set-header X-Forwarded-Proto https",
        action: .setHeader(name: "X-Forwarded-Proto", value: "https")),
    AcceptedRequestRule(
        line: "http-request set-header X-Note \"two words\" if { method POST }",
        action: .setHeader(name: "X-Note", value: "two words"), hasCondition: true),
    AcceptedRequestRule(
        line: "http-request set-header X-Path 'a\\ b'", action: .setHeader(name: "X-Path", value: "a\\ b")),
    AcceptedRequestRule(
        line: "http-request add-header X-Discount 100%%", action: .addHeader(name: "X-Discount", value: "100%")),
    AcceptedRequestRule(
        line: "http-request add-header x-lower if", action: .addHeader(name: "x-lower", value: "if")),
    AcceptedRequestRule(line: "http-request del-header Server", action: .deleteHeader(name: "Server")),
    AcceptedRequestRule(
        line: "http-request del-header X-Debug -m str unless { src 127.0.0.1 }",
        action: .deleteHeader(name: "X-Debug"), hasCondition: true),
    AcceptedRequestRule(
        line: "http-request redirect location /moved", action: .redirect(Redirect(target: .location("/moved")))),
    AcceptedRequestRule(
        line: "http-request redirect prefix https://example.com code 301 drop-query append-slash",
        action: .redirect(
            Redirect(target: .prefix("https://example.com"), code: 301, dropQuery: true, appendSlash: true))),
    AcceptedRequestRule(
        line: "http-request redirect scheme https code 308 unless { src 127.0.0.1 }",
        action: .redirect(Redirect(target: .scheme("https"), code: 308)), hasCondition: true),
    AcceptedRequestRule(
        line: "http-request redirect code 303 location /x",
        action: .redirect(Redirect(target: .location("/x"), code: 303))),
    AcceptedRequestRule(
        // As in HAProxy, a later target or code replaces an earlier one.
        line: "http-request redirect location /x prefix /y code 301 code 307",
        action: .redirect(Redirect(target: .prefix("/y"), code: 307))),
    AcceptedRequestRule(
        line: "http-request redirect location /100%%", action: .redirect(Redirect(target: .location("/100%")))),
]

struct AcceptedResponseRule: CustomTestStringConvertible, Sendable {
    var line: String
    var action: HTTPResponseAction
    var hasCondition = false
    var testDescription: String { line }
}

private let acceptedResponseRules: [AcceptedResponseRule] = [
    AcceptedResponseRule(
        line: "http-response set-header X-Frame-Options DENY",
        action: .setHeader(name: "X-Frame-Options", value: "DENY")),
    AcceptedResponseRule(
        line: "http-response add-header Via portico if { src 10.0.0.0/8 }",
        action: .addHeader(name: "Via", value: "portico"), hasCondition: true),
    AcceptedResponseRule(line: "http-response del-header Server", action: .deleteHeader(name: "Server")),
    AcceptedResponseRule(
        line: "http-response del-header X-Powered-By -m str unless { src 127.0.0.1 }",
        action: .deleteHeader(name: "X-Powered-By"), hasCondition: true),
]

struct RejectedRule: CustomTestStringConvertible, Sendable {
    var lines: [String]
    var expected: [String]
    var testDescription: String { lines.joined(separator: " / ") }

    init(_ lines: [String], _ expected: [String]) {
        self.lines = lines
        self.expected = expected
    }
}

private let requestExpects =
    "'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', "
    + "'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', "
    + "'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', "
    + "'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', "
    + "'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', "
    + "'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', "
    + "'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', "
    + "'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', "
    + "'set-priority-offset', but got "

private let responseExpects =
    "'http-response' expects 'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', "
    + "'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', "
    + "'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', "
    + "'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', "
    + "'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', "
    + "'silent-drop', but got "

private func alert(_ n: Int, _ message: String) -> String { "[ALERT] parsing [\(at(n))] : \(message)" }

private func ruleError(_ n: Int, _ rule: String, _ message: String) -> String {
    alert(n, "error detected in frontend 'f' while parsing '\(rule)' rule : \(message)")
}

/// Each alert's wording is HAProxy 2.6.12's (`haproxy -c`), except the "not supported yet by Portico" ones, which
/// HAProxy accepts.
private let rejectedRules: [RejectedRule] = [
    // Framing fields: HAProxy accepts these; Portico refuses them (smuggling, splitting).
    RejectedRule(
        ["http-request set-header Content-Length 0"],
        [
            alert(
                1,
                "'http-request set-header' on 'Content-Length' is refused by Portico: it would change how the "
                    + "message's body is delimited (request smuggling, response splitting).")
        ]),
    RejectedRule(
        ["http-response del-header transfer-encoding"],
        [
            alert(
                1,
                "'http-response del-header' on 'transfer-encoding' is refused by Portico: it would change how the "
                    + "message's body is delimited (request smuggling, response splitting).")
        ]),
    RejectedRule(["http-request"], [alert(1, requestExpects + "'' (missing argument).")]),
    RejectedRule(["http-request bogus"], [alert(1, requestExpects + "'bogus'.")]),
    RejectedRule(
        ["http-request set-hedaer X y"],
        [alert(1, requestExpects + "'set-hedaer'. Did you mean 'set-header' maybe ?")]),
    RejectedRule(["http-response"], [alert(1, responseExpects + "'' (missing argument).")]),
    RejectedRule(
        ["http-response add-headr X a"],
        [alert(1, responseExpects + "'add-headr'. Did you mean 'add-header' maybe ?")]),
    RejectedRule(
        ["http-request deny foo"],
        [alert(1, "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'.")]),
    RejectedRule(
        ["http-request allow foo"],
        [alert(1, "'http-request allow' expects either 'if' or 'unless' followed by a condition but found 'foo'.")]),
    RejectedRule(
        ["http-request deny deny_status 404 deny_status 403"],
        [
            alert(
                1,
                "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'deny_status'.")
        ]),
    RejectedRule(
        ["http-request deny if { path /x } extra"],
        [alert(1, "error detected while parsing an 'http-request deny' condition : no such ACL : 'extra'.")]),
    RejectedRule(
        ["http-request deny deny_status 499"],
        [
            ruleError(
                1, "http-request deny", "status code '499' not handled by default with 'default-errorfiles' argument.")
        ]),
    RejectedRule(
        ["http-request deny deny_status abc"], [ruleError(1, "http-request deny", "Unexpected status code '0'.")]),
    RejectedRule(
        ["http-request deny deny_status 100"], [ruleError(1, "http-request deny", "Unexpected status code '100'.")]),
    RejectedRule(
        ["http-request deny deny_status 600"], [ruleError(1, "http-request deny", "Unexpected status code '600'.")]),
    RejectedRule(
        ["http-request deny deny_status"],
        [ruleError(1, "http-request deny", "'status' expects <status_code> as argument.")]),
    RejectedRule(
        ["http-request deny status 403 content-type text/plain"],
        [alert(1, "'http-request deny content-type' is not supported yet by Portico (only 'deny_status <code>')")]),
    RejectedRule(
        ["http-request set-header"], [ruleError(1, "http-request set-header", "expects exactly 2 arguments.")]),
    RejectedRule(
        ["http-request set-header X"], [ruleError(1, "http-request set-header", "expects exactly 2 arguments.")]),
    RejectedRule(
        ["http-request set-header X \"\""], [ruleError(1, "http-request set-header", "expects exactly 2 arguments.")]),
    RejectedRule(
        ["http-request set-header X a b"],
        [alert(1, "'http-request set-header' expects either 'if' or 'unless' followed by a condition but found 'b'.")]),
    RejectedRule(
        ["http-request set-header X 100%"], [ruleError(1, "http-request set-header", "truncated line after '%'.")]),
    RejectedRule(
        ["http-request del-header"], [ruleError(1, "http-request del-header", "expects at least 1 argument.")]),
    RejectedRule(
        ["http-request del-header X Y"],
        [alert(1, "'http-request del-header' expects either 'if' or 'unless' followed by a condition but found 'Y'.")]),
    RejectedRule(
        ["http-request del-header X -m foo"],
        [ruleError(1, "http-request del-header", "-m with unsupported matching method 'foo'.")]),
    RejectedRule(
        ["http-request del-header X -m"],
        [ruleError(1, "http-request del-header", "-m flag expects exactly 1 argument.")]),
    RejectedRule(
        ["http-request del-header X-Debug -m beg"],
        [alert(1, "'http-request del-header -m beg' is not supported yet by Portico (only '-m str')")]),
    RejectedRule(
        ["http-request redirect"],
        [ruleError(1, "http-request redirect", "redirection type expected ('prefix', 'location', or 'scheme').")]),
    RejectedRule(
        ["http-request redirect location"],
        [ruleError(1, "http-request redirect", "missing argument for 'location'.")]),
    RejectedRule(
        ["http-request redirect location \"\""],
        [ruleError(1, "http-request redirect", "missing argument for 'location'.")]),
    RejectedRule(
        ["http-request redirect scheme https code"],
        [ruleError(1, "http-request redirect", "missing argument for 'code'.")]),
    RejectedRule(
        ["http-request redirect scheme https code 304"],
        [
            ruleError(
                1, "http-request redirect",
                "'code': unsupported HTTP code '304' (must be one of 301, 302, 303, 307 or 308).")
        ]),
    RejectedRule(
        ["http-request redirect location /x foo"],
        [
            ruleError(
                1, "http-request redirect",
                "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', "
                    + "'ignore-empty' or 'append-slash' (was 'foo').")
        ]),
    RejectedRule(
        ["http-request redirect location /x if { path /x } code 301"],
        [ruleError(1, "http-request redirect", "error in condition: no such ACL : 'code'.")]),
    RejectedRule(
        ["http-request redirect location /x set-cookie A=B"],
        [alert(1, "'http-request redirect ... set-cookie' is not supported yet by Portico")]),
    RejectedRule(
        ["http-request redirect location /x clear-cookie A"],
        [alert(1, "'http-request redirect ... clear-cookie' is not supported yet by Portico")]),
    // Redirect targets stay literal in Portico; header values are log-format (LogFormatTests).
    RejectedRule(
        ["http-request redirect location https://%[hdr(host)]%[path]"],
        [
            alert(
                1,
                "'http-request redirect': log-format value 'https://%[hdr(host)]%[path]' is not supported yet by "
                    + "Portico (only literal values)")
        ]),
    RejectedRule(
        ["http-response set-header X-Server %s"],
        [alert(1, "'http-response set-header': log-format directive '%s' is not supported yet by Portico")]),
    // Actions HAProxy runs and Portico does not yet.
    RejectedRule(["http-request set-path /x"], [alert(1, "'http-request set-path' is not supported yet by Portico")]),
    RejectedRule(["http-request tarpit"], [alert(1, "'http-request tarpit' is not supported yet by Portico")]),
    RejectedRule(
        ["http-request return status 200"], [alert(1, "'http-request return' is not supported yet by Portico")]),
    RejectedRule(
        ["http-request track-sc0 src"], [alert(1, "'http-request track-sc0' is not supported yet by Portico")]),
    RejectedRule(
        ["http-request set-var(txn.x) str(a)"],
        [alert(1, "'http-request set-var(txn.x)' is not supported yet by Portico")]),
    RejectedRule(["http-request lua.auth"], [alert(1, "'http-request lua.auth' is not supported yet by Portico")]),
    RejectedRule(
        ["http-request use-service lua.svc"],
        [alert(1, "'http-request use-service lua.svc' is not supported yet by Portico")]),
    RejectedRule(["http-response deny"], [alert(1, "'http-response deny' is not supported yet by Portico")]),
    RejectedRule(
        ["http-response set-status 500"], [alert(1, "'http-response set-status' is not supported yet by Portico")]),
    // Response conditions: connection-level fetches only.
    RejectedRule(
        ["http-response set-header X a if { path /x }"],
        [
            alert(
                1,
                "'http-response set-header' condition uses fetch method 'path' (HTTP request headers): only "
                    + "connection-level fetches such as 'src' are supported yet by Portico in 'http-response' "
                    + "conditions.")
        ]),
    RejectedRule(
        ["acl api path_beg /api", "http-response del-header Server unless api"],
        [
            alert(
                2,
                "'http-response del-header' condition uses fetch method 'path_beg' (HTTP request headers): only "
                    + "connection-level fetches such as 'src' are supported yet by Portico in 'http-response' "
                    + "conditions.")
        ]),
]

@Suite struct HTTPRequestRuleTests {
    @Test(arguments: acceptedRequestRules)
    func accepted(_ item: AcceptedRequestRule) throws {
        let result = parse(httpFrontend([item.line]))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let frontend = try #require(result.config.frontend(named: "f"))
        let rule = try #require(frontend.httpRequestRules.first)
        #expect(frontend.httpRequestRules.count == 1)
        #expect(rule.action == item.action)
        #expect((rule.condition != nil) == item.hasCondition)
        #expect(rule.location == location(1))
        #expect(frontend.httpResponseRules.isEmpty)
    }

    @Test(arguments: acceptedResponseRules)
    func acceptedResponse(_ item: AcceptedResponseRule) throws {
        let result = parse(httpFrontend([item.line]))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let frontend = try #require(result.config.frontend(named: "f"))
        let rule = try #require(frontend.httpResponseRules.first)
        #expect(frontend.httpResponseRules.count == 1)
        #expect(rule.action == item.action)
        #expect((rule.condition != nil) == item.hasCondition)
        #expect(rule.condition?.isConnectionLevel ?? true)
        #expect(rule.location == location(1))
        #expect(frontend.httpRequestRules.isEmpty)
    }

    @Test(arguments: rejectedRules)
    func rejected(_ item: RejectedRule) throws {
        let result = parse(httpFrontend(item.lines))
        #expect(result.diagnostics.map(\.description) == item.expected)
        let frontend = result.config.frontend(named: "f")
        #expect(frontend?.httpRequestRules.isEmpty ?? true)
        #expect(frontend?.httpResponseRules.isEmpty ?? true)
    }

    @Test("rules keep file order; their conditions match the requests they name (if, unless, declared acls)")
    func orderAndConditions() throws {
        let result = parse(
            httpFrontend([
                "acl admin path_beg /admin",
                "http-request set-header X-A 1",
                "http-request deny deny_status 401 if admin !{ src 192.0.2.0/24 }",
                "http-response del-header Server",
                "http-request add-header X-B 2 unless { method GET }",
                "http-request redirect scheme https if { hdr(host) -i old.example }",
                "http-response set-header X-C 3 if { src 192.0.2.0/24 }",
            ]))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let frontend = try #require(result.config.frontend(named: "f"))
        #expect(frontend.httpRequestRules.map(\.location) == [location(2), location(3), location(5), location(6)])
        #expect(frontend.httpResponseRules.map(\.location) == [location(4), location(7)])
        #expect(
            frontend.httpRequestRules.map(\.action) == [
                .setHeader(name: "X-A", value: "1"), .deny(status: 401), .addHeader(name: "X-B", value: "2"),
                .redirect(Redirect(target: .scheme("https"))),
            ])

        let deny = try #require(frontend.httpRequestRules[1].condition)
        #expect(deny.matches(TestRequest(target: "/admin/x", sourceAddress: [198, 51, 100, 1])))
        #expect(!deny.matches(TestRequest(target: "/admin/x", sourceAddress: [192, 0, 2, 7])))
        #expect(!deny.matches(TestRequest(target: "/public", sourceAddress: [198, 51, 100, 1])))
        #expect(deny.text == "if admin !{ src 192.0.2.0/24 }")

        let add = try #require(frontend.httpRequestRules[2].condition)
        #expect(add.isUnless)
        #expect(add.matches(TestRequest(method: "POST")))
        #expect(!add.matches(TestRequest(method: "GET")))

        let redirect = try #require(frontend.httpRequestRules[3].condition)
        #expect(redirect.matches(TestRequest(fields: [("Host", "OLD.example")])))
        #expect(!redirect.matches(TestRequest(fields: [("Host", "new.example")])))

        let response = try #require(frontend.httpResponseRules[1].condition)
        #expect(response.isConnectionLevel)
        #expect(response.matches(TestRequest(sourceAddress: [192, 0, 2, 1])))
        #expect(!response.matches(TestRequest(sourceAddress: [10, 0, 0, 1])))
    }

    @Test("a rule after an unconditional deny, allow or redirect gets HAProxy's 'further entries are NOOP' warning")
    func finalRule() throws {
        let warning = "previous 'http-request' action is final and has no condition attached, further entries are NOOP."
        for final in ["http-request deny", "http-request allow", "http-request redirect location /x"] {
            let result = parse(httpFrontend([final, "http-request set-header X 1", "http-response del-header Y"]))
            #expect(result.diagnostics.map(\.description) == ["[WARNING] parsing [\(at(2))] : \(warning)"])
            #expect(result.config.frontend(named: "f")?.httpRequestRules.count == 2)
        }
        // A conditional final rule leaves the next ones reachable.
        #expect(report(httpFrontend(["http-request deny if { path /x }", "http-request set-header X 1"])).isEmpty)
    }

    @Test("an empty condition is accepted as HAProxy does, with a warning saying what it means")
    func emptyCondition() throws {
        let result = parse(httpFrontend(["http-request deny if", "http-request set-header X a unless"]))
        #expect(
            result.diagnostics.map(\.description) == [
                "[WARNING] parsing [\(at(1))] : 'http-request deny if' has an empty condition: the rule never applies.",
                "[WARNING] parsing [\(at(2))] : 'http-request set-header unless' has an empty condition: the rule "
                    + "always applies.",
            ])
        let rules = try #require(result.config.frontend(named: "f")?.httpRequestRules)
        #expect(rules.count == 2)
        #expect(rules[0].condition?.matches(TestRequest()) == false)
        #expect(rules[1].condition?.matches(TestRequest()) == true)
    }
}

@Suite struct HTTPRulePlacementTests {
    @Test("backend rules are on the backend; a listen's rules on its frontend half only, so they run once")
    func placement() throws {
        let result = parse(
            """
            frontend f
                bind 127.0.0.1:8080
                http-request set-header X-Where frontend
                default_backend b
            backend b
                http-request deny deny_status 503 if { path /down }
                http-response set-header X-Where backend
                server s 127.0.0.1:8081
            listen l
                bind 127.0.0.1:8082
                http-request redirect prefix /new code 301
                http-response del-header Server
                server s 127.0.0.1:8083
            listen nobind
                http-request allow
                server s 127.0.0.1:8084

            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        func line(_ n: Int) -> HAProxyConfig.SourceLocation { SourceLocation(file: "t.cfg", line: quietOffset + n) }

        let frontend = try #require(result.config.frontend(named: "f"))
        #expect(
            frontend.httpRequestRules == [
                HTTPRequestRule(action: .setHeader(name: "X-Where", value: "frontend"), location: line(3))
            ])
        #expect(frontend.httpResponseRules.isEmpty)

        let backend = try #require(result.config.backend(named: "b"))
        #expect(backend.httpRequestRules.map(\.action) == [.deny(status: 503)])
        #expect(backend.httpRequestRules.map(\.location) == [line(6)])
        #expect(
            backend.httpResponseRules == [
                HTTPResponseRule(action: .setHeader(name: "X-Where", value: "backend"), location: line(7))
            ])

        let listenFrontend = try #require(result.config.frontend(named: "l"))
        #expect(
            listenFrontend.httpRequestRules.map(\.action) == [
                .redirect(Redirect(target: .prefix("/new"), code: 301))
            ])
        #expect(listenFrontend.httpResponseRules.map(\.action) == [.deleteHeader(name: "Server")])
        let listenBackend = try #require(result.config.backend(named: "l"))
        #expect(listenBackend.httpRequestRules.isEmpty)
        #expect(listenBackend.httpResponseRules.isEmpty)

        // A listen without bind is only a backend: its rules stay there.
        #expect(result.config.frontend(named: "nobind") == nil)
        #expect(result.config.backend(named: "nobind")?.httpRequestRules.map(\.action) == [.allow])
    }

    @Test("http rules in a defaults section: refused as HAProxy 2.6 does (anonymous), not supported yet (named)")
    func defaults() throws {
        let lines = report(
            """
            defaults
                mode http
                http-request deny
                http-response set-header X y
                http-request use-service prometheus-exporter if { path /metrics }
            defaults named
                http-request set-header X y
                http-response del-header X
            frontend f
                bind 127.0.0.1:8080
                default_backend b
            backend b
                server s 127.0.0.1:8081

            """, quiet: false)
        #expect(
            lines.filter { $0.hasPrefix("[ALERT]") } == [
                "[ALERT] parsing [t.cfg:3] : 'http-request' not allowed in anonymous 'defaults' section.",
                "[ALERT] parsing [t.cfg:4] : 'http-response' not allowed in anonymous 'defaults' section.",
                "[ALERT] parsing [t.cfg:5] : 'http-request' not allowed in anonymous 'defaults' section.",
                "[ALERT] parsing [t.cfg:7] : 'http-request' rules in a named 'defaults' section are not supported "
                    + "yet by Portico",
                "[ALERT] parsing [t.cfg:8] : 'http-response' rules in a named 'defaults' section are not supported "
                    + "yet by Portico",
            ])
    }

    @Test("the prometheus-exporter line is kept apart from the rules and works as before")
    func prometheusExporter() throws {
        let result = parse(
            httpFrontend([
                "http-request set-header X 1",
                "http-request use-service prometheus-exporter if { path /metrics }",
                "http-request deny if { path /private }",
            ]))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let frontend = try #require(result.config.frontend(named: "f"))
        #expect(frontend.prometheusExporterPath == "/metrics")
        #expect(frontend.httpRequestRules.map(\.location) == [location(1), location(3)])
        // The exporter line sits between the two rules: the set-header applies to /metrics, the deny does not.
        #expect(frontend.prometheusExporterRuleIndex == 1)
        let withoutExporter = parse(httpFrontend(["http-request deny"])).config.frontend(named: "f")
        #expect(withoutExporter?.prometheusExporterRuleIndex == nil)
        #expect(
            report(httpFrontend(["http-request use-service prometheus-exporter if { path_beg /metrics }"])) == [
                alert(
                    1,
                    "'http-request use-service prometheus-exporter' is only supported by Portico with the "
                        + "condition 'if { path /PATH }' (got 'if { path_beg /metrics }').")
            ])
    }

    @Test("in a mode tcp proxy the rules are ignored with HAProxy's warnings")
    func tcpMode() throws {
        let result = parse(
            httpFrontend(
                ["http-request set-header X 1", "http-response del-header Y", "http-request deny if { src 10.0.0.1 }"],
                mode: "tcp")
                    + """
                    backend tb
                        mode tcp
                        http-response del-header Y
                        server s 127.0.0.1:8085

                    """)
        let warnings = result.diagnostics.map(\.description).filter { $0.contains("rules ignored") }
        #expect(
            warnings == [
                "[WARNING] parsing [\(at(1))] : 'http-request' rules ignored for frontend 'f' as they require HTTP "
                    + "mode.",
                "[WARNING] parsing [\(at(2))] : 'http-response' rules ignored for frontend 'f' as they require HTTP "
                    + "mode.",
                "[WARNING] parsing [t.cfg:\(ruleLine(9))] : 'http-response' rules ignored for backend 'tb' as they "
                    + "require HTTP mode.",
            ])
        #expect(result.config.frontend(named: "f")?.httpRequestRules.isEmpty == true)
        #expect(result.config.frontend(named: "f")?.httpResponseRules.isEmpty == true)
        #expect(result.config.backend(named: "tb")?.httpResponseRules.isEmpty == true)
    }
}
