import Foundation
import Testing

@testable import Lab

/// Issue 6 on the portico stack with the recommended config (docs/failover.md): the targets, with bounds
/// generous enough for a loaded 2-core machine but tight enough to fail the seed's behaviour (a stopped or
/// crashed balancer costs 6-8 s and hundreds of requests with the seed's tracking alone).
extension LabEndToEndTests {
    @Suite(.serialized, .enabled(if: LabEnvironment.porticoRolesImplemented, "Portico's roles are not implemented yet"))
    struct FailoverTests {
        static func configs(fastAdverts: Bool) -> LabConfigs {
            var configs = LabConfigs.seed
            configs.failover = FailoverTuning(trackBalancerProcess: true, fastAdverts: fastAdverts)
            return configs
        }

        static func phase(_ report: DrillReport, _ name: String) -> PhaseReport? {
            report.phases.first { $0.name == name }
        }

        /// Planned stop and restart of the VIP holder's balancer, a crash of it, a backend stopped and
        /// restarted: nothing lost except during the crash, which costs at most about a second.
        @Test func entryBackendAndCrashDrills() throws {
            try LabEnvironment.withLab(stack: .portico, configs: Self.configs(fastAdverts: false)) { lab in
                let keepalived = try String(contentsOfFile: lab.directory.keepalivedConfig(.lb01), encoding: .utf8)
                #expect(keepalived.contains("vrrp_track_process \(FailoverTuning.processTrackerName)"))

                let entry = DrillAnalysis.report(try lab.drill(.entry))
                #expect(entry.vipMoved == true && entry.vipReturned == true)
                // Zero in most runs. What can remain (docs/failover.md) is one connection caught by the client's
                // ARP switch between its handshake and its request: reset by the new master. Nothing else.
                let kinds = Set(entry.phases.flatMap { $0.failures.keys })
                #expect(
                    entry.failed <= 1 && kinds.isSubset(of: ["reset"]),
                    "entry drill: \(entry.phases.map { "\($0.name) \($0.failures)" })")
                // When lb01 preempts, it adds the VIP and lb02 drops it on lb01's first advert a few ms later;
                // a census that reads the two nodes one after the other may catch that once, never longer.
                #expect(entry.splitBrainSamples <= 1)

                let crash = DrillAnalysis.report(try lab.drill(.entryCrash))
                #expect(crash.vipMoved == true && crash.vipReturned == true)
                let outage = Self.phase(crash, "fault")?.outage?.seconds ?? 0
                #expect(outage <= 1.5, "entry-crash outage \(outage) s")
                #expect((Self.phase(crash, "recovery")?.failed ?? -1) == 0)

                let backend = DrillAnalysis.report(try lab.drill(.backend))
                #expect(backend.backendTakenOut == true && backend.backendBack == true)
                #expect(backend.failed == 0, "backend drill: \(backend.phases.map { "\($0.name) \($0.failures)" })")
                #expect(backend.servedByDownBackend == 0)
            }
        }

        /// VRRPv3 at advert_int 0.1: a lost node costs well under a second, and load does not make it flap.
        @Test func nodeDrillAndSteadyLoadAtVRRPv3() throws {
            try LabEnvironment.withLab(stack: .portico, configs: Self.configs(fastAdverts: true)) { lab in
                let steady = DrillAnalysis.report(try lab.drill(.steady, timing: DrillTiming(soak: 15, load: true)))
                #expect(steady.vipChanges == 0)
                #expect(steady.splitBrainSamples == 0)

                let node = DrillAnalysis.report(try lab.drill(.node))
                #expect(node.vipMoved == true && node.vipReturned == true)
                let outage = Self.phase(node, "fault")?.outage?.seconds ?? 0
                #expect(outage <= 1.5, "node outage at VRRPv3 0.1: \(outage) s")
            }
        }
    }
}
