#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import NIOCore
import WebServer

/// A document root like the seed's web01 (index.html "web01", health "ok") plus files for each case, and a
/// secret file outside the root that traversal attempts aim at. Removed by `remove()`.
struct TestSite {
    let base: String
    let root: String
    let secret: String
    static let secretText = "TOP-SECRET-OUTSIDE-ROOT"

    init() throws {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("portico-web-\(UUID().uuidString)").path
        self.base = base
        self.root = base + "/root"
        self.secret = base + "/secret.txt"
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try files.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try write("web01\n", to: "index.html")
        try write("ok\n", to: "health")
        try write("sub\n", to: "sub/index.html")
        try Self.secretText.write(toFile: secret, atomically: false, encoding: .utf8)
        try files.createSymbolicLink(atPath: root + "/escape", withDestinationPath: secret)
        try files.createSymbolicLink(atPath: root + "/sub/escape-dir", withDestinationPath: base)
        try files.createSymbolicLink(atPath: root + "/inside", withDestinationPath: root + "/index.html")
    }

    func write(_ text: String, to relative: String) throws {
        try text.write(toFile: root + "/" + relative, atomically: false, encoding: .utf8)
    }

    func write(_ bytes: [UInt8], to relative: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + relative))
    }

    /// Sets a file's mtime, so its ETag and Last-Modified are known in advance.
    func setModified(_ relative: String, seconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        utimensat(AT_FDCWD, root + "/" + relative, &times, 0)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Runs `body` against a server on an ephemeral loopback port; the server is stopped and the site removed
    /// afterwards, also when `body` throws.
    static func withServer(
        accessLog: Bool = false,
        maxCachedFileSize: Int = 1 << 20,
        _ body: (TestSite, WebServer, Int) async throws -> Void
    ) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let configuration = WebServerConfiguration(
            root: site.root,
            listen: [ListenAddress(host: "127.0.0.1", port: 0)],
            accessLogPath: accessLog ? site.base + "/access.log" : nil,
            name: "web01",
            maxCachedFileSize: maxCachedFileSize
        )
        let server = WebServer(configuration: configuration)
        let addresses = try await server.start()
        guard let port = addresses.first?.port, port > 0 else {
            await server.stop()
            throw RawHTTPConnection.Failure(description: "no bound port in \(addresses)")
        }
        do {
            try await body(site, server, port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
