import NIOCore
import NIOHTTP1

/// The small HTML pages nginx sends with its error and redirect statuses, signed `portico` instead of `nginx/x.y`.
enum ErrorPage {
    static let notAllowed = HTTPResponseStatus.custom(code: 405, reasonPhrase: "Not Allowed")

    /// nginx's page: CRLF line ends, status code and reason in the title and heading.
    static func body(for status: HTTPResponseStatus) -> ByteBuffer {
        let title = "\(status.code) \(status.reasonPhrase)"
        let text = "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n"
            + "<hr><center>portico</center>\r\n</body>\r\n</html>\r\n"
        return ByteBuffer(string: text)
    }

    static let badRequest = body(for: .badRequest)
    static let movedPermanently = body(for: .movedPermanently)
    static let forbidden = body(for: .forbidden)
    static let notFound = body(for: .notFound)
    static let methodNotAllowed = body(for: notAllowed)
    static let preconditionFailed = body(for: .preconditionFailed)
    static let internalServerError = body(for: .internalServerError)
}
