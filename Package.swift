// swift-tools-version:6.0
import Foundation
import PackageDescription

// Pure modules (parsers, algorithms, state machines) depend on nothing but the standard library,
// so they can be built and tested without compiling SwiftNIO: `PORTICO_PURE=1 swift test`
// gives a fast inner loop on a 2-core machine. The full package is the default.
let pureOnly = ProcessInfo.processInfo.environment["PORTICO_PURE"] != nil

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let pureTargets: [Target] = [
    .target(name: "ConfigSuggestion"),
    .target(name: "HAProxyConfig", dependencies: ["ConfigSuggestion"]),
    .target(name: "BalancerCore"),
    .target(name: "KeepalivedConfig", dependencies: ["ConfigSuggestion", "VRRPCore"]),
    .target(name: "VRRPCore"),
    .target(name: "Preflight", dependencies: ["HAProxyConfig", "KeepalivedConfig"]),
    // posix_spawn with nothing inherited but stdin, stdout and stderr: for the lab, Keepalived-style scripts
    // and the tests (Foundation's Process crashes now and then on Linux; see Spawn.swift).
    .target(name: "Spawning"),
    .testTarget(name: "ConfigSuggestionTests", dependencies: ["ConfigSuggestion"]),
    .testTarget(name: "HAProxyConfigTests", dependencies: ["HAProxyConfig"]),
    .testTarget(name: "BalancerCoreTests", dependencies: ["BalancerCore"]),
    .testTarget(name: "KeepalivedConfigTests", dependencies: ["KeepalivedConfig"]),
    .testTarget(name: "VRRPCoreTests", dependencies: ["VRRPCore"]),
    // Node-pair fixtures are read through #filePath, not as resources.
    .testTarget(name: "PreflightTests", dependencies: ["Preflight", "Spawning"], exclude: ["Fixtures"]),
    .testTarget(name: "SpawningTests", dependencies: ["Spawning"]),
]

let ioTargets: [Target] = [
    .target(
        name: "Balancer",
        dependencies: ["HAProxyConfig", "BalancerCore", logging, lifecycle] + nio
    ),
    .target(
        name: "VRRPDaemon",
        dependencies: ["KeepalivedConfig", "VRRPCore", "Spawning", logging, lifecycle] + nio
    ),
    .target(
        name: "WebServer",
        dependencies: [logging, lifecycle, .product(name: "NIOConcurrencyHelpers", package: "swift-nio")] + nio
    ),
    .target(name: "Lab", dependencies: ["Spawning", logging] + nio),
    // `portico check --live`: what the running node shows (rtnetlink, /proc, its daemons' sockets).
    .target(
        name: "NodeObservation",
        dependencies: ["Preflight", "VRRPDaemon", .product(name: "NIOCore", package: "swift-nio")]),
    .executableTarget(
        name: "portico",
        dependencies: [
            "Balancer", "VRRPDaemon", "WebServer", "Lab", "Preflight", "NodeObservation",
            "HAProxyConfig", "KeepalivedConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            logging, lifecycle,
        ]
    ),
    .testTarget(
        name: "BalancerTests",
        dependencies: [
            "Balancer", "BalancerCore", "HAProxyConfig", "Spawning",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ] + nio
    ),
    .testTarget(
        name: "VRRPDaemonTests", dependencies: ["VRRPDaemon", "VRRPCore", "KeepalivedConfig", "Spawning"] + nio),
    .testTarget(name: "WebServerTests", dependencies: ["WebServer", "Spawning"] + nio),
    .testTarget(name: "LabTests", dependencies: ["Lab", "Spawning"]),
]

let package = Package(
    name: "Portico",
    platforms: [.macOS(.v14)],
    products: pureOnly ? [] : [.executable(name: "portico", targets: ["portico"])],
    dependencies: pureOnly
        ? []
        : [
            .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
            .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
            .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
            .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        ],
    targets: pureOnly ? pureTargets : pureTargets + ioTargets,
    swiftLanguageModes: [.v5]
)
