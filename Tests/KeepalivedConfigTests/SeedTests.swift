import Testing

@testable import KeepalivedConfig

/// The seed's files, read from the repository (`fixtures/seed/`) so the test works in any clone.
enum Seed {
    static let directory: String = {
        let testFile = "\(#filePath)"
        let testDirectory = String(testFile[..<(testFile.lastIndex(of: "/") ?? testFile.endIndex)])
        return ConfigPath.normalise(testDirectory + "/../../fixtures/seed")
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The model both seed files must produce, differing only in state and priority.
    static func expected(file: String, state: VRRPInstanceBlock.InitialState, priority: Int) -> VRRPConfig {
        func at(_ line: Int) -> ConfigLocation { ConfigLocation(file: file, line: line) }
        let script = VRRPScript(
            name: "chk_haproxy",
            location: at(1),
            keywordLocations: ["script": at(2), "interval": at(3), "fall": at(4), "rise": at(5), "weight": at(6)],
            command: ["/etc/keepalived/check_haproxy.sh"],
            interval: .seconds(2),
            timeout: nil,
            fall: 3,
            rise: 2,
            weight: -30
        )
        let instance = VRRPInstanceBlock(
            name: "VI_1",
            location: at(9),
            keywordLocations: [
                "state": at(10), "interface": at(11), "virtual_router_id": at(12), "priority": at(13),
                "advert_int": at(14), "garp_master_delay": at(16), "garp_master_repeat": at(17),
                "authentication": at(19), "track_script": at(24), "virtual_ipaddress": at(28),
            ],
            state: state,
            interface: "eth0",
            virtualRouterID: 51,
            priority: priority,
            advertIntervalCentiseconds: 100,
            version: 2,
            preempt: true,
            preemptDelay: .zero,
            garpMasterDelay: .seconds(1),
            garpMasterRepeat: 5,
            garpMasterRefresh: .zero,
            garpMasterRefreshRepeat: 1,
            authentication: Authentication(location: at(19), password: "12345678", passwordLocation: at(21)),
            trackScripts: [
                TrackedCheck(
                    name: "chk_haproxy", location: at(25), weight: -30, reverse: false,
                    weightOverridden: false)
            ],
            virtualIPAddresses: [
                VirtualIPAddress(
                    location: at(29), address: IPv4Address(192, 168, 10, 100), prefixLength: 24,
                    device: "eth0")
            ]
        )
        return VRRPConfig(
            file: file,
            global: GlobalDefinitions(location: at(1)),
            scripts: [script],
            instances: [instance]
        )
    }
}

@Suite struct SeedTests {
    @Test func lb01ParsesToTheExactModel() throws {
        let file = Seed.path("keepalived-lb01.conf")
        let result = KeepalivedConfigParser.parse(file: file, source: .fileSystem)
        #expect(result.diagnostics == [])
        #expect(result.config == Seed.expected(file: file, state: .master, priority: 120))
    }

    @Test func lb02ParsesToTheExactModel() throws {
        let file = Seed.path("keepalived-lb02.conf")
        let result = KeepalivedConfigParser.parse(file: file, source: .fileSystem)
        #expect(result.diagnostics == [])
        #expect(result.config == Seed.expected(file: file, state: .backup, priority: 100))
    }

    @Test func loadReturnsTheSeedConfigWithoutWarnings() throws {
        let (config, warnings) = try KeepalivedConfigParser.load(path: Seed.path("keepalived-lb01.conf"))
        #expect(warnings.isEmpty)
        #expect(config.instances.map(\.name) == ["VI_1"])
        #expect(config.instances.first?.advertInterval == .seconds(1))
        #expect(config.instances.first?.authentication?.wirePassword == Array("12345678".utf8))
    }

    @Test func theSeedPairPassesTheTrackingAnalysis() throws {
        let lb01 = try KeepalivedConfigParser.load(path: Seed.path("keepalived-lb01.conf")).config
        let lb02 = try KeepalivedConfigParser.load(path: Seed.path("keepalived-lb02.conf")).config
        #expect(trackingAnalysis(nodes: [lb01, lb02]) == [])
    }

    @Test func aMissingFileIsAnError() {
        let result = KeepalivedConfigParser.parse(file: Seed.path("nope.conf"), source: .fileSystem)
        #expect(result.diagnostics.hasErrors)
        #expect(throws: ConfigError.self) { try KeepalivedConfigParser.load(path: Seed.path("nope.conf")) }
    }
}
