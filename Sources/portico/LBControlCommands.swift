import ArgumentParser
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `portico lb ctl SOCKET 'command'`: a runtime API client, like `echo 'show stat' | socat stdio SOCKET`.
struct LBControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Send a runtime API command to a running balancer's stats socket and print the answer."
    )

    @Argument(help: "The `stats socket` path (or ADDR:PORT for a TCP runtime API).")
    var socket: String

    @Argument(parsing: .remaining, help: "The command, e.g. 'show stat' or 'set server web_backend/web01 state drain'.")
    var command: [String]

    @Option(name: .customLong("timeout"), help: "Seconds to wait for the answer.")
    var timeout: Int = 10

    func validate() throws {
        if self.command.isEmpty { throw ValidationError("no command given, e.g. 'show info'") }
    }

    func run() throws {
        let reply = try RuntimeClient.send(self.command.joined(separator: " "), to: self.socket, timeout: self.timeout)
        FileHandle.standardOutput.write(Data(reply.utf8))
        // HAProxy's error replies are single sentences; a failed command makes the exit status 1 for scripts.
        let trimmed = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        let failures = [
            "No such", "Can't find", "Unknown command", "Permission denied", "Require ", "expects ",
            "Absolute weight", "not supported",
        ]
        if failures.contains(where: { trimmed.hasPrefix($0) || trimmed.hasPrefix("'set server") }) {
            throw ExitCode(1)
        }
    }
}

/// `portico lb reload`: asks a running `portico lb` to reload its configuration (SIGHUP), as
/// `systemctl reload haproxy` does; the running process validates the new files and keeps the old
/// configuration if they are broken.
struct LBReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload a running balancer's configuration without dropping connections (sends SIGHUP)."
    )

    @Option(name: .customShort("p"), help: "The pid file of the running balancer.")
    var pidFile: String?

    @Option(name: .customLong("pid"), help: "The process id of the running balancer.")
    var pid: Int32?

    func run() throws {
        var target = self.pid
        if target == nil, let path = self.pidFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let value = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw ValidationError("cannot read a process id from \(path)") }
            target = value
        }
        guard let target else { throw ValidationError("give the running balancer with -p PIDFILE or --pid PID") }
        guard kill(target, SIGHUP) == 0 else {
            throw ValidationError("cannot signal process \(target): \(String(cString: strerror(errno)))")
        }
    }
}

enum RuntimeClientError: Error, CustomStringConvertible {
    case connect(String, String)
    case io(String)

    var description: String {
        switch self {
        case .connect(let target, let reason): return "cannot connect to \(target): \(reason)"
        case .io(let reason): return "runtime API: \(reason)"
        }
    }
}

/// A blocking one-shot client of the runtime API (no event loop needed for one line).
enum RuntimeClient {
    static func send(_ command: String, to target: String, timeout: Int) throws -> String {
        let descriptor = try connect(target)
        defer { close(descriptor) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let line = Array((command + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let count = line[sent...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw RuntimeClientError.io(String(cString: strerror(errno))) }
            sent += count
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                throw RuntimeClientError.io("no complete answer: \(String(cString: strerror(errno)))")
            }
            reply += buffer[0..<count]
        }
        return String(decoding: reply, as: UTF8.self)
    }

    private static func connect(_ target: String) throws -> Int32 {
        // HOST:PORT (IPv4) or the path of a UNIX socket; NIO's address type builds the sockaddr for both.
        let address: SocketAddress
        if let colon = target.lastIndex(of: ":"), !target.hasPrefix("/"),
            let port = UInt16(target[target.index(after: colon)...])
        {
            guard let ip = try? SocketAddress(ipAddress: String(target[..<colon]), port: Int(port)),
                case .v4 = ip
            else {
                throw RuntimeClientError.connect(target, "not an IPv4 address")
            }
            address = ip
        } else {
            guard let path = try? SocketAddress(unixDomainSocketPath: target) else {
                throw RuntimeClientError.connect(target, "path too long")
            }
            address = path
        }
        let descriptor = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue), 0)
        let result = address.withSockAddr { Glibc.connect(descriptor, $0, socklen_t($1)) }
        guard result == 0 else {
            close(descriptor)
            throw RuntimeClientError.connect(target, String(cString: strerror(errno)))
        }
        return descriptor
    }
}
