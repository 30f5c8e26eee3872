import Foundation
import Testing

@testable import Lab

@Suite struct StackSelectionTests {
    @Test func stacksPickEveryRole() throws {
        let reference = try StackSelection.parse(stack: "reference", web: nil, lb: nil, vrrp: nil)
        #expect(reference.implementation(of: .web, on: .web01) == .nginx)
        #expect(reference.implementation(of: .lb, on: .lb02) == .haproxy)
        #expect(reference.implementation(of: .vrrp, on: .lb01) == .keepalived)
        #expect(reference.summary == "reference")
        let portico = try StackSelection.parse(stack: nil, web: nil, lb: nil, vrrp: nil)
        #expect(portico == .portico)
        #expect(portico.requiredPrograms == ["ip", "ss", "bash", "setsid"])
    }

    @Test func rolesCanBeMixedPerRoleAndPerHost() throws {
        let mixed = try StackSelection.parse(
            stack: "portico", web: "nginx", lb: nil, vrrp: "lb01=keepalived,lb02=portico")
        #expect(mixed.implementation(of: .web, on: .web02) == .nginx)
        #expect(mixed.implementation(of: .lb, on: .lb01) == .portico)
        #expect(mixed.implementation(of: .vrrp, on: .lb01) == .keepalived)
        #expect(mixed.implementation(of: .vrrp, on: .lb02) == .portico)
        #expect(mixed.summary == "web=nginx lb=portico vrrp=lb01:keepalived,lb02:portico")
        #expect(mixed.requiredPrograms.contains("keepalived"))
        #expect(!mixed.requiredPrograms.contains("haproxy"))
    }

    @Test func wrongChoicesAreRefusedWithTheValidOnes() {
        #expect(throws: LabError.invalidOption("--lb: 'nginx' is not one of portico|haproxy")) {
            try StackSelection.parse(stack: nil, web: nil, lb: "nginx", vrrp: nil)
        }
        #expect(throws: LabError.invalidOption("--vrrp: 'web01' is not one of lb01, lb02")) {
            try StackSelection.parse(stack: nil, web: nil, lb: nil, vrrp: "web01=keepalived")
        }
        #expect(throws: LabError.invalidOption("unknown stack 'apache' (choose portico or reference)")) {
            try StackSelection.parse(stack: "apache", web: nil, lb: nil, vrrp: nil)
        }
    }

    @Test func missingProgramsNameTheirPackages() {
        let message = LabError.missingPrograms(["haproxy", "ss"]).description
        #expect(message.contains("apt-get install haproxy iproute2"))
    }
}

@Suite struct LabConfigsTests {
    @Test func seedIsTheDefaultAndVariantsKeepTheLabsScriptPath() throws {
        let script = "/run/portico-lab/lb01/check_haproxy.sh"
        #expect(LabConfigs.seed.haproxyText(.lb02) == SeedFiles.haproxyConfig)
        #expect(
            LabConfigs.seed.keepalivedText(.lb01, checkScript: script)
                == LabFiles.keepalivedConfig(for: .lb01, checkScript: script))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("plab-v3-\(getpid()).conf").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let variant =
            "global_defs {\n    vrrp_version 3\n}\n"
            + SeedFiles.keepalivedLB01
            .replacingOccurrences(of: "advert_int 1", with: "advert_int 0.1")
        try variant.write(toFile: file, atomically: true, encoding: .utf8)
        let configs = try LabConfigs.parse(haproxy: nil, keepalived: "lb01=\(file)")
        let text = configs.keepalivedText(.lb01, checkScript: script)
        #expect(text.contains("advert_int 0.1"))
        #expect(text.contains("script \"\(script)\""))
        #expect(!text.contains("/etc/keepalived"))
        // lb02 keeps the seed's.
        #expect(configs.keepalivedText(.lb02, checkScript: script).contains("priority 100"))
        #expect(throws: LabError.self) { try LabConfigs.parse(haproxy: "web01=\(file)", keepalived: nil) }
        #expect(throws: LabError.self) { try LabConfigs.parse(haproxy: "/nonexistent/haproxy.cfg", keepalived: nil) }
    }
}
