import KeepalivedConfig
import Logging
import Testing
import VRRPCore

@testable import VRRPDaemon

/// The daemon's small pure pieces: byte layouts and parsing, no sockets.
@Suite struct DaemonUnitTests {
    @Test func gratuitousARPFrameLayout() throws {
        let vip = IPv4Address(192, 168, 10, 100)
        let mac: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x11]
        let f = GratuitousARP.frame(vip: vip, mac: mac)
        #expect(f.count == 60)
        #expect(Array(f[0..<6]) == [UInt8](repeating: 0xFF, count: 6))  // broadcast
        #expect(Array(f[6..<12]) == mac)
        #expect(Array(f[12..<14]) == [0x08, 0x06])  // ARP
        #expect(Array(f[20..<22]) == [0x00, 0x01])  // request
        #expect(Array(f[22..<28]) == mac)  // sender MAC
        #expect(Array(f[28..<32]) == [192, 168, 10, 100])  // sender IP = VIP
        #expect(Array(f[38..<42]) == [192, 168, 10, 100])  // target IP = VIP
    }

    @Test func receivedDatagramGivesTTLAddressesAndPayload() throws {
        var ip: [UInt8] = [0x45, 0, 0, 28, 0, 0, 0, 0, 254, 112, 0, 0, 192, 168, 10, 11, 224, 0, 0, 18]
        ip += [0x21, 51, 120, 1, 1, 1, 0, 0]
        let r = try #require(AdvertSocket.parse(ip[...]))
        #expect(r.ttl == 254)
        #expect(r.source.description == "192.168.10.11")
        #expect(r.destination.description == "224.0.0.18")
        #expect(r.payload == [0x21, 51, 120, 1, 1, 1, 0, 0])
        #expect(AdvertSocket.parse([0x45, 0, 0][...]) == nil)
    }

    @Test func netlinkAddressRequestLayout() {
        var msg = NetlinkMessage(type: Netlink.newAddr, flags: Netlink.request | Netlink.ack, sequence: 7)
        msg.append8(2)
        msg.append8(24)
        msg.append8(0)
        msg.append8(0)
        msg.append32(3)
        msg.attribute(Netlink.ifaLocal, [192, 168, 10, 100])
        msg.attribute(Netlink.ifaLabel, Array("eth0:1".utf8) + [0])
        let bytes = msg.finished()
        #expect(bytes.count == 16 + 8 + 8 + 12)  // header, ifaddrmsg, IFA_LOCAL, IFA_LABEL padded to 4
        #expect(Array(bytes[0..<4]) == [44, 0, 0, 0])  // length, little-endian
        #expect(Array(bytes[4..<6]) == [20, 0])  // RTM_NEWADDR
        #expect(Array(bytes[24..<28]) == [8, 0, 2, 0])  // rta_len 8, IFA_LOCAL
        let replies = NetlinkReply.parse(bytes[...])
        #expect(replies.count == 1)
        #expect(replies.first?.attributes(after: 8)[Netlink.ifaLabel]?.cString == "eth0:1")
    }

    @Test func scriptLinesSplitLikeKeepalived() {
        #expect(
            ChildProcess.words("/etc/keepalived/check.sh  a 'b c' \"d\"") == [
                "/etc/keepalived/check.sh", "a", "b c", "d",
            ])
        #expect(ChildProcess.words("") == [])
    }

    @Test func processPatternsFollowParamMatch() {
        let haproxy = RunningProcess(
            pid: 1, name: "haproxy", arguments: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"])
        #expect(ProcessPattern(name: "haproxy").matches(haproxy))
        #expect(!ProcessPattern(name: "nginx").matches(haproxy))
        #expect(ProcessPattern(name: "haproxy", parameters: ["-f", "/etc/haproxy/haproxy.cfg"]).matches(haproxy))
        #expect(!ProcessPattern(name: "haproxy", parameters: ["-f"]).matches(haproxy))
        #expect(ProcessPattern(name: "haproxy", parameters: ["-f"], match: .partial).matches(haproxy))
        #expect(ProcessPattern(name: "haproxy", parameters: ["-f", "/etc/hap"], match: .initial).matches(haproxy))
        // Names longer than the kernel's 15-character comm are compared with argv[0].
        let long = RunningProcess(pid: 2, name: "portico-balance", arguments: ["/usr/bin/portico-balancer-x"])
        #expect(ProcessPattern(name: "portico-balancer-x").matches(long))
    }

    @Test func notifyArgumentsAreKeepalivedsOwn() {
        let here = ConfigLocation(file: "keepalived.conf", line: 1)
        var scripts = NotifyScripts()
        scripts.master = NotifyScript(location: here, command: ["/usr/local/bin/to-master.sh", "now"])
        scripts.any = NotifyScript(location: here, command: ["/usr/local/bin/notify.sh"])
        let n = Notifier(instance: "VI_1", scripts: scripts, logger: Logger(label: "test"))
        #expect(
            n.commands(for: .master, priority: 120) == [
                ["/usr/local/bin/to-master.sh", "now"],
                ["/usr/local/bin/notify.sh", "INSTANCE", "VI_1", "MASTER", "120"],
            ])
        #expect(
            n.commands(for: .fault, priority: 90) == [["/usr/local/bin/notify.sh", "INSTANCE", "VI_1", "FAULT", "90"]])
    }

    @Test func repeatedLogLinesAreRateLimited() {
        let log = RateLimitedLog(interval: 10)
        #expect(log.admit("k", "m", now: 0) == "m")
        #expect(log.admit("k", "m", now: 5) == nil)
        #expect(log.admit("k", "m", now: 11) == "m (1 similar messages suppressed)")
    }
}
