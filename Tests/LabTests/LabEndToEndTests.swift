import Foundation
import Testing

@testable import Lab

#if canImport(Glibc)
    import Glibc
#endif

/// What the end-to-end tests need: root and `ip netns` (CI runs as root; elsewhere these tests are skipped).
enum LabEnvironment {
    static let canRun: Bool = geteuid() == 0 && Lab.findProgram("ip") != nil

    /// Whether one Portico role is implemented in the binary the tests run.
    static func porticoRole(_ role: Role) -> Bool {
        guard canRun, let portico = Lab.defaultPorticoExecutable() else { return false }
        return Lab.porticoRoleAvailable(role, executable: portico)
    }

    /// Portico's own roles exist once their commands take the seed's options (until then they are stubs).
    static let porticoRolesImplemented: Bool = {
        guard canRun, let portico = Lab.defaultPorticoExecutable() else { return false }
        return Role.allCases.allSatisfy { Lab.porticoRoleAvailable($0, executable: portico) }
    }()

    /// Brings a lab up in a directory of its own, runs `body`, and always takes the lab down and checks
    /// that nothing is left: no lab namespace, no lab process, no lab link in the root namespace.
    static func withLab(stack: StackSelection, configs: LabConfigs = .seed, _ body: (Lab) throws -> Void) throws {
        let lock = try LabLock(wait: 300)
        defer { withExtendedLifetime(lock) {} }
        let path = "/tmp/plab-tests-\(getpid())"
        let lab = Lab(directory: try LabDirectory(path: path))
        try #require(lab.porticoExecutable != nil, "build the portico executable first (swift build)")
        lab.down()
        var pids: [pid_t] = []
        defer {
            let teardown = lab.down()
            #expect(teardown.rootLinks.isEmpty)
            expectNothingLeft(lab, pids: pids)
            try? FileManager.default.removeItem(atPath: path)
        }
        try lab.up(stack: stack, configs: configs)
        pids = Role.allCases.flatMap { role in role.hosts.compactMap { lab.directory.recordedPid(role, on: $0) } }
        #expect(pids.count == 6)
        try body(lab)
    }

    static func expectNothingLeft(_ lab: Lab, pids: [pid_t]) {
        #expect((try? LabNetwork.existingNamespaces()) == [])
        #expect(LabNetwork.strayRootLinks().isEmpty)
        #expect(pids.filter(ProcessTable.isAlive).isEmpty)
        let survivors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
            .filter {
                ProcessTable.isAlive($0) && (ProcessTable.commandLine($0)?.contains(lab.directory.path) ?? false)
            }
        #expect(survivors.isEmpty)
    }

    /// GET / through the VIP from the client namespace, `count` times in a row; the answering backends.
    static func backendsThroughVIP(_ count: Int) throws -> [String] {
        try NamespaceThread.run { hopper in
            try hopper.enter(LabHost.client.namespace)
            var bodies: [String] = []
            for index in 0..<count {
                let exchanges = HTTPExchanges()
                exchanges.begin(
                    id: index, address: LabTopology.vip, port: 80,
                    request: HTTPExchanges.getRequest(host: LabTopology.vip, path: "/"), timeout: 1
                )
                var outcome: HTTPOutcome?
                let deadline = Monotonic.now() + 2
                while outcome == nil && Monotonic.now() < deadline { outcome = exchanges.step(maxWait: 0.05).first?.1 }
                bodies.append(
                    outcome?.status == 200 ? outcome?.body.trimmed ?? "" : "failed: \(outcome?.detail ?? "none")")
            }
            return bodies
        }
    }

    /// The seed's promises for an entry or node drill: the VIP leaves the broken node and comes back.
    static func expectVIPMovesAndReturns(_ run: DrillRun) {
        let report = DrillAnalysis.report(run)
        #expect(report.holder == "lb01")
        #expect(report.vipMoved == true)
        #expect(report.vipReturned == true)
        let fault = report.phases.first { $0.name == "fault" }
        let recovery = report.phases.first { $0.name == "recovery" }
        #expect(fault?.vipMove?.to == "lb02")
        #expect(recovery?.vipMove?.to == "lb01")
        // Once the VIP is back, clients are served again: the last second of the drill has no failure.
        let tail = run.records.filter { $0.sent > run.end - 1.5 && $0.sent < run.end - 0.5 }
        #expect(!tail.isEmpty)
        #expect(tail.allSatisfy { $0.ok })
        // The steady client kept its rate (100/s) through the outage.
        #expect(Double(report.requests) > 0.8 * 100 * report.duration)
    }

    static func expectBackendTakenOutAndBack(_ run: DrillRun) {
        let report = DrillAnalysis.report(run)
        #expect(report.backendTakenOut == true)
        #expect(report.backendBack == true)
        #expect(report.servedByDownBackend == 0)
        // The VIP does not move: the entry is fine.
        #expect(run.samples.allSatisfy { $0.vipHolders == ["lb01"] })
        let recovery = report.phases.first { $0.name == "recovery" }
        #expect((recovery?.backends["web01"] ?? 0) > 0)
        #expect((recovery?.backends["web02"] ?? 0) > 0)
    }
}

/// One lab at a time: the end-to-end suites run one after the other.
@Suite(.serialized) struct LabEndToEndTests {}

extension LabEndToEndTests {
    @Suite(.serialized, .enabled(if: LabEnvironment.canRun, "needs root and ip netns"))
    struct ReferenceStackTests {
        @Test func upStatusAlternationAndDown() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                let status = try lab.status()
                #expect(status.running)
                #expect(status.vipHolders == [.lb01])
                #expect(!status.splitBrain)
                #expect(status.request?.status == 200)
                for balancer in status.balancers {
                    #expect(balancer.view.available)
                    #expect(balancer.view.servers.map(\.name) == ["web01", "web02"])
                    #expect(balancer.view.servers.allSatisfy { $0.state == "UP" })
                    #expect(balancer.processes.allSatisfy { $0.running })
                }
                #expect(status.balancers.map(\.vrrpState) == ["MASTER", "BACKUP"])
                #expect(status.balancers.map(\.priority) == [120, 100])

                // The lab subnet exists only inside the lab: the root namespace has no address or route in it.
                let rootAddresses = try Subprocess.check(["ip", "-4", "-o", "addr", "show"])
                let rootRoutes = try Subprocess.check(["ip", "-4", "route", "show", "table", "all"])
                #expect(!rootAddresses.contains("192.168.10."))
                #expect(!rootRoutes.contains("192.168.10."))
                // `portico lab exec` runs in the host's namespace.
                let portico = try #require(lab.porticoExecutable)
                let clientAddresses = try Subprocess.check([
                    portico, "lab", "exec", "client", "--", "ip", "-4", "-o", "addr",
                ])
                #expect(clientAddresses.contains("192.168.10.50/24"))

                // The seed's section 五: requests through the VIP alternate between web01 and web02.
                let backends = try LabEnvironment.backendsThroughVIP(6)
                #expect(Set(backends) == ["web01", "web02"])
                #expect(zip(backends, backends.dropFirst()).allSatisfy { $0 != $1 })

                // The adapted check script is per node: with lb02's balancer stopped, lb02's check fails while
                // lb01's passes (the seed's `pidof haproxy` would have passed on both).
                lab.stop(.lb, on: .lb02)
                let check = { (host: LabHost) in
                    try Subprocess.run(["ip", "netns", "exec", host.namespace, "bash", lab.directory.checkScript(host)])
                        .status
                }
                #expect((try check(.lb01)) == 0)
                #expect((try check(.lb02)) != 0)
                try lab.start(.lb, on: .lb02)
                try lab.waitForCheckScript(.lb02, timeout: 10)
            }
            // And down again is a no-op.
            let again = Lab(directory: try LabDirectory(path: "/tmp/plab-tests-\(getpid())")).down()
            #expect(again.namespaces.isEmpty)
            #expect(again.processes == 0)
        }

        /// Ctrl-C during a drill takes the whole lab down, daemons included, and exits with 130.
        @Test func interruptedDrillCleansUp() throws {
            var lock: LabLock? = try LabLock(wait: 300)
            let path = "/tmp/plab-tests-int-\(getpid())"
            let lab = Lab(directory: try LabDirectory(path: path))
            let portico = try #require(lab.porticoExecutable)
            lab.down()
            defer {
                lab.down()
                try? FileManager.default.removeItem(atPath: path)
            }
            // The CLI takes the lock itself: release ours first (it only waited for other labs to finish).
            // `withExtendedLifetime` keeps it held until here: an optimised build could release it right after
            // it was taken, since nothing else reads it.
            withExtendedLifetime(lock) {}
            lock = nil
            let drill = try Subprocess.start(
                [portico, "lab", "drill", "entry", "--stack", "reference", "--lab-dir", path],
                outputPath: "/dev/null", errorPath: "/dev/null"
            )
            // Wait (bounded) until the drill's steady client runs, then interrupt.
            let deadline = Monotonic.now() + 60
            while Monotonic.now() < deadline && !FileManager.default.fileExists(atPath: "\(path)/probe-entry.jsonl") {
                Monotonic.sleep(0.2)
            }
            #expect(FileManager.default.fileExists(atPath: "\(path)/probe-entry.jsonl"))
            let pids = Role.allCases.flatMap { role in role.hosts.compactMap { lab.directory.recordedPid(role, on: $0) }
            }
            kill(drill, SIGINT)
            var status: Int32?
            let exitDeadline = Monotonic.now() + 20
            while status == nil && Monotonic.now() < exitDeadline {
                Monotonic.sleep(0.1)
                status = Subprocess.reapIfExited(drill)
            }
            if status == nil {
                kill(drill, SIGKILL)
                Subprocess.reap(drill)
            }
            #expect(status == 130)
            LabEnvironment.expectNothingLeft(lab, pids: pids)
        }

        /// No flapping: under the steady client plus wrk, the VIP stays on lb01.
        @Test func steadyDrillUnderLoad() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                let report = DrillAnalysis.report(try lab.drill(.steady, timing: DrillTiming(soak: 6, load: true)))
                #expect(report.vipChanges == 0)
                #expect(report.splitBrainSamples == 0)
                #expect(report.events.contains { $0.label.contains("Requests/sec") })
            }
        }

        @Test func backendDrill() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                LabEnvironment.expectBackendTakenOutAndBack(try lab.drill(.backend))
            }
        }

        @Test func entryDrill() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                let run = try lab.drill(.entry)
                LabEnvironment.expectVIPMovesAndReturns(run)
                // With the seed's config, the stopped balancer's node keeps the VIP until its script fails.
                let fault = DrillAnalysis.report(run).phases.first { $0.name == "fault" }
                #expect((fault?.failures["refused"] ?? 0) > 0)
            }
        }

        @Test func entryCrashDrill() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.entryCrash))
            }
        }

        @Test func nodeDrill() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.node))
            }
        }
    }

}

extension LabEndToEndTests {
    /// Mixed roles: `portico web` behind HAProxy, Keepalived on lb01 and `portico vrrp` on lb02 (the two VRRP
    /// implementations must agree on the wire for the VIP to move and come back).
    @Suite(
        .serialized,
        .enabled(
            if: LabEnvironment.porticoRole(.web) && LabEnvironment.porticoRole(.vrrp),
            "portico web and portico vrrp are not implemented yet"
        )
    )
    struct MixedStackTests {
        @Test func keepalivedAndPorticoVRRPShareTheVIP() throws {
            let stack = try StackSelection.parse(stack: "reference", web: "portico", lb: nil, vrrp: "lb02=portico")
            try LabEnvironment.withLab(stack: stack) { lab in
                let status = try lab.status()
                #expect(status.webs.allSatisfy { $0.process.implementation == .portico && $0.process.running })
                #expect(status.balancers.map(\.vrrpState) == ["MASTER", "BACKUP"])
                #expect(status.balancers.map(\.priority) == [120, 100])
                #expect(status.balancers.map(\.vrrpStateSource) == ["keepalived log", "portico vrrp status"])
                let backends = try LabEnvironment.backendsThroughVIP(6)
                #expect(Set(backends) == ["web01", "web02"])
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.node))
            }
        }
    }
}

extension LabEndToEndTests {
    /// The same promises with Portico's own roles; enabled once `portico web/lb/vrrp` are implemented.
    @Suite(.serialized, .enabled(if: LabEnvironment.porticoRolesImplemented, "Portico's roles are not implemented yet"))
    struct PorticoStackTests {
        @Test func upStatusAndAlternation() throws {
            try LabEnvironment.withLab(stack: .portico) { lab in
                let status = try lab.status()
                #expect(status.vipHolders == [.lb01])
                #expect(status.request?.status == 200)
                let backends = try LabEnvironment.backendsThroughVIP(6)
                #expect(Set(backends) == ["web01", "web02"])
                #expect(zip(backends, backends.dropFirst()).allSatisfy { $0 != $1 })
            }
        }

        @Test func drills() throws {
            try LabEnvironment.withLab(stack: .portico) { lab in
                LabEnvironment.expectBackendTakenOutAndBack(try lab.drill(.backend))
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.entry))
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.entryCrash))
                LabEnvironment.expectVIPMovesAndReturns(try lab.drill(.node))
            }
        }
    }
}
