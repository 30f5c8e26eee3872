import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Writes log lines to stderr the way `keepalived -l -n` prints them on the console:
/// `Thu Nov 26 06:48:56 2026: (VI_1) Entering MASTER STATE`. Metadata is appended as `key=value`.
public struct KeepalivedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        var line = "\(Self.timestamp()): \(event.message)"
        if !all.isEmpty {
            line += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += "\n"
        _ = line.withCString { fputs($0, stderr) }
        fflush(stderr)
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Logs a message at most once per `interval` seconds per key, counting what it suppressed, so a flood of bad
/// packets cannot flood the log.
final class RateLimitedLog: @unchecked Sendable {
    private var last: [String: Double] = [:]
    private var suppressed: [String: Int] = [:]
    private var lock = pthread_mutex_t()
    private let interval: Double

    init(interval: Double = 10) {
        self.interval = interval
        pthread_mutex_init(&lock, nil)
    }

    /// Returns the message to log (with the count of suppressed repeats) or nil to stay quiet.
    func admit(_ key: String, _ message: String, now: Double = monotonicSeconds()) -> String? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let t = last[key], now - t < interval {
            suppressed[key, default: 0] += 1
            return nil
        }
        last[key] = now
        let skipped = suppressed.removeValue(forKey: key) ?? 0
        return skipped > 0 ? "\(message) (\(skipped) similar messages suppressed)" : message
    }
}
