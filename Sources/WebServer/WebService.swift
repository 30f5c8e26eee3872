import ServiceLifecycle

/// Runs a `WebServer` as a swift-service-lifecycle service: serves until graceful shutdown (SIGTERM/SIGINT in
/// `portico web`) or cancellation, then stops gracefully.
public struct WebService: Service {
    public let server: WebServer

    public init(server: WebServer) {
        self.server = server
    }

    public func run() async throws {
        try await server.start()
        // Returns on graceful shutdown; throws on cancellation. Either way the server stops the same way.
        try? await gracefulShutdown()
        await server.stop()
    }
}
