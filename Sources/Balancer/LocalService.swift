import BalancerCore
import HAProxyConfig
import NIOCore
import NIOHTTP1

/// What a proxy answers itself: the statistics page (`stats enable`, `stats uri`: HTML, `;csv`,
/// `;json`, admin actions posted by the page) and the Prometheus exposition
/// (`http-request use-service prometheus-exporter if { path /metrics }`). The proxy handler asks it for
/// each request head whether the request is one of these; if so it collects the body, takes the answer
/// from here, sends it and closes the connection (so requests pipelined behind it are not answered, as
/// with HAProxy's stats applet). Requests are taken one at a time, so answers stay in request order.
final class LocalService: Sendable {
    enum Target {
        case stats(StatsPage)
        case prometheus

        /// The pseudo-server HAProxy logs for such requests.
        var serviceName: String {
            switch self {
            case .stats: return "<STATS>"
            case .prometheus: return "<PROMEX>"
            }
        }
    }

    /// A complete response: the head with its framing fields, and the body.
    struct Answer {
        let head: HTTPResponseHead
        let body: String
    }

    private let page: StatsPage?
    private let prometheusPath: String?
    private let control: RuntimeControl

    /// nil when the frontend serves neither the page nor the exposition.
    init?(frontend: Frontend, control: RuntimeControl) {
        guard frontend.stats != nil || frontend.prometheusExporterPath != nil else { return nil }
        self.page = frontend.stats
        self.prometheusPath = frontend.prometheusExporterPath
        self.control = control
    }

    func answer(_ target: Target, request head: HTTPRequestHead, body: [UInt8], clientIP: String) -> Answer {
        switch target {
        case .prometheus:
            let text = PrometheusExposition.render(self.control.snapshot())
            return Self.answer(head, .ok, contentType: PrometheusExposition.contentType, body: text)
        case .stats(let page):
            return self.serveStats(head, page, body, clientIP: clientIP)
        }
    }

    func target(for uri: String) -> Target? {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? uri
        if let prometheusPath, path == prometheusPath { return .prometheus }
        // HAProxy serves the page for any URI starting with `stats uri` (so `/stats;csv` and `/stats?x`).
        if let page, uri.hasPrefix(page.uri) { return .stats(page) }
        return nil
    }

    private func serveStats(
        _ head: HTTPRequestHead, _ page: StatsPage, _ body: [UInt8], clientIP: String
    ) -> Answer {
        let authorization = StatsAuthorization(
            credentials: page.credentials.map { .init(user: $0.user, password: $0.password) }, realm: page.realm)
        guard case .allowed = authorization.check(authorization: head.headers["authorization"].first) else {
            var headers = HTTPHeaders()
            headers.add(name: "www-authenticate", value: authorization.challengeHeader)
            return Self.answer(
                head, .unauthorized, contentType: "text/html",
                body: "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this "
                    + "content.\n</body></html>\n", extraHeaders: headers)
        }
        let admin = Self.adminAllowed(page, clientIP: clientIP)
        let suffix = String(head.uri.dropFirst(page.uri.count))
        if head.method == .POST {
            guard admin else {
                return Self.answer(
                    head, .forbidden, contentType: "text/html",
                    body: "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n"
                        + "</body></html>\n")
            }
            let status = self.performAdminForm(body)
            var headers = HTTPHeaders()
            headers.add(name: "location", value: page.uri + ";st=" + status)
            return Self.answer(head, .seeOther, contentType: "text/plain", body: "", extraHeaders: headers)
        }
        let snapshot = self.control.snapshot()
        if suffix.contains(";csv") {
            return Self.answer(head, .ok, contentType: "text/plain", body: StatsCSV.render(snapshot))
        } else if suffix.contains(";json") {
            return Self.answer(head, .ok, contentType: "application/json", body: StatsJSON.render(snapshot))
        } else {
            var actionStatus: String?
            if let range = suffix.range(of: ";st=") {
                actionStatus = String(suffix[range.upperBound...].prefix { $0.isLetter || $0 == "_" })
            }
            let refresh = suffix.contains(";norefresh") ? nil : page.refresh.map { Int($0.components.seconds) }
            let html = StatsPageHTML.render(
                snapshot,
                options: .init(
                    uri: page.uri, refreshSeconds: refresh, hideVersion: page.hideVersion, admin: admin,
                    actionStatus: actionStatus))
            return Self.answer(head, .ok, contentType: "text/html; charset=utf-8", body: html)
        }
    }

    private static func adminAllowed(_ page: StatsPage, clientIP ip: String) -> Bool {
        switch page.admin {
        case .none: return false
        case .some(.always): return true
        case .some(.localhost):
            return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
        }
    }

    /// `b=BACKEND&s=SERVER&s=SERVER&action=drain`, as the page's form posts it. Returns HAProxy's
    /// `st=` word: DONE, NONE (nothing selected), or PART/ERRP when some change failed.
    private func performAdminForm(_ body: [UInt8]) -> String {
        var backend: String?
        var servers: [String] = []
        var action: String?
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let value = Self.formDecode(String(parts[1]))
            switch parts[0] {
            case "b": backend = value
            case "s": servers.append(value)
            case "action": action = value
            default: break
            }
        }
        guard let backend, let action, !servers.isEmpty,
            let change = StatsPageHTML.adminActions.first(where: { $0.value == action })?.change
        else { return "NONE" }
        let replies = servers.map {
            self.control.apply(change, to: RuntimeAPI.ServerReference(backend: backend, server: $0))
        }
        let failures = replies.filter { $0 != RuntimeAPI.done }.count
        if failures == 0 { return "DONE" }
        return failures == replies.count ? "ERRP" : "PART"
    }

    static func formDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func answer(
        _ request: HTTPRequestHead, _ status: HTTPResponseStatus, contentType: String, body: String,
        extraHeaders: HTTPHeaders = HTTPHeaders()
    ) -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "content-length", value: String(body.utf8.count))
        headers.add(name: "connection", value: "close")
        headers.add(contentsOf: extraHeaders)
        let version: HTTPVersion = request.version.minor == 0 ? .http1_0 : .http1_1
        return Answer(head: HTTPResponseHead(version: version, status: status, headers: headers), body: body)
    }
}
