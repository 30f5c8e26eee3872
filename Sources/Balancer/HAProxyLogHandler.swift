import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes log lines to stderr the way HAProxy prints its messages there
/// (`[WARNING]  (1234) : Server web_backend/web01 is DOWN, ...`), so operators and scripts that
/// watch HAProxy's output recognise Portico's.
public struct HAProxyLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level

    public init(level: Logger.Level) {
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let tag: String
        switch event.level {
        case .trace, .debug: tag = "DEBUG"
        case .info: tag = "NOTICE"
        case .notice: tag = "NOTICE"
        case .warning: tag = "WARNING"
        case .error: tag = "ALERT"
        case .critical: tag = "ALERT"
        }
        // HAProxy pads the tag so the pid column lines up: "[ALERT]    (1234) : ", "[WARNING]  (1234) : ".
        let label = "[\(tag)]"
        var line = label + String(repeating: " ", count: max(1, 11 - label.count)) + "(\(getpid())) : \(event.message)"
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += "\n"
        _ = line.withCString { pointer in
            write(2, pointer, strlen(pointer))
        }
    }
}
