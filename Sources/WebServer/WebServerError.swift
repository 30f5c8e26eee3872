#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum WebServerError: Error, CustomStringConvertible {
    /// The document root does not exist or is not a directory.
    case root(path: String, reason: String)
    /// The access log cannot be opened for appending.
    case accessLog(path: String, errno: CInt)
    /// A listen address could not be bound.
    case bind(address: ListenAddress, underlying: Error)
    /// `start()` called on a server that is running or has stopped.
    case notIdle
    /// No `--listen` address given.
    case noListenAddress

    public var description: String {
        switch self {
        case .root(let path, let reason):
            return "root \"\(path)\": \(reason)"
        case .accessLog(let path, let code):
            return "cannot open access log \"\(path)\": \(String(cString: strerror(code)))"
        case .bind(let address, let underlying):
            return "cannot listen on \(address): \(underlying)"
        case .notIdle:
            return "the web server was already started"
        case .noListenAddress:
            return "no listen address given"
        }
    }
}
