import Foundation
import KeepalivedConfig
import Testing

@testable import Preflight

/// Node pairs under `Tests/PreflightTests/Fixtures/<case>/{lb01,lb02}/`, read through `#filePath` so the tests
/// work in any clone without SwiftPM resources.
enum Fixtures {
    static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    static func path(_ pairCase: String, _ node: String) -> String { directory + "/" + pairCase + "/" + node }

    /// The addresses of the seed's topology (DESIGN.md): lb01 .11, lb02 .12 on 192.168.10.0/24.
    static let addresses: [String: NodeAddress] = [
        "lb01": NodeAddress(address: .init(192, 168, 10, 11), prefixLength: 24),
        "lb02": NodeAddress(address: .init(192, 168, 10, 12), prefixLength: 24),
    ]

    static func sources(
        _ pairCase: String, under root: String? = nil, balancer: BalancerKind = .portico, addresses: Bool = true
    ) -> [NodeSource] {
        ["lb01", "lb02"].map { node in
            NodeSource.directory(
                name: node, path: (root ?? directory) + "/" + pairCase + "/" + node,
                address: addresses ? Fixtures.addresses[node] : nil, balancer: balancer)
        }
    }

    static func nodes(_ pairCase: String, balancer: BalancerKind = .portico, addresses: Bool = true) -> [LoadedNode] {
        let loader = NodeLoader(fileSystem: LocalFileSystem())
        return sources(pairCase, balancer: balancer, addresses: addresses).map { loader.load($0) }
    }

    static func check(_ pairCase: String, balancer: BalancerKind = .portico, addresses: Bool = true) -> CheckReport {
        PreflightCheck.run(nodes(pairCase, balancer: balancer, addresses: addresses))
    }

    /// Copies a fixture pair into a fresh temporary directory (for permission changes git cannot store).
    static func copy(_ pairCase: String) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pchk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory + "/" + pairCase, toPath: root + "/" + pairCase)
        return root
    }
}

/// What a test expects of one finding: severity, category, node, file name, line, and words of the message.
struct Expected: CustomStringConvertible, Sendable {
    var severity: Finding.Severity
    var category: Finding.Category
    var node: String?
    var file: String?
    var line: Int?
    var fragment: String

    init(
        _ severity: Finding.Severity, _ category: Finding.Category, _ node: String?, _ file: String?, _ line: Int?,
        _ fragment: String
    ) {
        self.severity = severity
        self.category = category
        self.node = node
        self.file = file
        self.line = line
        self.fragment = fragment
    }

    func matches(_ finding: Finding) -> Bool {
        finding.severity == severity && finding.category == category && finding.node == node
            && finding.location?.fileName == file && finding.location?.line == line
            && finding.message.contains(fragment)
    }

    var description: String {
        "\(severity) \(category) \(node ?? "-") \(file ?? "-"):\(line.map(String.init) ?? "-") '\(fragment)'"
    }
}

func render(_ findings: [Finding]) -> String {
    findings.map { "\($0.severity) \($0.category) \($0.node ?? "-") \($0.location?.description ?? "-") \($0.message)" }
        .joined(separator: "\n")
}

/// Asserts that `findings` are exactly `expected`, one for one, in any order.
func expectExactly(_ findings: [Finding], _ expected: [Expected], sourceLocation: SourceLocation = #_sourceLocation) {
    var remaining = findings
    for item in expected {
        if let index = remaining.firstIndex(where: item.matches) {
            remaining.remove(at: index)
        } else {
            Issue.record("missing finding: \(item)\nfound:\n\(render(findings))", sourceLocation: sourceLocation)
        }
    }
    if !remaining.isEmpty {
        Issue.record("unexpected findings:\n\(render(remaining))", sourceLocation: sourceLocation)
    }
}

/// Files held in memory with any owner and mode, for Keepalived's script security rule on deployed paths.
struct InMemoryFileSystem: NodeFileSystem {
    var files: [String: (text: String, status: FileStatus)] = [:]
    var directories: [String: FileStatus] = [:]

    func readText(_ path: String) throws -> String {
        guard let file = files[path] else { throw FileAccessError(path: path, reason: "no such file") }
        return file.text
    }

    func listDirectory(_ path: String) throws -> [String] {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return files.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
            .map { String($0.dropFirst(prefix.count)) }
    }

    func status(_ path: String) -> FileStatus? {
        files[path]?.status ?? directories[path]
    }
}
