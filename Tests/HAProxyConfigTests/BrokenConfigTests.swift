import Testing

@testable import HAProxyConfig

/// A broken configuration and the exact lines Portico must print for it. Snippets are parsed after
/// `quietDefaults`, so snippet line N is reported as `t.cfg:N+5`.
struct BrokenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var config: String
    var expected: [String]

    var testDescription: String { name }
}

private let backendTail = "\n    server s 10.0.0.1:80\n"

let brokenCases: [BrokenCase] = [
    BrokenCase(
        name: "misspelled proxy keyword",
        config: "backend b\n    balanse roundrobin" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:7] : unknown keyword 'balanse' in 'backend' section; did you mean 'balance'?"
        ]),
    BrokenCase(
        name: "keyword HAProxy does not know, nothing close",
        config: "backend b\n    frobnicate yes" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : unknown keyword 'frobnicate' in 'backend' section"]),
    BrokenCase(
        name: "misspelled global keyword",
        config: "global\n    daemonn\n    maxconn 100\n",
        expected: [
            "[ALERT] parsing [t.cfg:7] : unknown keyword 'daemonn' in 'global' section; did you mean 'daemon'?"
        ]),
    BrokenCase(
        name: "misspelled option",
        config: "backend b\n    option forwardfro" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : unknown option 'forwardfro'; did you mean 'forwardfor'?"]),
    BrokenCase(
        name: "misspelled timeout",
        config: "backend b\n    timeout conect 5s" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:7] : 'timeout' supports 'client', 'server', 'connect', 'check', 'queue', "
                + "'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' "
                + "(got 'conect'); did you mean 'timeout connect'?"
        ]),
    BrokenCase(
        name: "misspelled server option",
        config: "backend b\n    server web01 10.0.0.1:80 chek inter 2s\n",
        expected: ["[ALERT] parsing [t.cfg:7] : 'server b/web01' : unknown keyword 'chek'; did you mean 'check'?"]),
    BrokenCase(
        name: "misspelled balance algorithm",
        config: "backend b\n    balance roundrobbin" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:7] : 'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'source', "
                + "'first' and 'random' (got 'roundrobbin'); did you mean 'roundrobin'?"
        ]),
    BrokenCase(
        name: "misspelled log facility",
        config: "global\n    log 127.0.0.1 locl2\n",
        expected: ["[ALERT] parsing [t.cfg:7] : log : unknown log facility 'locl2'; did you mean 'local2'?"]),
    BrokenCase(
        name: "real HAProxy keyword not implemented",
        config: "backend b\n    hash-type consistent" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : 'hash-type' is not supported yet by Portico"]),
    BrokenCase(
        name: "real HAProxy option not implemented",
        config: "backend b\n    option http-buffer-request" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : 'option http-buffer-request' is not supported yet by Portico"]),
    BrokenCase(
        name: "real HAProxy keyword family not implemented",
        config: "frontend f\n    bind :80\n    tcp-request connection accept\n    default_backend b\nbackend b"
            + backendTail,
        expected: ["[ALERT] parsing [t.cfg:8] : 'tcp-request connection' is not supported yet by Portico"]),
    BrokenCase(
        name: "real three-word HAProxy keyword not implemented",
        config: "frontend f\n    bind :80\n    capture request header Host len 32\n    default_backend b\nbackend b"
            + backendTail,
        expected: ["[ALERT] parsing [t.cfg:8] : 'capture request header' is not supported yet by Portico"]),
    BrokenCase(
        name: "real HAProxy global keyword not implemented",
        config: "global\n    ulimit-n 65536\n",
        expected: ["[ALERT] parsing [t.cfg:7] : 'ulimit-n' is not supported yet by Portico"]),
    BrokenCase(
        name: "real server option not implemented",
        config: "backend b\n    server s 10.0.0.1:80 check send-proxy\n",
        expected: ["[ALERT] parsing [t.cfg:7] : 'server b/s' : 'send-proxy' is not supported yet by Portico"]),
    BrokenCase(
        name: "real bind option not implemented",
        config: "frontend f\n    bind :443 ssl crt /etc/ssl/site.pem\n    default_backend b\nbackend b" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : 'bind :443' : 'ssl' is not supported yet by Portico"]),
    BrokenCase(
        name: "real HAProxy section not implemented, its body skipped",
        config: "peers mypeers\n    peer lb01 192.168.10.11:10000\n    peer lb02 192.168.10.12:10000\n",
        expected: ["[ALERT] parsing [t.cfg:6] : 'peers' sections are not supported yet by Portico"]),
    BrokenCase(
        name: "http frontend with a tcp default backend",
        config: "frontend f\n    bind :80\n    default_backend b\nbackend b\n    mode tcp" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:8] : http frontend 'f' (t.cfg:6) tries to use incompatible tcp backend 'b' "
                + "(t.cfg:9) as its default backend (see 'mode')."
        ]),
    BrokenCase(
        name: "tcp listen with an http backend",
        config: "listen l\n    mode tcp\n    bind :80\n    use_backend b\n    server s 10.0.0.2:80\nbackend b" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:9] : tcp proxy 'l' using http backend 'b' (t.cfg:11) is not supported yet by "
                + "Portico (HAProxy upgrades the connection to HTTP there); give both the same 'mode'."
        ]),
    BrokenCase(
        name: "use_backend naming an ACL nobody declared",
        config: "frontend f\n    bind :80\n    use_backend b if is_api\n    default_backend b\nbackend b" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:8] : error detected while parsing switching rule : no such ACL : 'is_api'."
        ]),
    BrokenCase(
        name: "unsupported http-request action",
        config: "frontend f\n    bind :80\n    http-request tarpit\n    default_backend b\nbackend b" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:8] : 'http-request tarpit' is not supported yet by Portico"]),
    BrokenCase(
        name: "unsupported stats admin condition",
        config: "listen s\n    bind :8404\n    stats admin if { src 10.0.0.0/8 }\n",
        expected: [
            "[ALERT] parsing [t.cfg:8] : 'stats admin if { src 10.0.0.0/8 }' is not supported yet by Portico "
                + "(only 'stats admin if TRUE' and 'stats admin if LOCALHOST')."
        ]),
    BrokenCase(
        name: "default_backend naming a missing backend",
        config: "frontend f\n    bind :80\n    default_backend web_backen\nbackend web_backend" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:8] : Proxy 'f': unable to find required default_backend: 'web_backen'."]),
    BrokenCase(
        name: "use_backend naming a frontend",
        config: "frontend f\n    bind :80\n    use_backend g\nfrontend g\n    bind :81\n    default_backend f\n",
        expected: [
            "[ALERT] parsing [t.cfg:8] : Proxy 'f': unable to find required use_backend: 'g'.",
            "[ALERT] parsing [t.cfg:11] : Proxy 'g': unable to find required default_backend: 'f'.",
        ]),
    BrokenCase(
        name: "duplicate backend names",
        config: "backend b" + backendTail + "listen b\n    bind :80" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:8] : listen 'b' has the same name as backend 'b' declared at t.cfg:6."]),
    BrokenCase(
        name: "duplicate server names",
        config: "backend b\n    server web01 10.0.0.1:80\n    server web01 10.0.0.2:80\n",
        expected: [
            "[ALERT] parsing [t.cfg:8] : backend 'b', another server named 'web01' was already defined at line 7, "
                + "please use distinct names."
        ]),
    BrokenCase(
        name: "frontend without bind",
        config: "frontend f\n    default_backend b\nbackend b" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:6] : frontend 'f' has no 'bind' directive. Please declare it as a backend if this "
                + "was intended."
        ]),
    BrokenCase(
        name: "backend without server",
        config: "backend empty\n    balance roundrobin\n",
        expected: [
            "[WARNING] parsing [t.cfg:6] : backend 'empty' has no server; requests sent to it will get 503 Service "
                + "Unavailable."
        ]),
    BrokenCase(
        name: "server addresses that do not parse",
        config: "backend b\n    server a 192.168.10.321:80\n    server b 10.0.0.1\n    server c 10.0.0.1:70000\n"
            + "    server d *:80\n    server e unix@/run/app.sock\n",
        expected: [
            "[ALERT] parsing [t.cfg:7] : 'server b/a' : invalid address: '192.168.10.321:80'.",
            "[ALERT] parsing [t.cfg:8] : 'server b/b' : missing port in address '10.0.0.1'; Portico needs "
                + "<addr>:<port>.",
            "[ALERT] parsing [t.cfg:9] : 'server b/c' : invalid port '70000' in address '10.0.0.1:70000'.",
            "[ALERT] parsing [t.cfg:10] : 'server b/d' : invalid address: '*:80' (a server needs a real address).",
            "[ALERT] parsing [t.cfg:11] : 'server b/e' : 'unix@' server addresses are not supported yet by Portico",
        ]),
    BrokenCase(
        name: "bind addresses that do not parse",
        config: "frontend f\n    bind 1.2.3.4.5:80\n    bind 10.0.0.1\n    bind :80-90\n    default_backend b\n"
            + "backend b" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:7] : 'bind' : invalid address: '1.2.3.4.5' in '1.2.3.4.5:80'",
            "[ALERT] parsing [t.cfg:8] : 'bind' : missing port number: '10.0.0.1'",
            "[ALERT] parsing [t.cfg:9] : 'bind' : port ranges (':80-90') are not supported yet by Portico",
        ]),
    BrokenCase(
        name: "invalid numbers",
        config: "backend b\n    retries many\n    server s 10.0.0.1:80 weight 300\n    server t 10.0.0.2:80 fall 0\n"
            + "    fullconn -1\n",
        expected: [
            "[ALERT] parsing [t.cfg:7] : 'retries' expects an integer argument (got 'many').",
            "[ALERT] parsing [t.cfg:8] : 'server b/s' : 'weight' expects an integer between 0 and 256 (got '300').",
            "[ALERT] parsing [t.cfg:9] : 'server b/t' : 'fall' expects an integer of at least 1 (got '0').",
            "[ALERT] parsing [t.cfg:10] : 'fullconn' expects an integer argument (got '-1').",
        ]),
    BrokenCase(
        name: "invalid time values",
        config: "backend b\n    timeout server 30x\n    timeout queue 30d\n    server s 10.0.0.1:80 check inter 2sx\n"
            + "    server t 10.0.0.2:80 check inter 0\n",
        expected: [
            "[ALERT] parsing [t.cfg:7] : unexpected character 'x' in 'timeout server' (got '30x'); units are us, "
                + "ms, s, m, h, d (a bare number is milliseconds).",
            "[ALERT] parsing [t.cfg:8] : timer overflow in argument '30d' to 'timeout queue' (maximum value is "
                + "2147483647 ms or ~24.8 days)",
            "[ALERT] parsing [t.cfg:9] : 'server b/s' : unexpected character 'x' in 'inter' (got '2sx'); units are us, "
                + "ms, s, m, h, d (a bare number is milliseconds).",
            "[ALERT] parsing [t.cfg:10] : 'server b/t' : 'inter' expects a positive delay (got '0').",
        ]),
    BrokenCase(
        name: "unmatched quote",
        config: "global\n    pidfile \"/run/portico.pid\n",
        expected: ["[ALERT] parsing [t.cfg:7] : unmatched quote at position 13"]),
    BrokenCase(
        name: "server in a frontend, backend keyword in a frontend",
        config: "frontend f\n    bind :80\n    server s 10.0.0.1:80\n    balance leastconn\n    default_backend b\n"
            + "backend b" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:8] : 'server' not allowed because frontend 'f' has no backend capability.",
            "[WARNING] parsing [t.cfg:9] : 'balance' ignored because frontend 'f' has no backend capability.",
        ]),
    BrokenCase(
        name: "bind in defaults",
        config: "defaults\n    bind :80\n",
        expected: ["[ALERT] parsing [t.cfg:7] : 'bind' not allowed in 'defaults' section."]),
    BrokenCase(
        name: "global keyword in a proxy",
        config: "backend b\n    daemon" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:7] : 'daemon' is only allowed in the 'global' section."]),
    BrokenCase(
        name: "bad http-check expect status",
        config: "backend b\n    option httpchk GET /health\n    http-check expect status 2xx" + backendTail,
        expected: [
            "[ALERT] parsing [t.cfg:8] : 'http-check expect status' expects status codes such as '200', '200,204' or "
                + "'200-399' (got '2xx')."
        ]),
    BrokenCase(
        name: "http-check rules without option httpchk",
        config: "backend b\n    http-check expect status 200" + backendTail,
        expected: [
            "[WARNING] parsing [t.cfg:7] : backend 'b': 'http-check' rules are ignored because 'option httpchk' is not "
                + "set; checks are plain TCP connections."
        ]),
    BrokenCase(
        name: "from a defaults section that does not exist",
        config: "backend b from tcp_defaults" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:6] : 'backend': unable to find defaults section 'tcp_defaults'."]),
    BrokenCase(
        name: "invalid proxy name",
        config: "backend web/backend" + backendTail,
        expected: ["[ALERT] parsing [t.cfg:6] : invalid character '/' in backend name 'web/backend'."]),
]

@Suite struct BrokenConfigTests {
    @Test(arguments: brokenCases)
    func reportsExactDiagnostics(_ broken: BrokenCase) {
        let result = parse(broken.config)
        #expect(result.diagnostics.map(\.description) == broken.expected)
        let hasAlert = broken.expected.contains { $0.hasPrefix("[ALERT]") }
        #expect(result.hasAlerts == hasAlert)
        #expect(result.summaryLine == (hasAlert ? "[ALERT] config : Fatal errors found in configuration." : nil))
    }

    @Test func keywordBeforeAnySection() {
        #expect(
            report("    maxconn 100\nglobal\n    daemon\n", quiet: false) == [
                "[ALERT] parsing [t.cfg:1] : unknown keyword 'maxconn' out of section."
            ])
    }

    @Test func frontendWithoutRoute() {
        #expect(
            report("frontend f\n    bind :80\n") == [
                "[WARNING] parsing [t.cfg:6] : frontend 'f' has no 'default_backend' nor 'use_backend': every "
                    + "request will get 503 Service Unavailable."
            ])
    }

    @Test func missingTimeoutsWarnLikeHAProxy() {
        let lines = report("frontend f\n    bind :80\n    default_backend b\nbackend b" + backendTail, quiet: false)
        let tail =
            ". While not properly invalid, you will certainly encounter various problems with such a "
            + "configuration. To fix this, please ensure that all following timeouts are set to a non-zero value: "
            + "'client', 'connect', 'server'."
        #expect(
            lines == [
                "[WARNING] parsing [t.cfg:1] : missing timeouts for frontend 'f'" + tail,
                "[WARNING] parsing [t.cfg:4] : missing timeouts for backend 'b'" + tail,
            ])
    }
}
