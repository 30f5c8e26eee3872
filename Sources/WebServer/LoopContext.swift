#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// What the connections of one event loop share: the file cache, the access log buffer and the current time's
/// text. Used only on its loop.
final class LoopContext {
    let store: FileStore
    let accessLog: AccessLogBuffer?
    private var second = -1
    private var dateText = ""
    private var logSecond = -1
    private var logTimeText = ""

    init(store: FileStore, accessLog: AccessLogBuffer?) {
        self.store = store
        self.accessLog = accessLog
    }

    /// The `Date` header value, recomputed at most once a second.
    var date: String {
        let now = Int(time(nil))
        if now != second {
            second = now
            dateText = HTTPDate.imfFixdate(now)
        }
        return dateText
    }

    /// `$time_local` for the access log, recomputed at most once a second.
    var logTime: String {
        let now = Int(time(nil))
        if now != logSecond {
            logSecond = now
            logTimeText = HTTPDate.logTime(now)
        }
        return logTimeText
    }
}
