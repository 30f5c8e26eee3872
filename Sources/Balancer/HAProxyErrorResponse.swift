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

    var reason: String { BuiltInPage.reason(Int(self.status.code)) }
    var body: String { BuiltInPage.body(Int(self.status.code)) }

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

/// HAProxy 2.6's built-in pages, by status: what its errors and `http-request deny [deny_status N]` send
/// (captured from haproxy 2.6.12; the stray "." of 501 is HAProxy's own).
enum BuiltInPage {
    private static let pages: [Int: (reason: String, explanation: String)] = [
        200: ("OK", "Service ready."),
        400: ("Bad request", "Your browser sent an invalid request."),
        401: ("Unauthorized", "You need a valid user and password to access this content."),
        403: ("Forbidden", "Request forbidden by administrative rules."),
        404: ("Not Found", "The resource could not be found."),
        405: (
            "Method Not Allowed",
            "A request was made of a resource using a request method not supported by that resource"
        ),
        407: ("Unauthorized", "You need a valid user and password to access this content."),
        408: ("Request Time-out", "Your browser didn't send a complete request in time."),
        410: ("Gone", "The resource is no longer available and will not be available again."),
        413: ("Payload Too Large", "The request entity exceeds the maximum allowed."),
        425: ("Too Early", "Your browser sent early data."),
        429: ("Too Many Requests", "You have sent too many requests in a given amount of time."),
        431: ("Request Header Fields Too Large", "Your browser sent a request with too large headers."),
        500: ("Internal Server Error", "An internal server error occurred."),
        501: ("Not Implemented", ".The server does not support the functionality required to fulfill the request."),
        502: ("Bad Gateway", "The server returned an invalid or incomplete response."),
        503: ("Service Unavailable", "No server is available to handle this request."),
        504: ("Gateway Time-out", "The server didn't respond in time."),
    ]

    static func reason(_ code: Int) -> String {
        pages[code]?.reason ?? HTTPResponseStatus(statusCode: code).reasonPhrase
    }

    static func body(_ code: Int) -> String {
        let explanation = pages[code]?.explanation ?? ""
        return "<html><body><h1>\(code) \(reason(code))</h1>\n\(explanation)\n</body></html>\n"
    }
}
