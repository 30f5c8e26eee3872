import Testing

@testable import HAProxyConfig

/// A frontend whose fourth line is `line`.
private func frontend(_ line: String) -> String {
    """
    frontend f
        mode http
        bind 127.0.0.1:8080
        \(line)
        default_backend b
    backend b
        server s 127.0.0.1:8081

    """
}

private let lineNumber = quietOffset + 4

private func alert(_ message: String) -> String { "[ALERT] parsing [t.cfg:\(lineNumber)] : \(message)" }

private func ruleError(_ rule: String, _ message: String) -> String {
    alert("error detected in frontend 'f' while parsing '\(rule)' rule : \(message)")
}

struct ParsedValue: CustomTestStringConvertible, Sendable {
    var line: String
    var segments: [LogFormat.Segment]
    var testDescription: String { line }
}

private let hostHeader = LogFormat.Segment.sample(.header(name: "host", occurrence: -1))

private let parsedRequestValues: [ParsedValue] = [
    ParsedValue(line: "http-request set-header X-Real-IP %[src]", segments: [.sample(.source)]),
    ParsedValue(line: "http-request set-header X-Forwarded-Host %[req.hdr(host)]", segments: [hostHeader]),
    ParsedValue(line: "http-request set-header X-Forwarded-Host %[hdr(Host)]", segments: [hostHeader]),
    ParsedValue(line: "http-request set-header X-Host %[hdr(host,0)]", segments: [hostHeader]),
    ParsedValue(
        line: "http-request set-header X-First %[req.hdr(x-a,1)]",
        segments: [.sample(.header(name: "x-a", occurrence: 1))]),
    ParsedValue(
        line: "http-request set-header X-Line %[req.fhdr(user-agent)]",
        segments: [.sample(.fullHeader(name: "user-agent", occurrence: -1))]),
    ParsedValue(
        line: "http-request set-header X-Count %[req.hdr_cnt(x-a)]", segments: [.sample(.headerCount(name: "x-a"))]),
    ParsedValue(
        line: "http-request set-header X-Count %[hdr_cnt(x-a)]", segments: [.sample(.headerCount(name: "x-a"))]),
    ParsedValue(line: "http-request add-header X-Path %[path]", segments: [.sample(.path)]),
    ParsedValue(line: "http-request add-header X-URL %[url]", segments: [.sample(.url)]),
    ParsedValue(line: "http-request add-header X-Query %[query]", segments: [.sample(.query)]),
    ParsedValue(line: "http-request add-header X-Method %[method]", segments: [.sample(.method)]),
    ParsedValue(line: "http-request set-header X-Client %ci", segments: [.clientAddress]),
    ParsedValue(
        line: "http-request set-header X-Client ip=%ci:", segments: [.literal("ip="), .clientAddress, .literal(":")]),
    ParsedValue(
        line: "http-request set-header X-Info \"proto=%[req.hdr(x-forwarded-proto)];ip=%[src]\"",
        segments: [
            .literal("proto="), .sample(.header(name: "x-forwarded-proto", occurrence: -1)), .literal(";ip="),
            .sample(.source),
        ]),
    ParsedValue(line: "http-request set-header X-Rate 100%%", segments: [.literal("100%")]),
    ParsedValue(line: "http-request set-header X-Odd %[src]x]", segments: [.sample(.source), .literal("x]")]),
    ParsedValue(line: "http-response set-header X-Client %[src]", segments: [.sample(.source)]),
    ParsedValue(line: "http-response add-header X-Client %ci", segments: [.clientAddress]),
]

struct RefusedValue: CustomTestStringConvertible, Sendable {
    var line: String
    var expected: String
    var testDescription: String { line }
}

private let setHeader = "http-request set-header"

/// HAProxy 2.6.12's wording (`haproxy -c`) for what it refuses too; Portico's "not supported yet" otherwise.
private let refusedValues: [RefusedValue] = [
    RefusedValue(line: "http-request set-header X %[src", expected: ruleError(setHeader, "missing ']' after 'src'.")),
    RefusedValue(
        line: "http-request set-header X %[]",
        expected: ruleError(setHeader, "failed to parse sample expression <]> : missing fetch method.")),
    RefusedValue(
        line: "http-request set-header X \"%[ src]\"",
        expected: ruleError(setHeader, "failed to parse sample expression < src]> : missing fetch method.")),
    RefusedValue(
        line: "http-request set-header X %[foo]abc",
        expected: ruleError(setHeader, "failed to parse sample expression <foo]abc> : unknown fetch method 'foo'.")),
    RefusedValue(
        line: "http-request set-header X x%[hdr(a,b)]",
        expected: ruleError(
            setHeader,
            "failed to parse sample expression <hdr(a,b)]> : fetch method 'hdr' : failed to parse 'b' as type "
                + "'integer' at position 2.")),
    RefusedValue(
        line: "http-request set-header X %[hdr(a]",
        expected: ruleError(
            setHeader, "failed to parse sample expression <hdr(a]> : fetch method 'hdr' : expected ')'.")),
    RefusedValue(
        line: "http-request set-header X %ci%cix",
        expected: ruleError(
            setHeader,
            "no such format variable 'cix'. If you wanted to emit the '%' character verbatim, you need to use '%%'.")),
    RefusedValue(line: "http-request set-header X a%", expected: ruleError(setHeader, "truncated line after '%'.")),
    RefusedValue(
        line: "http-request add-header X %cp",
        expected: alert("'http-request add-header': log-format directive '%cp' is not supported yet by Portico")),
    RefusedValue(
        line: "http-request set-header X %T",
        expected: alert("'http-request set-header': log-format directive '%T' is not supported yet by Portico")),
    RefusedValue(
        line: "http-request set-header X %{+Q}ci",
        expected: alert("'http-request set-header': log-format directive '%{+Q}ci' is not supported yet by Portico")),
    RefusedValue(
        line: "http-request set-header X %[req.hdr(host),lower]",
        expected: alert(
            "'http-request set-header': converters (',lower') in '%[req.hdr(host),lower]' are not supported yet by "
                + "Portico")),
    RefusedValue(
        line: "http-request set-header X %[dst]",
        expected: alert(
            "'http-request set-header': fetch method 'dst' in '%[dst]' is not supported yet by Portico")),
    RefusedValue(
        line: "http-request set-header X %[hdr]",
        expected: alert(
            "'http-request set-header': '%[hdr]' without a header name is not supported yet by Portico (HAProxy "
                + "then reads every header field)")),
    RefusedValue(
        line: "http-response set-header X %[req.hdr(host)]",
        expected: ruleError(
            "http-response set-header",
            "sample fetch <req.hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' "
                + "which is not available here.")),
    RefusedValue(
        line: "http-response set-header X %[path]",
        expected: ruleError(
            "http-response set-header",
            "sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is "
                + "not available here.")),
    RefusedValue(
        line: "http-response add-header X %[method]",
        expected: alert(
            "'http-response add-header': fetch method '%[method]' is not supported yet by Portico in http-response "
                + "values (only '%[src]' and '%ci')")),
    RefusedValue(
        line: "http-request set-header Content-Length %[hdr(x-len)]",
        expected: alert(
            "'http-request set-header' on 'Content-Length' is refused by Portico: it would change how the message's "
                + "body is delimited (request smuggling, response splitting).")),
]

struct RenderedValue: CustomTestStringConvertible, Sendable {
    var value: String
    var request: TestRequest
    var expected: String
    var testDescription: String { "\(value) for \(request)" }
}

private let shopper = TestRequest(
    method: "POST", target: "/shop/cart?id=7&x=1",
    fields: [
        ("Host", "example.com"), ("X-A", "one, two"), ("x-a", "three"), ("User-Agent", "curl/8.0, like x"),
        ("X-Forwarded-Proto", "https"),
    ])

private func from(_ address: [UInt8]?, _ base: TestRequest = TestRequest()) -> TestRequest {
    var request = base
    request.sourceAddress = address
    return request
}

private func target(_ target: String) -> TestRequest { TestRequest(target: target) }

private let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7]
private let documentation: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]

private let renderedValues: [RenderedValue] = [
    RenderedValue(value: "%[src]", request: shopper, expected: "192.0.2.10"),
    RenderedValue(value: "%ci", request: shopper, expected: "192.0.2.10"),
    RenderedValue(value: "%[src]", request: from(documentation), expected: "2001:db8::1"),
    RenderedValue(value: "%ci", request: from(mapped), expected: "::ffff:198.51.100.7"),
    RenderedValue(value: "%[src]", request: from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), expected: "::1"),
    RenderedValue(
        value: "%[src]", request: from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),
        expected: "2001:db8:0:1::1"),
    RenderedValue(
        value: "%[src]", request: from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]),
        expected: "2001:db8:1:0:1:1:1:1"),
    RenderedValue(value: "[%[src]]", request: from(nil), expected: "[]"),
    RenderedValue(value: "%[req.hdr(host)]", request: shopper, expected: "example.com"),
    // A sample expression's hdr is one value: the last of every comma-separated value of every line.
    RenderedValue(value: "%[hdr(x-a)]", request: shopper, expected: "three"),
    RenderedValue(value: "%[hdr(x-a,1)]", request: shopper, expected: "one"),
    RenderedValue(value: "%[hdr(x-a,2)]", request: shopper, expected: "two"),
    RenderedValue(value: "%[hdr(x-a,-2)]", request: shopper, expected: "two"),
    RenderedValue(value: "<%[hdr(x-a,4)]>", request: shopper, expected: "<>"),
    RenderedValue(value: "%[req.hdr_cnt(x-a)]", request: shopper, expected: "3"),
    RenderedValue(value: "%[hdr_cnt(x-missing)]", request: shopper, expected: "0"),
    RenderedValue(value: "%[req.fhdr(user-agent)]", request: shopper, expected: "curl/8.0, like x"),
    RenderedValue(value: "%[req.fhdr(x-a)]", request: shopper, expected: "three"),
    RenderedValue(value: "%[req.fhdr(x-a,1)]", request: shopper, expected: "one, two"),
    RenderedValue(value: "host=%[hdr(x-missing)];", request: shopper, expected: "host=;"),
    RenderedValue(value: "%[path]", request: shopper, expected: "/shop/cart"),
    RenderedValue(value: "%[url]", request: shopper, expected: "/shop/cart?id=7&x=1"),
    RenderedValue(value: "%[query]", request: shopper, expected: "id=7&x=1"),
    RenderedValue(value: "%[method]", request: shopper, expected: "POST"),
    RenderedValue(value: "%[path]", request: target("http://example.com:8080/a/b?c=d"), expected: "/a/b"),
    RenderedValue(
        value: "%[url]", request: target("http://example.com:8080/a/b?c=d"), expected: "http://example.com:8080/a/b"
            + "?c=d"),
    RenderedValue(value: "%[query]", request: target("http://example.com/a?c=d"), expected: "c=d"),
    RenderedValue(value: "q=%[query]", request: target("/a"), expected: "q="),
    RenderedValue(value: "q=%[query]", request: target("/a?"), expected: "q="),
    RenderedValue(
        value: "proto=%[req.hdr(x-forwarded-proto)];ip=%[src]", request: shopper,
        expected: "proto=https;ip=192.0.2.10"),
    RenderedValue(value: "100%% of %[method]", request: shopper, expected: "100% of POST"),
    // Control characters in a sample cannot end the header line: HAProxy writes them as %XX.
    RenderedValue(
        value: "%[hdr(x-odd)]", request: TestRequest(fields: [("X-Odd", "a\tb\u{1}c\u{7f}")]), expected: "a\tb%01c%7F"),
]

@Suite("log-format values of set-header and add-header")
struct LogFormatTests {
    @Test(arguments: parsedRequestValues)
    func parsed(_ item: ParsedValue) throws {
        let result = parse(frontend(item.line))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let frontend = try #require(result.config.frontend(named: "f"))
        let requestEdit = frontend.httpRequestRules.first?.action.headerEdit
        let edit = try #require(
            item.line.hasPrefix("http-request") ? requestEdit : frontend.httpResponseRules.first?.action.headerEdit)
        let written = String(item.line.split(separator: " ", maxSplits: 3)[3])
        let text = written.hasPrefix("\"") ? String(written.dropFirst().dropLast()) : written
        let expected = LogFormat(text: text, segments: item.segments)
        switch edit {
        case .set(_, let value), .add(_, let value):
            #expect(value == expected)
            #expect(value.isLiteral == item.segments.allSatisfy { if case .literal = $0 { true } else { false } })
        case .delete:
            Issue.record("expected a set or add edit, got \(edit)")
        }
    }

    @Test(arguments: refusedValues)
    func refused(_ item: RefusedValue) {
        let result = parse(frontend(item.line))
        #expect(result.diagnostics.map(\.description) == [item.expected])
        let frontend = result.config.frontend(named: "f")
        #expect(frontend?.httpRequestRules.isEmpty ?? true)
        #expect(frontend?.httpResponseRules.isEmpty ?? true)
    }

    @Test(arguments: renderedValues)
    func rendered(_ item: RenderedValue) throws {
        let format = try LogFormat.parse(item.value).get()
        #expect(format.render(item.request) == item.expected)
    }

    @Test("a literal value renders its text without reading the request; its written form doubles '%'")
    func literal() throws {
        let value: LogFormat = "100% off"
        #expect(value.isLiteral)
        #expect(value.text == "100%% off")
        #expect(value.render(from(nil, TestRequest(method: "", target: ""))) == "100% off")
        #expect(try LogFormat.parse("100%% off").get() == value)
        let empty: LogFormat = ""
        #expect(empty.isLiteral && empty.render(TestRequest()) == "")
        #expect(try LogFormat.parse("%[src]").get().isLiteral == false)
    }
}
