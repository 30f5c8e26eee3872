import Foundation
import Glibc
import Testing

/// Reload (SIGHUP, `portico vrrp ctl reload`) of a running pair: lb01 (priority 120) master, lb02 (100) backup,
/// in `pvr-<pid>-...` namespaces each test creates and removes. What a user sees is checked with `ip -4 addr`.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReloadTests {
    static let vip = pairVIP
    static let secondVIP = "192.168.77.101"

    /// The pair with lb01 elected and its first gratuitous-ARP bursts sent, so a test sees only the reload's.
    func withPair(
        _ tag: String, lb01: NodeConfig, lb02: NodeConfig, _ body: (NetworkLab, VRRPNode, VRRPNode) throws -> Void
    ) throws {
        try withNodePair(tag, namePrefix: "pvr", lb01: lb01, lb02: lb02) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            // The garp_master_delay burst (1 s after becoming master) must not be mistaken for the reload's.
            #expect(waitFor(3) { n1.log.components(separatedBy: "Sending/queueing gratuitous ARPs").count == 3 } != nil)
            try body(lab, n1, n2)
        }
    }

    /// Sends SIGHUP and waits for the daemon to log the end of the reload (done or refused).
    func hangUp(_ node: VRRPNode) -> Bool {
        let before = node.log.components(separatedBy: "Reload ").count
        guard let pid = node.pid else { return false }
        kill(pid, SIGHUP)
        return waitFor(5) { node.log.components(separatedBy: "Reload ").count > before } != nil
    }

    /// `portico vrrp ctl reload`: exit status and the decoded answer.
    func controlReload(_ node: VRRPNode) -> (status: Int32, answer: [String: Any]) {
        let r = sh("\(porticoBinary) vrrp ctl reload --control-socket \(node.controlSocket)", timeout: 10)
        let object = r.output.data(using: .utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        return (r.status, object as? [String: Any] ?? [:])
    }

    func rewrite(_ node: VRRPNode, _ text: String) throws {
        try text.write(to: node.configFile, atomically: true, encoding: .utf8)
    }

    func logAfter(_ marker: String, in log: String) -> String {
        guard let range = log.range(of: marker, options: .backwards) else { return "" }
        return String(log[range.lowerBound...])
    }

    @Test func unchangedConfigKeepsTheMasterAndItsVIP() throws {
        try withPair("same", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            #expect(hangUp(n1))
            let answer = controlReload(n1)
            #expect(answer.status == 0)
            #expect(answer.answer["unchanged"] as? [String] == ["VI_1"])
            #expect(answer.answer["updated"] as? [String] == [])
            #expect(lab.vipStays(on: "lb01", for: 4))
            let after = logAfter("Reloading", in: n1.log)
            #expect(after.contains("Reload complete: 0 updated, 1 unchanged"))
            #expect(!after.contains("Entering"))
            #expect(!after.contains("gratuitous ARP"))
            #expect(!after.contains("removing VIPs"))
            #expect(n1.log.components(separatedBy: "Entering MASTER STATE").count == 2)
            #expect(!n2.log.contains("Entering MASTER STATE"))
            #expect(n1.state() == "MASTER")
        }
    }

    @Test func brokenFileChangesNothingAndNamesFileAndLine() throws {
        try withPair("bad", lb01: .lb01(), lb02: .lb02()) { lab, n1, _ in
            var text = NodeConfig.lb01().text.replacingOccurrences(of: "    priority 120\n", with: "    priorty 90\n")
            text = text.replacingOccurrences(
                of: "    advert_int 1\n", with: "    advert_int 1\n    virtual_router_id 999\n")
            try rewrite(n1, text)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let typoLine = try #require(lines.firstIndex { $0.contains("priorty") }) + 1
            let file = n1.configFile.path
            let answer = controlReload(n1)
            #expect(answer.status == 1)
            #expect(answer.answer["reloaded"] as? Bool == false)
            let errors = answer.answer["errors"] as? [String] ?? []
            #expect(errors.count == 2)
            #expect(errors.first?.hasPrefix("(\(file): Line \(typoLine)) Unknown keyword 'priorty'") == true)
            #expect(n1.log.contains("(\(file): Line \(typoLine))"))
            #expect(n1.log.contains("Reload refused"))
            // Every error is reported, not only the first.
            let refused = logAfter("Reloading", in: n1.log)
            #expect(refused.components(separatedBy: "(\(file): Line").count - 1 >= 2)
            #expect(lab.vipStays(on: "lb01", for: 2))
            #expect(n1.instanceStatus()?["basePriority"] as? Int == 120)
            // SIGHUP with the same broken file: refused again, nothing moves.
            #expect(hangUp(n1))
            #expect(logAfter("Reloading", in: n1.log).contains("Reload refused"))
            #expect(n1.state() == "MASTER")
        }
    }

    @Test func loweringLb01BelowLb02MovesTheVIP() throws {
        try withPair("prio", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            var lower = NodeConfig.lb01()
            lower.priority = 90
            try rewrite(n1, lower.text)
            let start = Date()
            #expect(hangUp(n1))
            #expect(n1.log.contains("(VI_1) reloaded: priority 120 -> 90"))
            // lb02 discards the lower-priority adverts and takes over by Master_Down_Interval (3.61 s).
            #expect(lab.vipMoves(to: "lb02", within: 6) != nil)
            #expect(Date().timeIntervalSince(start) < 6)
            #expect(n2.state() == "MASTER")
            #expect(n1.state() == "BACKUP")
            #expect(n1.instanceStatus()?["basePriority"] as? Int == 90)
            #expect(lab.vipStays(on: "lb02", for: 2))
        }
    }

    @Test func addingASecondVIPAddsItOnTheMasterOnly() throws {
        try withPair("vip2", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            let line = "        \(Self.vip)/24 dev eth0\n"
            let two = line + "        \(Self.secondVIP)/24 dev eth0\n"
            try rewrite(n1, NodeConfig.lb01().text.replacingOccurrences(of: line, with: two))
            try rewrite(n2, NodeConfig.lb02().text.replacingOccurrences(of: line, with: two))
            #expect(hangUp(n2))
            #expect(hangUp(n1))
            #expect(lab.vipMoves(to: "lb01", within: 3, vip: Self.secondVIP) != nil)
            #expect(lab.has("lb01", Self.vip))
            #expect(!lab.has("lb02", Self.secondVIP))
            let after = logAfter("Reloading", in: n1.log)
            #expect(after.contains("(VI_1) reloaded: VIPs added \(Self.secondVIP)"))
            #expect(after.contains("Sending/queueing gratuitous ARPs on eth0 for \(Self.secondVIP)\n"))
            #expect(!after.contains("Entering"))
            #expect(lab.vipStays(on: "lb01", for: 2))
            #expect(!lab.has("lb02", Self.secondVIP))
            let vips = n1.instanceStatus()?["virtualAddresses"] as? [String]
            #expect(vips == [Self.vip, Self.secondVIP])
        }
    }

    @Test func unchangedCheckKeepsItsFailedStateAcrossAReload() throws {
        let check = try FlagCheck("pvr-chk")
        defer { check.remove() }
        let checked = NodeConfig.lb01 { $0.checkScript = check.script }
        try withPair("chk", lb01: checked, lb02: .lb02()) { lab, n1, _ in
            try check.fail()
            #expect(lab.vipMoves(to: "lb02", within: 9) != nil)
            #expect(n1.instanceStatus()?["effectivePriority"] as? Int == 90)
            #expect(hangUp(n1))
            // Keepalived re-creates a failed script on reload; here the check keeps its state, so lb01 stays at
            // 90 and does not preempt back.
            #expect(n1.instanceStatus()?["effectivePriority"] as? Int == 90)
            #expect(lab.vipStays(on: "lb02", for: 3))
            let after = logAfter("Reloading", in: n1.log)
            #expect(after.contains("Reload complete: 0 updated, 1 unchanged"))
            #expect(!after.contains("Changing effective priority"))
            #expect(!after.contains("Entering"))
        }
    }

    @Test func addedInstanceStartsAndRemovedInstanceResigns() throws {
        let second = "192.168.77.200"
        try withPair("inst", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            var with1 = NodeConfig.lb01()
            with1.secondInstance = ("MASTER", 120)
            var with2 = NodeConfig.lb02()
            with2.secondInstance = ("BACKUP", 100)
            try rewrite(n1, with1.text)
            try rewrite(n2, with2.text)
            #expect(hangUp(n2))
            #expect(hangUp(n1))
            #expect(n1.log.contains("(VI_2) added to the configuration: starting"))
            // Reloading the same file again: both instances are now the running configuration.
            let again = controlReload(n1).answer
            #expect(again["unchanged"] as? [String] == ["VI_1", "VI_2"])
            #expect(again["started"] as? [String] == [])
            // VI_2 elects lb01 after its Master_Down_Interval, like any start.
            #expect(waitFor(6) { lab.has("lb01", second) && !lab.has("lb02", second) } != nil)
            // Removing VI_2 from lb01: a priority-0 advert, so lb02 takes it after Skew_Time (0.61 s).
            try rewrite(n1, NodeConfig.lb01().text)
            let start = Date()
            #expect(hangUp(n1))
            #expect(waitFor(3) { lab.has("lb02", second) && !lab.has("lb01", second) } != nil)
            #expect(Date().timeIntervalSince(start) < 2)
            #expect(logAfter("Reloading", in: n1.log).contains("(VI_2) removed from the configuration: stopping"))
            #expect(n2.log.contains("(VI_2) Backup received priority 0 advertisement"))
            #expect(lab.vipStays(on: "lb01", for: 1))
        }
    }
}
