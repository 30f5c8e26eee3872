import ArgumentParser
import Logging
import ServiceLifecycle
import WebServer

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve static files as the seed's nginx backend: index.html, /health, access log."
    )

    @Option(name: .long, help: "The document root (index.html for /, a file named health for /health).")
    var root: String

    @Option(name: .long, help: "ADDR:PORT, [IPV6]:PORT or PORT to listen on; repeat for several.")
    var listen: [String]

    @Option(name: .long, help: "Append an nginx 'combined' access log to this file.")
    var accessLog: String?

    @Option(name: .long, help: "This instance's name (e.g. web01) for the log.")
    var name: String = "web"

    func validate() throws {
        if listen.isEmpty { throw ValidationError("give at least one --listen ADDR:PORT") }
        for text in listen {
            do { _ = try ListenAddress(parsing: text) } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        let addresses = try listen.map { text in try ListenAddress(parsing: text) }
        var logger = Logger(label: "portico.web")
        logger.logLevel = .info
        let server = WebServer(
            configuration: WebServerConfiguration(root: root, listen: addresses, accessLogPath: accessLog, name: name),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: WebService(server: server))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // A WebServerError (bad root, port taken) reaches the operator as "Error: <description>".
        try await group.run()
    }
}
