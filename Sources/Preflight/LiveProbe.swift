import Foundation
import HAProxyConfig
import KeepalivedConfig

/// The I/O `portico check --live` needs from the node it runs on; the executable implements it over rtnetlink,
/// /proc and sockets, tests with canned answers.
public protocol LiveSystem: Sendable {
    /// Interfaces of this network namespace with their IPv4 addresses.
    func interfaces() throws -> [LocalInterface]
    /// The text of a file (`/proc/net/tcp`).
    func readText(_ path: String) throws -> String
    /// Whether a path exists (a control socket).
    func exists(_ path: String) -> Bool
    /// Entries of a directory (`/run/portico`), empty when it cannot be listed.
    func listDirectory(_ path: String) -> [String]
    /// One HTTP/1.0 GET to `host:port` (IPv4 or IPv6 literal), read until the server closes, bounded by `timeout`.
    func httpGet(host: String, port: Int, path: String, headers: [String: String], timeout: Double) throws -> [UInt8]
    /// One command line to a Unix stream socket, the answer read until the server closes, bounded by `timeout`.
    func unixRequest(path: String, command: String, timeout: Double) throws -> String
    /// The processes holding these socket inodes (from /proc/PID/fd), as far as they can be seen.
    func socketOwners(_ inodes: Set<UInt64>) -> [UInt64: SocketOwner]
}

/// An I/O step that failed, with what was attempted.
public struct LiveProbeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Decides what to look at from the node's files, and collects the observation through a ``LiveSystem``.
public struct LiveProbe: Sendable {
    /// `--vrrp-socket`: the `portico vrrp` control socket; nil → derived from keepalived.conf's `router_id`, else
    /// the only `vrrp-*.sock` in /run/portico.
    public var vrrpSocket: String?
    public var timeout: Double

    public init(vrrpSocket: String? = nil, timeout: Double = 2) {
        self.vrrpSocket = vrrpSocket
        self.timeout = timeout
    }

    public func observe(_ node: LoadedNode, system: LiveSystem) -> LiveObservation {
        let interfaces = (try? system.interfaces()) ?? []
        var listeners: [ListeningSocket] = []
        for (path, ipv6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
            guard let text = try? system.readText(path) else { continue }
            listeners += LiveParsing.listeners(procNetTCP: text, ipv6: ipv6)
        }
        let owners = system.socketOwners(Set(listeners.compactMap(\.inode)))
        for index in listeners.indices {
            listeners[index].owner = listeners[index].inode.flatMap { owners[$0] }
        }
        return LiveObservation(
            interfaces: interfaces, listeners: listeners, balancer: balancerView(node.balancer.config, system: system),
            vrrp: vrrpView(node.vrrp.config, system: system))
    }

    /// The stats socket when haproxy.cfg has a Unix one (no credentials needed), else the stats page over HTTP with
    /// the config's first `stats auth` credentials.
    func balancerView(_ config: BalancerConfig, system: LiveSystem) -> BalancerView {
        if let socket = config.global.statsSockets.first(where: { $0.path.hasPrefix("/") }) {
            let source = "stats socket \(socket.path)"
            do {
                let answer = try system.unixRequest(path: socket.path, command: "show stat", timeout: timeout)
                guard let servers = LiveParsing.servers(statsCSV: answer) else {
                    return .unavailable(source: source, reason: "the answer is not CSV statistics")
                }
                return .servers(servers, source: source)
            } catch {
                return .unavailable(source: source, reason: "\(error)")
            }
        }
        guard let (host, port, path, credential) = statsPage(config) else { return .notConfigured }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let source = "http://\(shownHost):\(port)\(path)"
        var headers: [String: String] = [:]
        if let credential {
            let token = Data("\(credential.user):\(credential.password)".utf8).base64EncodedString()
            headers["Authorization"] = "Basic \(token)"
        }
        do {
            let bytes = try system.httpGet(host: host, port: port, path: path, headers: headers, timeout: timeout)
            guard let (status, body) = LiveParsing.httpResponse(bytes) else {
                return .unavailable(source: source, reason: "no HTTP response")
            }
            guard status == 200 else {
                let hint = status == 401 ? " (the stats auth credentials of haproxy.cfg were refused)" : ""
                return .unavailable(source: source, reason: "HTTP \(status)\(hint)")
            }
            guard let servers = LiveParsing.servers(statsCSV: body) else {
                return .unavailable(source: source, reason: "the page is not CSV statistics")
            }
            return .servers(servers, source: source)
        } catch {
            return .unavailable(source: source, reason: "\(error)")
        }
    }

    /// The first proxy serving a stats page and one of its binds, as an address this node can connect to.
    func statsPage(_ config: BalancerConfig) -> (String, Int, String, StatsCredential?)? {
        for frontend in config.frontends {
            let backendStats = frontend.routedBackend.flatMap { config.backend(named: $0)?.stats }
            guard let stats = frontend.stats ?? backendStats, let bind = frontend.binds.first else { continue }
            let host: String
            switch bind.address.host {
            case .anyIPv4: host = "127.0.0.1"
            case .anyIPv6: host = "::1"
            case .ipv4(let text), .ipv6(let text), .name(let text): host = text
            }
            return (host, bind.address.port, stats.uri + ";csv", stats.credentials.first)
        }
        return nil
    }

    func vrrpView(_ config: VRRPConfig, system: LiveSystem) -> VRRPView {
        let socket: String
        if let vrrpSocket {
            socket = vrrpSocket
        } else if let id = config.global.routerID, system.exists("/run/portico/vrrp-\(id).sock") {
            socket = "/run/portico/vrrp-\(id).sock"
        } else {
            let sockets = system.listDirectory("/run/portico").filter { $0.hasPrefix("vrrp-") && $0.hasSuffix(".sock") }
            guard sockets.count == 1, let only = sockets.first else { return .noControlSocket }
            socket = "/run/portico/" + only
        }
        do {
            let answer = try system.unixRequest(path: socket, command: "status", timeout: timeout)
            let status = try JSONDecoder().decode(VRRPDaemonStatus.self, from: Data(answer.utf8))
            return .daemon(status, socket: socket)
        } catch let error as DecodingError {
            return .unavailable(socket: socket, reason: "unexpected answer to status: \(error)")
        } catch {
            return .unavailable(socket: socket, reason: "\(error)")
        }
    }
}
