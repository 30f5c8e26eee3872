import Foundation
import Spawning
import Glibc
import KeepalivedConfig
import Testing

@testable import VRRPDaemon

/// The Linux primitives, each exercised inside a namespace this suite creates (never the root namespace).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PrimitiveTests {
    @Test func netlinkAddsListsAndRemovesAddresses() throws {
        let lab = try NetworkLab(tag: "nl")
        defer { lab.tearDown() }
        try lab.addNode("a", address: "192.168.77.11/24")
        let ns = lab.namespace("a")
        try inNamespace(ns) {
            let nl = try RouteNetlink()
            let eth0 = try #require(try nl.link(named: "eth0"))
            #expect(eth0.isUp)
            #expect(eth0.hardwareAddress.count == 6)
            let vip = InterfaceAddress(
                address: try #require(IPv4Address("192.168.77.100")), prefixLength: 24, interfaceIndex: eth0.index,
                label: "eth0:vip", broadcast: IPv4Address("192.168.77.255"), scope: 0
            )
            #expect(try nl.addAddress(vip) == .done)
            // A VIP already present (a crashed daemon's leftover) is adopted, not an error.
            #expect(try nl.addAddress(vip) == .alreadyPresent)
            let listed = try nl.addresses(interfaceIndex: eth0.index)
            #expect(listed.map(\.address.description) == ["192.168.77.11", "192.168.77.100"])
            #expect(listed.last?.label == "eth0:vip")
            #expect(listed.last?.broadcast?.description == "192.168.77.255")
            #expect(try nl.removeAddress(vip) == .done)
            #expect(try nl.removeAddress(vip) == .notPresent)
            #expect(try nl.addresses(interfaceIndex: eth0.index).count == 1)
            let unknownInterface = InterfaceAddress(
                address: vip.address, prefixLength: 24, interfaceIndex: 9999, scope: 0
            )
            #expect(throws: SystemError.self) { try nl.addAddress(unknownInterface) }
        }
        // What `ip` sees agrees with what we did (label included).
        #expect(lab.addresses("a") == ["192.168.77.11/24"])
    }

    @Test func linkWatchReportsCarrierLoss() throws {
        let lab = try NetworkLab(tag: "lw")
        defer { lab.tearDown() }
        try lab.addNode("a", address: "192.168.77.11/24")
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var states: [Bool] = []
        }
        let seen = Seen()
        let watch = try inNamespace(lab.namespace("a")) {
            try LinkWatch { link in
                guard link.name == "eth0" else { return }
                seen.lock.lock()
                seen.states.append(link.isUp)
                seen.lock.unlock()
            }
        }
        defer { watch.stop() }
        // Pull the cable on the bridge side: eth0 stays administratively up but loses carrier.
        sh("ip -n \(lab.bridgeNamespace) link set \(lab.outerLink("a")) down")
        let down = waitFor(2) { seen.lock.withLock { seen.states.last == false } }
        #expect(down != nil)
        sh("ip -n \(lab.bridgeNamespace) link set \(lab.outerLink("a")) up")
        let up = waitFor(2) { seen.lock.withLock { seen.states.last == true } }
        #expect(up != nil)
    }

    @Test func gratuitousARPIsSeenByTheNeighbour() throws {
        let lab = try NetworkLab(tag: "ga")
        defer { lab.tearDown() }
        try lab.addNode("a", address: "192.168.77.11/24")
        try lab.addNode("b", address: "192.168.77.12/24")
        let captured = NSTemporaryDirectory() + "pvd-ga-\(getpid()).txt"
        defer { unlink(captured) }
        let capture = try SpawnedProcess(
            [
                "/usr/sbin/ip", "netns", "exec", lab.namespace("b"), "timeout", "5", "tcpdump", "-l", "-n", "-c", "1",
                "-i", "eth0", "arp",
            ], output: .file(captured), error: .null)
        usleep(700_000)  // tcpdump needs a moment to attach
        try inNamespace(lab.namespace("a")) {
            let nl = try RouteNetlink()
            let eth0 = try #require(try nl.link(named: "eth0"))
            let arp = try GratuitousARP(
                interfaceName: "eth0", interfaceIndex: eth0.index, hardwareAddress: eth0.hardwareAddress
            )
            for _ in 0..<3 { try arp.send(vip: try #require(IPv4Address("192.168.77.100"))) }
        }
        capture.waitUntilExit()
        let text = (try? String(contentsOfFile: captured, encoding: .utf8)) ?? ""
        #expect(text.contains("Request who-has 192.168.77.100 (ff:ff:ff:ff:ff:ff) tell 192.168.77.100"))
    }

    @Test func processWatchSeesKillNineAtOnce() throws {
        // A uniquely named copy of sleep (per test process), so nothing else on the machine matches.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-pw-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("pvds\(getpid())").path
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: binary)
        let sleeper = try ChildProcess(arguments: [binary, "30"])
        defer { kill(sleeper.pid, SIGKILL) }
        // The child carries our name until its exec completes; on a loaded machine that can outlast the watch's
        // first scan, so wait (bounded) until /proc shows the new name.
        let comm = "/proc/\(sleeper.pid)/comm"
        #expect(waitFor(2) { (try? String(contentsOfFile: comm, encoding: .utf8))?.hasPrefix("pvds") == true } != nil)

        final class Events: @unchecked Sendable {
            let lock = NSLock()
            var list: [(Bool, Double)] = []
        }
        let events = Events()
        let watch = ProcessWatch(
            .init(name: "sleeper", pattern: ProcessPattern(name: "pvds\(getpid())"), rescanInterval: 0.2)
        ) {
            up, _ in events.lock.withLock { events.list.append((up, monotonicSeconds())) }
        }
        #expect(watch.isUp)
        try watch.start()
        defer { watch.stop() }
        usleep(300_000)
        let killed = monotonicSeconds()
        kill(sleeper.pid, SIGKILL)
        #expect(waitFor(2) { events.lock.withLock { events.list.last?.0 == false } } != nil)
        let seenAfter = events.lock.withLock { events.list.last.map { $0.1 - killed } } ?? 99
        // Seen through the pidfd, well before the next /proc rescan would have noticed.
        #expect(seenAfter < 0.1)
        _ = sleeper.wait(timeout: 1)
        // The zombie is gone and a new process with that name is picked up by the rescan.
        let second = try ChildProcess(arguments: [binary, "30"])
        defer {
            kill(second.pid, SIGKILL)
            _ = second.wait(timeout: 1)
        }
        #expect(waitFor(2) { events.lock.withLock { events.list.last?.0 == true } } != nil)
    }

    @Test func scriptCheckHonoursFallRiseAndTimeout() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-sc-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let flag = dir.appendingPathComponent("healthy").path
        let script = dir.appendingPathComponent("check.sh").path
        try "#!/bin/sh\necho run >> \(dir.path)/runs\nsleep ${1:-0}\ntest -e \(flag)\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        _ = FileManager.default.createFile(atPath: flag, contents: nil)

        final class Changes: @unchecked Sendable {
            let lock = NSLock()
            var list: [Bool] = []
        }
        let changes = Changes()
        // A generous timeout: on a loaded 2-core machine `sh` can take longer than the 0.1 s interval to start,
        // and the default timeout (the interval) would turn that into a spurious failure.
        let check = ScriptCheck(
            .init(name: "chk", script: script, interval: 0.1, timeout: 2, fall: 3, rise: 2)
        ) { good, _ in
            changes.lock.withLock { changes.list.append(good) }
        }
        try check.start()
        defer { check.stop() }
        usleep(300_000)
        #expect(check.isGood)
        let runsBefore = check.runs
        try FileManager.default.removeItem(atPath: flag)
        #expect(waitFor(2) { !check.isGood } != nil)
        // fall 3: three failed runs in a row (a run in flight at the removal may still have succeeded).
        #expect(check.runs - runsBefore >= 3)
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        #expect(waitFor(2) { check.isGood } != nil)
        // Keepalived reports the first result, then each change.
        #expect(changes.lock.withLock { changes.list } == [true, false, true])

        // A script slower than its timeout is killed and counts as a failure; runs never overlap.
        let slow = ScriptCheck(.init(name: "slow", script: "\(script) 5", interval: 0.1, timeout: 0.2, fall: 1)) {
            _, _ in
        }
        try slow.start()
        defer { slow.stop() }
        #expect(waitFor(2) { !slow.isGood } != nil)
        #expect(slow.lastOutcome == .timedOut)
    }
}
