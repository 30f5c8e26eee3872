import NIOCore
import NIOHTTP1

/// The responses the balancer generates itself, with HAProxy's built-in bodies (the texts of
/// Debian's /etc/haproxy/errors/*.http), so clients and monitoring see what they saw with HAProxy.
enum HAProxyErrorResponse: Sendable {
    case badRequest
    case requestTimeout
    case headerFieldsTooLarge
    case badGateway
    case serviceUnavailable
    case gatewayTimeout

    var status: HTTPResponseStatus {
        switch self {
        case .badRequest: return .badRequest
        case .requestTimeout: return .requestTimeout
        case .headerFieldsTooLarge: return .requestHeaderFieldsTooLarge
        case .badGateway: return .badGateway
        case .serviceUnavailable: return .serviceUnavailable
        case .gatewayTimeout: return .gatewayTimeout
        }
    }

    /// HAProxy's reason phrases differ from NIO's for some codes ("Bad request", "Request Time-out").
    var reason: String {
        switch self {
        case .badRequest: return "Bad request"
        case .requestTimeout: return "Request Time-out"
        case .headerFieldsTooLarge: return "Request Header Fields Too Large"
        case .badGateway: return "Bad Gateway"
        case .serviceUnavailable: return "Service Unavailable"
        case .gatewayTimeout: return "Gateway Time-out"
        }
    }

    var body: String {
        let explanation: String
        switch self {
        case .badRequest: explanation = "Your browser sent an invalid request."
        case .requestTimeout: explanation = "Your browser didn't send a complete request in time."
        case .headerFieldsTooLarge: explanation = "Your browser sent a request with too large headers."
        case .badGateway: explanation = "The server returned an invalid or incomplete response."
        case .serviceUnavailable: explanation = "No server is available to handle this request."
        case .gatewayTimeout: explanation = "The server didn't respond in time."
        }
        return "<html><body><h1>\(self.status.code) \(self.reason)</h1>\n\(explanation)\n</body></html>\n"
    }

    /// Errors that end the exchange close the client connection, as HAProxy does for its own errors.
    func head(version: HTTPVersion) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(self.body.utf8.count))
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "connection", value: "close")
        headers.add(name: "content-type", value: "text/html")
        return HTTPResponseHead(
            version: version.minor == 0 ? .http1_0 : .http1_1,
            status: .custom(code: self.status.code, reasonPhrase: self.reason),
            headers: headers
        )
    }
}
