/// The `timeout` keywords of a proxy after defaults are applied. `nil` means the timeout is not set, which in HAProxy
/// means "no timeout" except where a fallback is documented below (HAProxy warns when `connect`, `client` or `server`
/// is missing in a proxy, and so does Portico).
public struct Timeouts: Sendable, Equatable {
    /// `timeout connect`: time to establish a connection to a server.
    public var connect: Duration?
    /// `timeout client`: client inactivity.
    public var client: Duration?
    /// `timeout server`: server inactivity (time to first response byte and between reads).
    public var server: Duration?
    /// `timeout http-request`: time to receive a complete request head (408 after it). Unset → `client`.
    public var httpRequest: Duration?
    /// `timeout http-keep-alive`: idle time between two requests on a kept-alive client connection.
    /// Unset → `httpRequest`, then `client`.
    public var httpKeepAlive: Duration?
    /// `timeout queue`: time a request may wait for a server slot (503 after it). Unset → `connect`.
    public var queue: Duration?
    /// `timeout check`: extra read timeout for health checks once connected. Unset → the server's `inter`.
    public var check: Duration?
    /// `timeout tunnel`: inactivity once a connection became a tunnel (e.g. WebSocket). Unset → `client`/`server`.
    public var tunnel: Duration?
    /// `timeout client-fin` / `timeout server-fin`: inactivity on the client / server side once one direction of
    /// a tunnel is shut (a peer sent its FIN). Unset → the tunnel's timeout.
    public var clientFin: Duration?
    public var serverFin: Duration?

    public init(
        connect: Duration? = nil, client: Duration? = nil, server: Duration? = nil, httpRequest: Duration? = nil,
        httpKeepAlive: Duration? = nil, queue: Duration? = nil, check: Duration? = nil, tunnel: Duration? = nil,
        clientFin: Duration? = nil, serverFin: Duration? = nil
    ) {
        self.connect = connect
        self.client = client
        self.server = server
        self.httpRequest = httpRequest
        self.httpKeepAlive = httpKeepAlive
        self.queue = queue
        self.check = check
        self.tunnel = tunnel
        self.clientFin = clientFin
        self.serverFin = serverFin
    }

    /// The request-head timeout with HAProxy's fallback applied.
    public var effectiveHTTPRequest: Duration? { httpRequest ?? client }
    /// The keep-alive idle timeout with HAProxy's fallbacks applied.
    public var effectiveHTTPKeepAlive: Duration? { httpKeepAlive ?? httpRequest ?? client }
    /// The queue timeout with HAProxy's fallback applied.
    public var effectiveQueue: Duration? { queue ?? connect }
}
