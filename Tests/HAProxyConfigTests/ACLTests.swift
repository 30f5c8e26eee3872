import Testing

@testable import HAProxyConfig

/// A request as the Balancer would present it to a condition.
struct TestRequest: ACLSubject, CustomStringConvertible {
    var method = "GET"
    var target = "/"
    /// Field lines in order; names are matched case-insensitively, as in HTTP.
    var fields: [(name: String, value: String)] = []
    var sourceAddress: [UInt8]? = [192, 0, 2, 10]

    func fieldValues(named name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name }.map(\.value)
    }

    var description: String { "\(method) \(target) \(fields) from \(sourceAddress ?? [])" }
}

private func request(
    _ method: String = "GET", _ target: String = "/", fields: [(String, String)] = [],
    source: [UInt8]? = [192, 0, 2, 10]
) -> TestRequest {
    TestRequest(method: method, target: target, fields: fields.map { (name: $0.0, value: $0.1) }, sourceAddress: source)
}

/// A frontend `f` with `lines` (acl and use_backend lines) routing to `hit` / `miss` backends.
private func frontendConfig(_ lines: [String], mode: String = "http") -> String {
    """
    frontend f
        mode \(mode)
        bind 127.0.0.1:8080
    \(lines.map { "    " + $0 }.joined(separator: "\n"))
        default_backend miss
    backend hit
        mode \(mode)
        server s1 10.0.0.1:80
    backend miss
        mode \(mode)
        server s2 10.0.0.2:80

    """
}

/// The frontend `f` of `lines`, which must parse without any diagnostic.
private func frontend(_ lines: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Frontend? {
    let result = parse(frontendConfig(lines))
    #expect(result.diagnostics.isEmpty, "\(result.diagnostics)", sourceLocation: sourceLocation)
    return result.config.frontend(named: "f")
}

/// One evaluation case: `acl` lines, the condition of `use_backend hit`, a request and whether the rule applies.
struct MatchCase: CustomTestStringConvertible, Sendable {
    var acls: [String]
    var condition: String
    var request: TestRequest
    var matches: Bool

    init(_ acls: [String], _ condition: String, _ request: TestRequest, _ matches: Bool) {
        self.acls = acls
        self.condition = condition
        self.request = request
        self.matches = matches
    }

    var testDescription: String { "\(acls) use_backend hit \(condition) <- \(request): \(matches)" }
}

let v4Client: [UInt8] = [10, 1, 2, 3]
let v6Client: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]
let mappedV4Client: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]
let loopbackV6: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]

private let matchCases: [MatchCase] = [
    // path: the target's path without its query string, also for absolute-form targets.
    MatchCase(["acl a path_beg /api"], "if a", request("GET", "/api/users?x=1"), true),
    MatchCase(["acl a path_beg /api"], "if a", request("GET", "/v1/api"), false),
    MatchCase(["acl a path /p"], "if a", request("GET", "/p?q=1"), true),
    MatchCase(["acl a path /p"], "if a", request("GET", "http://h.example/p?q"), true),
    MatchCase(["acl a path /p"], "if a", request("GET", "/p/"), false),
    MatchCase(["acl a path_end .css .js"], "if a", request("GET", "/s/site.css?v=2"), true),
    MatchCase(["acl a path_end .css .js"], "if a", request("GET", "/s/app.js"), true),
    MatchCase(["acl a path_end .css .js"], "if a", request("GET", "/s/page?f=a.css"), false),
    MatchCase(["acl a path_sub /admin/"], "if a", request("GET", "/x/admin/y"), true),
    MatchCase(["acl a path_reg ^/v[0-9]+/"], "if a", request("GET", "/v12/items"), true),
    MatchCase(["acl a path_reg ^/v[0-9]+/"], "if a", request("GET", "/vx/items"), false),
    MatchCase(["acl a path_reg -i ^/API"], "if a", request("GET", "/api/x"), true),
    MatchCase(["acl a path_beg /"], "if a", request("OPTIONS", "*"), false),
    MatchCase(["acl a path_beg /"], "if a", request("CONNECT", "h.example:443"), false),
    MatchCase(["acl a path_len 4"], "if a", request("GET", "/abc?long-query"), true),
    // path_dir: slash-delimited runs (HAProxy 7.1.3's example). These rows, the hdr comma lists and occurrences,
    // hdr_dom with a port, url_dom and absolute-form paths were checked against haproxy 2.6.12 on loopback;
    // "png" matches there although the manual's example says it would not.
    MatchCase(["acl a path_dir png"], "if a", request("GET", "/images/png/logo/32x32.png"), true),
    MatchCase(["acl a path_dir images/png"], "if a", request("GET", "/images/png/logo/32x32.png"), true),
    MatchCase(["acl a path_dir /png/logo"], "if a", request("GET", "/images/png/logo/32x32.png"), true),
    MatchCase(["acl a path_dir logo/32x32.png"], "if a", request("GET", "/images/png/logo/32x32.png"), true),
    MatchCase(["acl a path_dir 32x32"], "if a", request("GET", "/images/png/logo/32x32.png"), false),
    MatchCase(["acl a path_dir imag"], "if a", request("GET", "/images/png"), false),
    // url: the whole target.
    MatchCase(["acl a url_beg http://"], "if a", request("GET", "http://h.example/p"), true),
    MatchCase(["acl a url_beg http://"], "if a", request("GET", "/p"), false),
    MatchCase(["acl a url_sub debug=1"], "if a", request("GET", "/p?debug=1"), true),
    MatchCase(["acl a url /p?q"], "if a", request("GET", "/p?q"), true),
    MatchCase(["acl a url_dom example"], "if a", request("GET", "http://www.example.com:80/x"), true),
    MatchCase(["acl a url_dom exam"], "if a", request("GET", "http://www.example.com:80/x"), false),
    // method: exact and case-sensitive unless -i.
    MatchCase(["acl a method POST PUT"], "if a", request("PUT", "/"), true),
    MatchCase(["acl a method post"], "if a", request("POST", "/"), false),
    MatchCase(["acl a method -i post"], "if a", request("POST", "/"), true),
    // hdr: every field line, every comma-separated value, trimmed.
    MatchCase(["acl a hdr(x-tag) b"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), true),
    MatchCase(["acl a hdr(x-tag) c"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), true),
    MatchCase(["acl a hdr(x-tag) a,b"], "if a", request(fields: [("X-Tag", "a,b")]), false),
    MatchCase(["acl a hdr(X-Tag) a"], "if a", request(fields: [("x-tag", "a,b")]), true),
    MatchCase(["acl a hdr(x-tag) d"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), false),
    MatchCase(["acl a hdr(accept) '\"x,y\"'"], "if a", request(fields: [("Accept", "\"x,y\", z")]), true),
    MatchCase(["acl a hdr(accept) z"], "if a", request(fields: [("Accept", "\"x,y\", z")]), true),
    MatchCase(["acl a hdr(accept) 'y\"'"], "if a", request(fields: [("Accept", "\"x,y\", z")]), false),
    MatchCase(["acl a hdr(x-tag,1) a"], "if a", request(fields: [("x-tag", "a, b"), ("x-tag", "c")]), true),
    MatchCase(["acl a hdr(x-tag,1) b"], "if a", request(fields: [("x-tag", "a, b"), ("x-tag", "c")]), false),
    MatchCase(["acl a hdr(x-tag,-1) c"], "if a", request(fields: [("x-tag", "a, b"), ("x-tag", "c")]), true),
    // Host names match case-insensitively only with -i.
    MatchCase(["acl a hdr(host) example.com"], "if a", request(fields: [("Host", "Example.com")]), false),
    MatchCase(["acl a hdr(host) -i example.com"], "if a", request(fields: [("Host", "Example.com")]), true),
    MatchCase(["acl a hdr_beg(host) -i www."], "if a", request(fields: [("Host", "WWW.example.com")]), true),
    MatchCase(["acl a hdr_end(host) .example.com"], "if a", request(fields: [("Host", "api.example.com")]), true),
    MatchCase(["acl a hdr_sub(user-agent) curl"], "if a", request(fields: [("User-Agent", "x curl/8")]), true),
    MatchCase(["acl a hdr_reg(user-agent) -i ^CURL/"], "if a", request(fields: [("User-Agent", "curl/8.1")]), true),
    // hdr_dom: dot-delimited.
    MatchCase(
        ["acl a hdr_dom(host) -i example.com"], "if a", request(fields: [("Host", "www.Example.COM:8080")]), true),
    MatchCase(["acl a hdr_dom(host) example.com"], "if a", request(fields: [("Host", "www.Example.COM:8080")]), false),
    MatchCase(["acl a hdr_dom(host) example.com"], "if a", request(fields: [("Host", "notexample.com")]), false),
    MatchCase(["acl a hdr_dom(host) example.com"], "if a", request(fields: [("Host", "example.com")]), true),
    // hdr_cnt and hdr_val: integers with operators and ranges.
    MatchCase(["acl a hdr_cnt(x-tag) 3"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), true),
    MatchCase(["acl a hdr_cnt(x-tag) gt 3"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), false),
    MatchCase(["acl a hdr_cnt(x-tag) 2:5"], "if a", request(fields: [("X-Tag", "a, b"), ("x-tag", "c")]), true),
    MatchCase(["acl a hdr_cnt(x-tag) eq 0"], "if a", request(), true),
    MatchCase(["acl a hdr_val(content-length) ge 1000"], "if a", request(fields: [("Content-Length", "1024")]), true),
    // -m forms.
    MatchCase(["acl a path -m beg /static"], "if a", request("GET", "/static/x"), true),
    MatchCase(["acl a path -m end .png"], "if a", request("GET", "/a.png?x"), true),
    MatchCase(["acl a path -m sub img"], "if a", request("GET", "/an-img/x"), true),
    MatchCase(["acl a path -m str /x"], "if a", request("GET", "/x"), true),
    MatchCase(["acl a path -m dir img"], "if a", request("GET", "/a/img/b"), true),
    MatchCase(["acl a path -m reg ^/a+$"], "if a", request("GET", "/aaa"), true),
    MatchCase(["acl a path_beg -m str /x"], "if a", request("GET", "/x/y"), false),
    MatchCase(["acl a hdr(host) -m dom example"], "if a", request(fields: [("Host", "www.example.org")]), true),
    MatchCase(["acl a hdr(x-api-key) -m found"], "if a", request(fields: [("X-Api-Key", "")]), true),
    MatchCase(["acl a hdr(x-api-key) -m found"], "if a", request(), false),
    MatchCase(
        ["acl a hdr(x-forwarded-for) -m ip 10.0.0.0/8"], "if a",
        request(fields: [("X-Forwarded-For", "10.9.9.9")]), true),
    MatchCase(["acl a path -- -x"], "if a", request("GET", "-x"), false),
    MatchCase(["acl a url -- -x"], "if a", request("GET", "-x"), true),
    MatchCase(["acl a url -i -- -X"], "if a", request("GET", "-x"), true),
    // src: IPv4/IPv6 addresses and networks, families mixed the HAProxy way.
    MatchCase(["acl a src 10.0.0.0/8"], "if a", request(source: v4Client), true),
    MatchCase(["acl a src 10.0.0.0/8"], "if a", request(source: [11, 0, 0, 1]), false),
    MatchCase(["acl a src 10.1.2.3"], "if a", request(source: v4Client), true),
    MatchCase(["acl a src 10.0.0.0/255.0.0.0"], "if a", request(source: v4Client), true),
    MatchCase(["acl a src 2001:db8::/32"], "if a", request(source: v6Client), true),
    MatchCase(["acl a src 2001:db9::/32"], "if a", request(source: v6Client), false),
    MatchCase(["acl a src 10.0.0.0/8"], "if a", request(source: mappedV4Client), true),
    MatchCase(["acl a src ::ffff:10.0.0.0/104"], "if a", request(source: v4Client), true),
    MatchCase(["acl a src 10.0.0.0/8"], "if a", request(source: v6Client), false),
    MatchCase(["acl a src 0.0.0.0/0"], "if a", request(source: nil), false),
    MatchCase([], "if LOCALHOST", request(source: [127, 0, 0, 2]), true),
    MatchCase([], "if LOCALHOST", request(source: loopbackV6), true),
    MatchCase([], "if LOCALHOST", request(source: v4Client), false),
    // Several acl lines of one name are OR-ed.
    MatchCase(["acl a path_beg /a", "acl a hdr(host) -i a.example"], "if a", request("GET", "/a/x"), true),
    MatchCase(
        ["acl a path_beg /a", "acl a hdr(host) -i a.example"], "if a", request(fields: [("Host", "A.example")]), true),
    MatchCase(["acl a path_beg /a", "acl a hdr(host) -i a.example"], "if a", request("GET", "/b"), false),
    // Negation, AND by juxtaposition, OR with `or` / `||`; AND binds tighter.
    MatchCase(["acl a path_beg /a"], "if !a", request("GET", "/b"), true),
    MatchCase(["acl a path_beg /a"], "if ! a", request("GET", "/a"), false),
    MatchCase(["acl a path_beg /a"], "if !!a", request("GET", "/a"), true),
    MatchCase(["acl a path_beg /a"], "unless a", request("GET", "/b"), true),
    MatchCase(["acl a path_beg /a"], "unless a", request("GET", "/a"), false),
    MatchCase(["acl a path_beg /a", "acl b method POST"], "if a b", request("GET", "/a"), false),
    MatchCase(["acl a path_beg /a", "acl b method POST"], "if a b", request("POST", "/a"), true),
    MatchCase(
        ["acl a path_beg /a", "acl b method POST", "acl c src 10.0.0.0/8"], "if a b or c",
        request("GET", "/z", source: v4Client), true),
    MatchCase(
        ["acl a path_beg /a", "acl b method POST", "acl c src 10.0.0.0/8"], "if a b or c", request("GET", "/a"), false),
    MatchCase(
        ["acl a path_beg /a", "acl b method POST", "acl c src 10.0.0.0/8"], "if a or b c", request("GET", "/a"), true),
    MatchCase(
        ["acl a path_beg /a", "acl b method POST", "acl c src 10.0.0.0/8"], "if a || b c",
        request("POST", "/z"), false),
    MatchCase(
        ["acl a path_beg /a", "acl b method POST", "acl c src 10.0.0.0/8"], "if a OR b c",
        request("POST", "/z", source: v4Client), true),
    MatchCase(["acl a path_beg /a", "acl b method POST"], "if !a !b", request("GET", "/z"), true),
    MatchCase(["acl a path_beg /a", "acl b method POST"], "unless a or b", request("GET", "/z"), true),
    // Anonymous ACLs.
    MatchCase([], "if { path_beg /x } { method GET }", request("GET", "/x1"), true),
    MatchCase([], "if { path_beg /x } { method GET }", request("PUT", "/x1"), false),
    MatchCase([], "if ! { path_beg /x }", request("GET", "/y"), true),
    MatchCase(
        [], "if { src 10.0.0.0/8 } || { hdr(host) -i a.example }", request(fields: [("Host", "a.example")]), true),
    // Predefined ACLs.
    MatchCase([], "if TRUE", request(), true),
    MatchCase([], "if FALSE", request(), false),
    MatchCase([], "unless FALSE", request(), true),
    MatchCase([], "if { always_true }", request(), true),
    MatchCase([], "if { always_false }", request(), false),
    MatchCase([], "if METH_GET", request("HEAD", "/"), true),
    MatchCase([], "if METH_POST", request("GET", "/"), false),
    MatchCase([], "if HTTP", request(), true),
    MatchCase([], "if HTTP_URL_ABS", request("GET", "https://h/x"), true),
    MatchCase([], "if HTTP_URL_ABS", request("GET", "/x"), false),
    MatchCase([], "if HTTP_URL_SLASH", request("GET", "/x"), true),
    MatchCase([], "if HTTP_URL_STAR", request("OPTIONS", "*"), true),
    MatchCase([], "if HTTP_CONTENT", request("POST", "/", fields: [("Content-Length", "12")]), true),
    MatchCase([], "if HTTP_CONTENT", request("POST", "/", fields: [("Content-Length", "0")]), false),
    // A section's own ACL named like a predefined one replaces it, as in HAProxy.
    MatchCase(["acl TRUE path /never"], "if TRUE", request(), false),
]

@Suite struct ACLEvaluationTests {
    @Test(arguments: matchCases)
    func conditionMatches(_ testCase: MatchCase) throws {
        let f = try #require(frontend(testCase.acls + ["use_backend hit \(testCase.condition)"]))
        #expect(f.backend(for: testCase.request) == (testCase.matches ? "hit" : "miss"))
        let condition = try #require(f.useBackends.first?.condition)
        #expect(condition.matches(testCase.request) == testCase.matches)
    }

    @Test("an acl line written after the rule still adds to the ACL the rule uses, as in HAProxy")
    func laterLinesJoinTheACL() throws {
        let f = try #require(frontend(["acl a path /a", "use_backend hit if a", "acl a path /b"]))
        #expect(f.backend(for: request("GET", "/b")) == "hit")
        #expect(f.backend(for: request("GET", "/c")) == "miss")
    }

    @Test("the first matching use_backend wins; unless; default_backend when none matches")
    func ruleOrder() throws {
        let result = parse(
            """
            frontend f
                bind :80
                acl is_api path_beg /api
                acl internal src 10.0.0.0/8
                use_backend api if is_api internal
                use_backend public_api if is_api
                use_backend web unless METH_GET
                default_backend static
            backend api
                server s 10.0.0.1:80
            backend public_api
                server s 10.0.0.2:80
            backend web
                server s 10.0.0.3:80
            backend static
                server s 10.0.0.4:80

            """)
        #expect(result.diagnostics.isEmpty)
        let f = try #require(result.config.frontend(named: "f"))
        #expect(f.backend(for: request("GET", "/api/x", source: v4Client)) == "api")
        #expect(f.backend(for: request("POST", "/api/x", source: [8, 8, 8, 8])) == "public_api")
        #expect(f.backend(for: request("POST", "/form")) == "web")
        #expect(f.backend(for: request("GET", "/index.html")) == "static")
        #expect(f.hasConditionalRouting)
        #expect(f.reachableBackends == ["api", "public_api", "web", "static"])
        #expect(f.routedBackend == "static")
        #expect(f.useBackends.map(\.location.line) == [5, 6, 7].map { $0 + quietOffset })
        #expect(f.useBackends.first?.condition?.text == "if is_api internal")
    }

    @Test("an unconditional use_backend is still the route of every request, and later rules are unreachable")
    func unconditionalRule() throws {
        let f = try #require(frontend(["use_backend hit", "use_backend miss if TRUE"]))
        #expect(f.hasConditionalRouting)
        #expect(f.routedBackend == "hit")
        #expect(f.backend(for: request()) == "hit")
        #expect(f.reachableBackends == ["hit", "miss"])
        let plain = try #require(frontend([]))
        #expect(!plain.hasConditionalRouting)
        #expect(plain.routedBackend == "miss")
        #expect(plain.reachableBackends == ["miss"])
    }

    @Test("a realistic content-switching frontend")
    func realisticConfig() throws {
        let result = parse(
            """
            frontend www
                bind :80
                acl is_api path_beg -i /api
                acl is_static path_end .css .js
                use_backend api if is_api
                use_backend static if is_static !is_api
                default_backend web
            backend api
                server api1 10.0.0.11:8080
            backend static
                server st1 10.0.0.21:80
            backend web
                server web1 10.0.0.31:80

            """)
        #expect(result.diagnostics.isEmpty)
        let www = try #require(result.config.frontend(named: "www"))
        #expect(www.backend(for: request("GET", "/API/v1/users?page=2")) == "api")
        #expect(www.backend(for: request("GET", "/api/app.js")) == "api")
        #expect(www.backend(for: request("GET", "/assets/site.css?v=3")) == "static")
        #expect(www.backend(for: request("GET", "http://www.example.com/assets/app.js")) == "static")
        #expect(www.backend(for: request("GET", "/index.html")) == "web")
        #expect(www.backend(for: request("GET", "/styles.css.map")) == "web")
        #expect(www.reachableBackends == ["api", "static", "web"])
        #expect(www.useBackends.allSatisfy { $0.condition?.isConnectionLevel == false })
    }

    @Test("the example of docs/lb-operations.md routes as described")
    func documentedExample() throws {
        let f = try #require(
            frontend([
                "acl is_api    path_beg -i /api", "acl is_static path_end .css .js",
                "acl office    src 192.0.2.0/24 2001:db8::/32",
                "use_backend hit if is_api office || is_api { hdr(x-api-key) -m found }",
                "use_backend hit if is_static !is_api",
            ]))
        #expect(f.backend(for: request("GET", "/api/x", source: [192, 0, 2, 1])) == "hit")
        #expect(f.backend(for: request("GET", "/api/x", fields: [("X-API-Key", "k")], source: v4Client)) == "hit")
        #expect(f.backend(for: request("GET", "/api/x", source: v4Client)) == "miss")
        #expect(f.backend(for: request("GET", "/a.css")) == "hit")
    }

    @Test("connection-level conditions use only src and always_*")
    func connectionLevel() throws {
        let f = try #require(
            frontend([
                "acl office src 192.0.2.0/24", "use_backend hit if office or TRUE",
                "use_backend hit if { always_false }",
                "use_backend hit if office METH_GET",
            ]))
        #expect(f.useBackends.map { $0.condition?.isConnectionLevel } == [true, true, false])
    }
}

/// A rejected configuration line and the exact diagnostics printed for it.
struct RejectedLine: CustomTestStringConvertible, Sendable {
    var lines: [String]
    var expected: [String]

    init(_ lines: [String], _ expected: [String]) {
        self.lines = lines
        self.expected = expected
    }

    var testDescription: String { lines.joined(separator: " / ") }
}

/// Line `n` (1-based) of the lines given to `frontendConfig`, as printed.
private func at(_ n: Int) -> String { "t.cfg:\(quietOffset + 3 + n)" }

private let rejectedLines: [RejectedLine] = [
    RejectedLine(
        ["acl a foo /api"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : unknown fetch method 'foo' in ACL "
            + "expression 'foo'."]),
    RejectedLine(
        ["acl a path_bge /api"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : unknown fetch method 'path_bge' in "
            + "ACL expression 'path_bge'; did you mean 'path_beg'?"]),
    RejectedLine(
        ["acl a req.cook(session) x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'req.cook' is not supported yet by "
            + "Portico."]),
    RejectedLine(
        ["acl a ssl_fc"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'ssl_fc' is not supported yet by "
            + "Portico."]),
    RejectedLine(
        ["acl a src foo"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'foo' is not a valid IPv4 or IPv6 "
            + "address."]),
    RejectedLine(
        ["acl a src 10.0.0.0/33"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : '10.0.0.0/33' is not a valid IPv4 or "
            + "IPv6 address."]),
    RejectedLine(
        ["acl a path -m foo /x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : unknown matching method 'foo' when "
            + "parsing ACL expression."]),
    RejectedLine(
        ["acl a path -z x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : '-z' is not a valid ACL option. "
            + "Please use '--' before any pattern beginning with a '-'."]),
    RejectedLine(
        ["acl a"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : missing fetch method in ACL "
            + "expression ''."]),
    RejectedLine(["acl"], ["[ALERT] parsing [\(at(1))] : 'acl' expects <name> and <criterion> as arguments."]),
    RejectedLine(
        ["acl a! path /x"], ["[ALERT] parsing [\(at(1))] : character '!' is not permitted in acl name 'a!'."]),
    RejectedLine(
        ["acl or path /x"],
        ["[ALERT] parsing [\(at(1))] : acl name 'or' will never match. 'or' is used to express a logical "
            + "disjunction within a condition."]),
    RejectedLine(
        ["acl a path_beg(x) /a"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : ACL keyword 'path_beg' : expected ')' "
            + "before 'x)'."]),
    RejectedLine(
        ["acl a hdr_cnt(x) foo"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'foo' is not a number."]),
    RejectedLine(
        ["acl a hdr_cnt(x) gt foo"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'foo' is neither a number nor a "
            + "supported operator."]),
    RejectedLine(
        ["acl a hdr foo"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : 'hdr' without a header name is not "
            + "supported yet by Portico (HAProxy then reads every header field)."]),
    RejectedLine(
        ["acl a hdr(host),lower x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : converters (',lower') are not "
            + "supported yet by Portico."]),
    RejectedLine(
        ["acl a path -f /etc/haproxy/paths.lst"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : ACL flag '-f' is not supported yet "
            + "by Portico."]),
    RejectedLine(
        ["acl a src -m beg 10."],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : matching method 'beg' on fetch 'src' "
            + "is not supported yet by Portico."]),
    RejectedLine(
        ["use_backend hit if nosuch"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : no such ACL : 'nosuch'."]),
    RejectedLine(
        ["use_backend hit if a", "acl a path /x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : no such ACL : 'a'."]),
    RejectedLine(
        ["use_backend hit when TRUE"],
        ["[ALERT] parsing [\(at(1))] : unexpected keyword 'when' after switching rule, only 'if' and 'unless' are "
            + "allowed."]),
    RejectedLine(
        ["use_backend hit if { path /x"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : missing closing '}' in "
            + "condition."]),
    RejectedLine(
        ["use_backend hit if { path /x } }"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : no such ACL : '}'."]),
    RejectedLine(
        ["use_backend hit if { }"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : missing fetch method in ACL "
            + "expression ''."]),
    RejectedLine(
        ["use_backend hit if {path /x}"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : no such ACL : '{path'."]),
    RejectedLine(
        ["use_backend hit if { path_bge /x }"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : unknown fetch method 'path_bge' "
            + "in ACL expression 'path_bge'; did you mean 'path_beg'?"]),
    RejectedLine(
        ["use_backend hit if HTTP_1.1"],
        ["[ALERT] parsing [\(at(1))] : error detected while parsing switching rule : predefined ACL 'HTTP_1.1' is "
            + "not supported yet by Portico."]),
    RejectedLine(
        ["use_backend %[req.hdr(host),lower]"],
        ["[ALERT] parsing [\(at(1))] : 'use_backend' with a dynamic backend name ('%[req.hdr(host),lower]') is not "
            + "supported yet by Portico."]),
    RejectedLine(
        ["use_backend nosuch if TRUE"],
        ["[ALERT] parsing [\(at(1))] : Proxy 'f': unable to find required use_backend: 'nosuch'."]),
    RejectedLine(
        ["acl a path_beg /x", "use_backend hit if a", "use_backend gone unless a"],
        ["[ALERT] parsing [\(at(3))] : Proxy 'f': unable to find required use_backend: 'gone'."]),
    // HAProxy's warnings (the configuration still loads).
    RejectedLine(
        ["acl a path_beg"],
        ["[WARNING] parsing [\(at(1))] : parsing acl keyword 'path_beg' : no pattern to match against were "
            + "provided, so this ACL will never match. If this is what you intended, please add '--' to get rid of "
            + "this warning. If you intended to match only for existence, please use '-m found'."]),
    RejectedLine(
        ["use_backend hit if"],
        ["[WARNING] parsing [\(at(1))] : 'use_backend hit if' has an empty condition: the rule never applies."]),
]

@Suite struct ACLParsingTests {
    @Test(arguments: rejectedLines)
    func rejected(_ testCase: RejectedLine) {
        #expect(report(frontendConfig(testCase.lines)) == testCase.expected)
    }

    @Test("a bad regex is an alert at its line")
    func badRegex() {
        let lines = report(frontendConfig(["acl a path_reg (", "use_backend hit if { hdr_reg(host) [ }"]))
        #expect(lines.count == 2)
        let aclAlert = "[ALERT] parsing [\(at(1))] : error detected while parsing ACL 'a' : regex '(' is invalid ("
        let ruleAlert =
            "[ALERT] parsing [\(at(2))] : error detected while parsing switching rule : regex '[' is invalid ("
        #expect(lines.first?.hasPrefix(aclAlert) == true)
        #expect(lines.last?.hasPrefix(ruleAlert) == true)
    }

    /// Lines HAProxy 2.6 accepts (checked with `haproxy -c`) and Portico parses without a word.
    @Test(arguments: [
        "acl a path_beg /api /static",
        "acl a path_beg -i /API",
        "acl a path -m beg /x",
        "acl a path -m found",
        "acl a path -i -m sub x",
        "acl a path -- -x",
        "acl a path /x -i",
        "acl a path_dir img",
        "acl a path_reg ^/(a|b)/[0-9]+$",
        "acl a url_beg http://",
        "acl a url_sub -i debug",
        "acl a method GET post",
        "acl a hdr(host) -i example.com www.example.com",
        "acl a hdr_beg(host) -i www.",
        "acl a hdr_end(host) .example.com",
        "acl a hdr_sub(user-agent) curl",
        "acl a hdr_dom(host) -i example.com",
        "acl a hdr_reg(host) ^a+",
        "acl a hdr(x-api-key) -m found",
        "acl a hdr(host,1) x",
        "acl a req.hdr(host) x",
        "acl a hdr_cnt(x-tag) gt 2",
        "acl a req.hdr_cnt(content-length) eq 0",
        "acl a src 10.0.0.0/8 ::1 2001:db8::/32 192.168.1.7",
        "acl a src 10.0.0.0/255.0.0.0",
        "acl a always_true",
        "acl a always_false",
        "acl a path_beg /a\n    acl a path_beg /b",
        "use_backend hit if TRUE FALSE or METH_GET || !LOCALHOST",
        "use_backend hit if { path /x } !{ method GET }",
        "use_backend hit if or TRUE",
        "use_backend hit if TRUE or",
        "use_backend hit if ! TRUE",
        "use_backend hit if !!TRUE",
        "use_backend hit unless METH_POST HTTP_CONTENT",
        "use_backend hit if HTTP HTTP_URL_ABS HTTP_URL_SLASH HTTP_URL_STAR METH_CONNECT METH_DELETE METH_HEAD",
        "use_backend hit if METH_OPTIONS METH_PUT METH_TRACE",
        "acl TRUE path /x\n    use_backend hit if TRUE",
    ])
    func accepted(_ line: String) {
        #expect(report(frontendConfig([line])) == [])
    }

    @Test("'acl' is refused in an anonymous defaults section, as HAProxy 2.6 does; a named one keeps it to itself")
    func aclInDefaults() {
        #expect(
            report("defaults\n    acl a path /x\n")
                == ["[ALERT] parsing [t.cfg:7] : 'acl' not allowed in anonymous 'defaults' section."])
        let named = report(
            "defaults d1\n    acl a path /x\n" + frontendConfig(["use_backend hit if a"]).replacingOccurrences(
                of: "frontend f", with: "frontend f from d1"))
        #expect(named.contains { $0.contains("no such ACL : 'a'") })
    }

    @Test("an acl in a backend is parsed and checked too")
    func aclInBackend() {
        #expect(report("backend b\n    acl a path_beg /x\n    server s 10.0.0.1:80\n") == [])
        #expect(
            report("backend b\n    acl a path_bgn /x\n    server s 10.0.0.1:80\n")
                == [
                    "[ALERT] parsing [t.cfg:7] : error detected while parsing ACL 'a' : unknown fetch method "
                        + "'path_bgn' in ACL expression 'path_bgn'; did you mean 'path_beg'?"
                ])
    }

    @Test("conditional use_backend to a backend of the other mode is refused like an unconditional one")
    func modeMismatch() {
        let text =
            frontendConfig(["use_backend other if { path_beg /x }"])
            + "backend other\n    mode tcp\n    server s 10.0.0.9:80\n"
        let lines = report(text)
        #expect(lines.count == 1)
        let expected =
            "[ALERT] parsing [\(at(1))] : http frontend 'f' (t.cfg:6) tries to use incompatible tcp backend 'other'"
        #expect(lines.first?.hasPrefix(expected) == true)
    }

    @Test("the prometheus exporter condition keeps its own parser")
    func prometheusExporter() throws {
        let result = parse(
            frontendConfig([
                "http-request use-service prometheus-exporter if { path /metrics }", "use_backend hit if { path /x }",
            ]))
        #expect(result.diagnostics.isEmpty)
        #expect(result.config.frontend(named: "f")?.prometheusExporterPath == "/metrics")
    }
}

@Suite struct ACLTCPModeTests {
    @Test("a tcp frontend routes on src and always_* only; HTTP fetches are refused at the rule's line")
    func tcpFrontend() throws {
        let text = frontendConfig(
            [
                "acl office src 192.0.2.0/24", "acl api path_beg /api", "use_backend hit if office",
                "use_backend hit if { always_true } !office", "use_backend hit if api", "use_backend hit if METH_GET",
                "use_backend hit if office or { hdr(host) x }",
            ], mode: "tcp")
        #expect(
            report(text) == [
                "[ALERT] parsing [\(at(5))] : error detected while parsing switching rule : fetch method 'path_beg' "
                    + "extracts information from 'HTTP request headers', none of which is available here (in a 'mode "
                    + "tcp' frontend Portico routes on 'src', 'always_true' and 'always_false' only).",
                "[ALERT] parsing [\(at(6))] : error detected while parsing switching rule : fetch method 'method' "
                    + "extracts information from 'HTTP request', none of which is available here (in a 'mode tcp' "
                    + "frontend Portico routes on 'src', 'always_true' and 'always_false' only).",
                "[ALERT] parsing [\(at(7))] : error detected while parsing switching rule : fetch method 'hdr' "
                    + "extracts information from 'HTTP request headers', none of which is available here (in a 'mode "
                    + "tcp' frontend Portico routes on 'src', 'always_true' and 'always_false' only).",
            ])
    }

    @Test("a tcp frontend with src rules routes connections by client address")
    func tcpRouting() throws {
        let result = parse(
            frontendConfig(["acl office src 192.0.2.0/24 2001:db8::/32", "use_backend hit if office"], mode: "tcp"))
        #expect(result.diagnostics.isEmpty)
        let f = try #require(result.config.frontend(named: "f"))
        let connection = { (source: [UInt8]?) in TestRequest(method: "", target: "", sourceAddress: source) }
        #expect(f.useBackends.allSatisfy { $0.condition?.isConnectionLevel == true })
        #expect(f.backend(for: connection([192, 0, 2, 77])) == "hit")
        #expect(f.backend(for: connection(v6Client)) == "hit")
        #expect(f.backend(for: connection([198, 51, 100, 1])) == "miss")
        #expect(f.backend(for: connection(nil)) == "miss")
    }
}
