import Foundation
import Testing

@testable import Lab

/// The keepalived.conf variants the lab writes for issue 6: what is added, what stays the seed's, and that
/// `portico vrrp -t` (and Keepalived's own config test, where installed) accept them.
@Suite struct FailoverTuningTests {
    static let seed = LabFiles.keepalivedConfig(for: .lb01, checkScript: "/tmp/lab/lb01/check_haproxy.sh")
    static let balancer = ["portico", "lb", "-f", "/tmp/lab/lb01/haproxy.cfg"]

    @Test func seedTuningLeavesTheFileUnchanged() {
        #expect(FailoverTuning.seed.apply(to: Self.seed, balancer: Self.balancer) == Self.seed)
    }

    @Test func recommendedTracksThisNodesBalancerWithWeightZeroAndKeepsTheSeedScript() {
        let text = FailoverTuning.recommended.apply(to: Self.seed, balancer: Self.balancer)
        #expect(text.contains("vrrp_track_process chk_balancer_process {"))
        #expect(text.contains("    process portico lb -f /tmp/lab/lb01/haproxy.cfg\n"))
        #expect(text.contains("    param_match partial\n"))
        #expect(text.contains("    weight 0\n"))
        #expect(text.contains("    track_process {\n        chk_balancer_process\n    }"))
        // The seed's script still gates the VIP's return; its timing and advert_int are untouched.
        #expect(text.contains("track_script {\n        chk_haproxy\n    }"))
        #expect(text.contains("advert_int 1\n"))
        #expect(text.contains("auth_pass 12345678"))
        // The tracker block comes before the instance that names it.
        let block = text.range(of: "vrrp_track_process")?.lowerBound
        let instance = text.range(of: "vrrp_instance")?.lowerBound
        #expect(block != nil && instance != nil && block! < instance!)
    }

    @Test func fastAdvertsMeanVersionThreeAtATenthOfASecondWithoutAuthentication() {
        let text = FailoverTuning(trackBalancerProcess: false, fastAdverts: true).apply(
            to: Self.seed, balancer: Self.balancer)
        #expect(text.contains("    version 3\n    advert_int 0.1\n"))
        #expect(!text.contains("advert_int 1\n"))
        #expect(!text.contains("authentication"))
        #expect(!text.contains("auth_pass"))
        #expect(text.contains("virtual_ipaddress {"))
        #expect(text.contains("garp_master_repeat 5"))
        #expect(!text.contains("\n\n\n"))
    }

    @Test func parseNamesTheVariants() throws {
        #expect(try FailoverTuning.parse("seed", fastAdverts: false) == .seed)
        #expect(try FailoverTuning.parse("Recommended", fastAdverts: false) == .recommended)
        #expect(try FailoverTuning.parse("recommended", fastAdverts: true).summary == "recommended+v3")
        #expect(throws: LabError.self) { try FailoverTuning.parse("fast", fastAdverts: false) }
    }

    @Test func reportsNameTheFailoverConfigBesideTheStack() {
        var state = LabState(stack: .portico, porticoExecutable: "/bin/portico", startedAt: 0, failover: .recommended)
        #expect(state.describedStack == "portico, keepalived.conf: recommended")
        state.failover = .seed
        #expect(state.describedStack == "portico")
        state.failover = nil
        #expect(state.describedStack == "portico")
    }

    /// Both variants pass the config tests of the programs that read them.
    @Test func variantsPassTheConfigTests() throws {
        guard let portico = Lab.defaultPorticoExecutable() else { return }
        let folder = "/tmp/pfo-tuning-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = "\(folder)/check_haproxy.sh"
        try "#!/bin/sh\nexit 0\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        for host in LabHost.balancers {
            for tuning in [FailoverTuning.recommended, FailoverTuning(trackBalancerProcess: true, fastAdverts: true)] {
                let text = tuning.apply(
                    to: LabFiles.keepalivedConfig(for: host, checkScript: script), balancer: Self.balancer)
                let file = "\(folder)/keepalived-\(host.rawValue).conf"
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let result = try Subprocess.run([portico, "vrrp", "-t", "-f", file], timeout: 20)
                #expect(result.succeeded, "portico vrrp -t on \(tuning.summary): \(result.errorOutput)")
                if let keepalived = Lab.findProgram("keepalived") {
                    // Keepalived judges the seed's own file (its script runs as root: status 6, a warning);
                    // the variant must fare exactly as well.
                    let seedFile = "\(folder)/seed-\(host.rawValue).conf"
                    try LabFiles.keepalivedConfig(for: host, checkScript: script).write(
                        toFile: seedFile, atomically: true, encoding: .utf8)
                    let seed = try Subprocess.run([keepalived, "-t", "-f", seedFile], timeout: 20)
                    let variant = try Subprocess.run([keepalived, "-t", "-f", file], timeout: 20)
                    #expect(
                        variant.status == seed.status && variant.errorOutput == seed.errorOutput,
                        "keepalived -t on \(tuning.summary): \(variant.errorOutput)")
                }
            }
        }
    }
}
