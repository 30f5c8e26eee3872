import BalancerCore
import HAProxyConfig
import NIOCore
import NIOHTTP1

/// Serves what a proxy answers itself: the statistics page (`stats enable`, `stats uri`: HTML, `;csv`,
/// `;json`, admin actions posted by the page) and the Prometheus exposition
/// (`http-request use-service prometheus-exporter if { path /metrics }`). Other requests go on to the
/// proxy handler untouched. Each local answer closes the connection, so the proxy handler's timers
/// never see a request it did not receive. A local request pipelined behind proxied ones is answered once
/// their responses are out, so responses stay in request order.
final class StatsEndpoint: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Target {
        case stats(StatsPage)
        case prometheus
    }

    private let page: StatsPage?
    private let prometheusPath: String?
    private let control: RuntimeControl
    /// The connection's exchange recorder: what is answered here is counted and logged like the rest.
    private let recorder: ExchangeRecorder
    private var current: (target: Target, head: HTTPRequestHead, body: [UInt8])?
    /// A request was answered here: everything after it on this connection is ignored until the close.
    private var finished = false
    /// Requests passed on to the proxy handler whose response has not ended yet.
    private var outstanding = 0
    /// A complete local request waiting for the proxied responses before it.
    private var held: (target: Target, head: HTTPRequestHead, body: [UInt8])?

    init(page: StatsPage?, prometheusPath: String?, control: RuntimeControl, recorder: ExchangeRecorder) {
        self.page = page
        self.prometheusPath = prometheusPath
        self.control = control
        self.recorder = recorder
    }

    /// Whether a frontend needs this handler at all.
    static func isNeeded(for frontend: Frontend) -> Bool {
        frontend.stats != nil || frontend.prometheusExporterPath != nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        if self.finished { return }
        switch part {
        case .head(let head):
            guard self.current == nil, let target = self.target(for: head.uri) else {
                self.outstanding += 1
                context.fireChannelRead(data)
                return
            }
            // The proxy handler records the requests it receives; this one stops here.
            self.recorder.requestReceived(head)
            self.current = (target, head, [])
        case .body(var buffer):
            guard self.current != nil else {
                context.fireChannelRead(data)
                return
            }
            // The admin form is small; a larger body is cut, which only makes the form invalid.
            if (self.current?.body.count ?? 0) < 65536, let bytes = buffer.readBytes(length: buffer.readableBytes) {
                self.current?.body += bytes
            }
        case .end:
            guard let current = self.current else {
                context.fireChannelRead(data)
                return
            }
            self.current = nil
            self.finished = true
            if self.outstanding > 0 {
                self.held = current
            } else {
                self.respond(context: context, target: current.target, head: current.head, body: current.body)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = self.unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        self.outstanding = max(0, self.outstanding - 1)
        if self.outstanding == 0, let held = self.held {
            self.held = nil
            // On the next loop turn: the proxy handler records the end of its response after this write
            // returns, and the local answer must be recorded as the next exchange, not inside that one.
            context.eventLoop.assumeIsolated().execute {
                self.respond(context: context, target: held.target, head: held.head, body: held.body)
            }
        }
    }

    private func target(for uri: String) -> Target? {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? uri
        if let prometheusPath, path == prometheusPath { return .prometheus }
        // HAProxy serves the page for any URI starting with `stats uri` (so `/stats;csv` and `/stats?x`).
        if let page, uri.hasPrefix(page.uri) { return .stats(page) }
        return nil
    }

    private func respond(context: ChannelHandlerContext, target: Target, head: HTTPRequestHead, body: [UInt8]) {
        self.recorder.servedLocally(Self.serviceName(target))
        switch target {
        case .prometheus:
            let text = PrometheusExposition.render(self.control.snapshot())
            self.send(context, head, .ok, contentType: PrometheusExposition.contentType, body: text)
        case .stats(let page):
            self.serveStats(context, head, page, body)
        }
    }

    private static func serviceName(_ target: Target) -> String {
        switch target {
        case .stats: return "<STATS>"
        case .prometheus: return "<PROMEX>"
        }
    }

    private func serveStats(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ page: StatsPage, _ body: [UInt8]
    ) {
        let authorization = StatsAuthorization(
            credentials: page.credentials.map { .init(user: $0.user, password: $0.password) }, realm: page.realm)
        guard case .allowed = authorization.check(authorization: head.headers["authorization"].first) else {
            var headers = HTTPHeaders()
            headers.add(name: "www-authenticate", value: authorization.challengeHeader)
            self.send(
                context, head, .unauthorized, contentType: "text/html",
                body: "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this "
                    + "content.\n</body></html>\n", extraHeaders: headers)
            return
        }
        let admin = self.adminAllowed(page, context)
        let suffix = String(head.uri.dropFirst(page.uri.count))
        if head.method == .POST {
            guard admin else {
                self.send(
                    context, head, .forbidden, contentType: "text/html",
                    body: "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n"
                        + "</body></html>\n")
                return
            }
            let status = self.performAdminForm(body)
            var headers = HTTPHeaders()
            headers.add(name: "location", value: page.uri + ";st=" + status)
            self.send(context, head, .seeOther, contentType: "text/plain", body: "", extraHeaders: headers)
            return
        }
        let snapshot = self.control.snapshot()
        if suffix.contains(";csv") {
            self.send(context, head, .ok, contentType: "text/plain", body: StatsCSV.render(snapshot))
        } else if suffix.contains(";json") {
            self.send(context, head, .ok, contentType: "application/json", body: StatsJSON.render(snapshot))
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
            self.send(context, head, .ok, contentType: "text/html; charset=utf-8", body: html)
        }
    }

    private func adminAllowed(_ page: StatsPage, _ context: ChannelHandlerContext) -> Bool {
        switch page.admin {
        case .none: return false
        case .some(.always): return true
        case .some(.localhost):
            guard let remote = context.channel.remoteAddress, let ip = remote.ipAddress else { return false }
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

    private func send(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus,
        contentType: String, body: String, extraHeaders: HTTPHeaders = HTTPHeaders()
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "content-length", value: String(body.utf8.count))
        headers.add(name: "connection", value: "close")
        headers.add(contentsOf: extraHeaders)
        let version: HTTPVersion = request.version.minor == 0 ? .http1_0 : .http1_1
        self.recorder.responseStarted(status: Int(status.code))
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
            promise: nil)
        if request.method != .HEAD, !body.isEmpty {
            context.write(
                self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))),
                promise: nil)
        }
        let channel = context.channel
        let written = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        self.recorder.responseEnded()
        written.whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
