#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One request as nginx's `combined` log format records it:
/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
struct AccessLogEntry {
    var remoteAddress: String
    var timeLocal: String
    /// The request line, e.g. `GET / HTTP/1.1`; `nil` when the request could not be parsed.
    var request: RequestLine?
    var status: Int
    var bodyBytesSent: Int
    var referer: String?
    var userAgent: String?

    struct RequestLine {
        var method: String
        var uri: String
        var version: HTTPVersion
    }

    /// The line without its newline.
    var combinedLine: String {
        var buffer = ByteBuffer()
        write(into: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the line (without its newline) straight into `buffer`: no intermediate strings per request.
    /// Values are escaped as nginx does (`"`, `\`, control and non-ASCII bytes become `\xHH`), so a client
    /// cannot forge log fields.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeString(remoteAddress)
        buffer.writeStaticString(" - - [")
        buffer.writeString(timeLocal)
        buffer.writeStaticString("] \"")
        if let request {
            Self.writeEscaped(request.method, into: &buffer)
            buffer.writeStaticString(" ")
            Self.writeEscaped(request.uri, into: &buffer)
            buffer.writeStaticString(" HTTP/")
            Self.writeDecimal(Int(request.version.major), into: &buffer)
            buffer.writeStaticString(".")
            Self.writeDecimal(Int(request.version.minor), into: &buffer)
        }
        buffer.writeStaticString("\" ")
        Self.writeDecimal(status, into: &buffer)
        buffer.writeStaticString(" ")
        Self.writeDecimal(bodyBytesSent, into: &buffer)
        buffer.writeStaticString(" \"")
        Self.writeEscaped(referer ?? "-", into: &buffer)
        buffer.writeStaticString("\" \"")
        Self.writeEscaped(userAgent ?? "-", into: &buffer)
        buffer.writeStaticString("\"")
    }

    static func escaped(_ value: String) -> String {
        var buffer = ByteBuffer()
        writeEscaped(value, into: &buffer)
        return String(buffer: buffer)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func writeEscaped(_ value: String, into buffer: inout ByteBuffer) {
        let needsEscape = value.utf8.contains { $0 < 0x20 || $0 >= 0x7f || $0 == 0x22 || $0 == 0x5c }
        guard needsEscape else {
            buffer.writeString(value)
            return
        }
        for byte in value.utf8 {
            if byte < 0x20 || byte >= 0x7f || byte == 0x22 || byte == 0x5c {
                buffer.writeBytes([
                    UInt8(ascii: "\\"), UInt8(ascii: "x"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)],
                ])
            } else {
                buffer.writeInteger(byte)
            }
        }
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        guard value >= 10 else {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: max(value, 0)))
            return
        }
        buffer.writeString(String(value))
    }
}

/// The open access log file. Lines are written with `O_APPEND` in whole-line chunks, under a lock taken once per
/// batch (not per request), so lines from different event loops never interleave and nothing is written once the
/// file is closed (its descriptor number could belong to another file by then).
final class AccessLogFile: Sendable {
    let path: String
    /// -1 once closed.
    private let descriptor: NIOLockedValueBox<CInt>

    init(path: String) throws(WebServerError) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .accessLog(path: path, errno: errno) }
        self.path = path
        self.descriptor = NIOLockedValueBox(descriptor)
    }

    func writeLines(_ buffer: ByteBuffer) {
        descriptor.withLockedValue { descriptor in
            guard descriptor >= 0 else { return }
            Self.writeAll(buffer, to: descriptor)
        }
    }

    private static func writeAll(_ buffer: ByteBuffer, to descriptor: CInt) {
        buffer.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // A full disk must not stop the server; nginx drops the line too.
                }
                offset += written
            }
        }
    }

    func closeFile() {
        descriptor.withLockedValue { descriptor in
            guard descriptor >= 0 else { return }
            _ = close(descriptor)
            descriptor = -1
        }
    }
}

/// Lines logged on one event loop, written out once the loop has finished its current batch of I/O:
/// one `write` per batch instead of one per request, and no line waits longer than that.
final class AccessLogBuffer {
    private let file: AccessLogFile
    private let eventLoop: EventLoop
    private var pending: ByteBuffer
    private var flushScheduled = false

    init(file: AccessLogFile, eventLoop: EventLoop) {
        self.file = file
        self.eventLoop = eventLoop
        self.pending = ByteBufferAllocator().buffer(capacity: 16 << 10)
    }

    func append(_ entry: AccessLogEntry) {
        entry.write(into: &pending)
        pending.writeInteger(UInt8(ascii: "\n"))
        if pending.readableBytes >= 64 << 10 {
            flush()
        } else if !flushScheduled {
            flushScheduled = true
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.execute { bound.value.flush() }
        }
    }

    func flush() {
        flushScheduled = false
        guard pending.readableBytes > 0 else { return }
        file.writeLines(pending)
        pending.clear()
    }
}
