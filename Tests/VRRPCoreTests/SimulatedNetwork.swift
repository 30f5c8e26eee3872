@testable import VRRPCore

/// A tiny in-test network: VRRP instances on one link, exchanging encoded adverts through the codec,
/// with virtual time. Each node carries out its instance's actions the way the daemon would (timers, VIPs,
/// sent packets, notifies), and records them so tests can assert what an operator would see.
struct SimulatedNetwork {
    struct Node {
        var instance: VRRPInstance
        var timers: [VRRPTimer: VRRPInstant] = [:]
        var vips: Set<IPv4Address> = []
        var logs: [(VRRPInstant, String)] = []
        var notifies: [(VRRPInstant, VRRPNotifyState)] = []
        var sent: [(VRRPInstant, VRRPAdvert)] = []
        var gratuitousARPs: [(VRRPInstant, Int)] = []
        var handoverResults: [(VRRPInstant, Bool)] = []
        /// Whether the node's link works: a cut node neither sends nor receives.
        var connected = true
        /// Every state the instance entered, with when.
        var states: [(VRRPInstant, VRRPState)] = []
        /// The host the instance runs on (`lb01`); both seed instances are called `VI_1`.
        var name: String

        var state: VRRPState { instance.state }
        func logged(_ text: String) -> Bool { logs.contains { $0.1 == text } }
        func logs(containing text: String) -> [String] { logs.map(\.1).filter { $0.contains(text) } }
    }

    struct Packet {
        var from: Int
        var to: Int
        var bytes: [UInt8]
        var header: ReceivedIPHeader
        var at: VRRPInstant
    }

    var now = VRRPInstant.zero
    var nodes: [Node]
    /// One-way delay of every packet.
    var latency: Duration = .zero
    var inFlight: [Packet] = []
    /// Packets delivered, for tests that count traffic.
    var delivered = 0

    init(_ hosts: KeyValuePairs<String, VRRPInstanceConfig>, latency: Duration = .zero) throws {
        nodes = try hosts.map { Node(instance: try VRRPInstance(config: $0.value), name: $0.key) }
        self.latency = latency
    }

    subscript(_ name: String) -> Node {
        get { nodes[index(name)] }
        set { nodes[index(name)] = newValue }
    }

    func index(_ name: String) -> Int {
        guard let index = nodes.firstIndex(where: { $0.name == name }) else {
            fatalError("no node \(name)")
        }
        return index
    }

    /// The nodes currently in MASTER.
    var masters: [String] { nodes.filter { $0.state == .master }.map(\.name) }

    /// Nodes whose VIP set is not empty.
    var vipHolders: [String] { nodes.filter { !$0.vips.isEmpty }.map(\.name) }

    mutating func send(_ event: VRRPInstance.Event, to name: String) {
        handle(event, node: index(name))
    }

    mutating func startAll() {
        for index in nodes.indices {
            handle(.start, node: index)
        }
    }

    mutating func handle(_ event: VRRPInstance.Event, node index: Int) {
        let before = nodes[index].instance.state
        let actions = nodes[index].instance.handle(event, now: now)
        if nodes[index].instance.state != before {
            nodes[index].states.append((now, nodes[index].instance.state))
        }
        for action in actions {
            apply(action, node: index)
        }
    }

    mutating func apply(_ action: VRRPInstance.Action, node index: Int) {
        switch action {
        case .sendAdvert(let advert, let destination, let bytes):
            nodes[index].sent.append((now, advert))
            guard nodes[index].connected else { return }
            let source = nodes[index].instance.config.primaryAddress
            for other in nodes.indices where other != index {
                let header = ReceivedIPHeader(source: source, destination: destination, ttl: 255)
                inFlight.append(Packet(from: index, to: other, bytes: bytes, header: header, at: now + latency))
            }
        case .addVIPs(let addresses):
            nodes[index].vips.formUnion(addresses)
        case .removeVIPs(let addresses):
            nodes[index].vips.subtract(addresses)
        case .sendGratuitousARP(_, let count):
            nodes[index].gratuitousARPs.append((now, count))
        case .setTimer(let timer, let at):
            nodes[index].timers[timer] = at
        case .cancelTimer(let timer):
            nodes[index].timers[timer] = nil
        case .runNotify(let state, _):
            nodes[index].notifies.append((now, state))
        case .log(_, let text):
            nodes[index].logs.append((now, text))
        case .handoverFinished(let released):
            nodes[index].handoverResults.append((now, released))
        }
    }

    /// Executes the next packet or timer if one is due by `deadline` (packets before timers at the same
    /// instant, lower node index first). Returns false when nothing is due.
    mutating func step(deadline: VRRPInstant) -> Bool {
        let packetIndex = inFlight.indices.min { inFlight[$0].at < inFlight[$1].at }
        var nextTimer: (node: Int, timer: VRRPTimer, at: VRRPInstant)?
        for (index, node) in nodes.enumerated() {
            for timer in VRRPTimer.allCases {
                guard let at = node.timers[timer] else { continue }
                if let current = nextTimer, current.at <= at { continue }
                nextTimer = (index, timer, at)
            }
        }
        if let packetIndex, inFlight[packetIndex].at <= deadline,
            nextTimer.map({ inFlight[packetIndex].at <= $0.at }) ?? true
        {
            let packet = inFlight.remove(at: packetIndex)
            now = max(now, packet.at)
            if nodes[packet.to].connected {
                delivered += 1
                handle(.packetReceived(packet.bytes, packet.header), node: packet.to)
            }
            return true
        }
        if let nextTimer, nextTimer.at <= deadline {
            now = max(now, nextTimer.at)
            nodes[nextTimer.node].timers[nextTimer.timer] = nil
            handle(.timerFired(nextTimer.timer), node: nextTimer.node)
            return true
        }
        return false
    }

    /// Runs everything due up to `deadline`, then sets the clock to it.
    mutating func run(until deadline: VRRPInstant) {
        var steps = 0
        while steps < 1_000_000, step(deadline: deadline) {
            steps += 1
        }
        now = max(now, deadline)
    }

    mutating func run(for duration: Duration) {
        run(until: now + duration)
    }

    /// Runs until `condition` holds (checked before every step), for at most `limit` of virtual time;
    /// returns the instant it first held, or nil.
    mutating func run(until condition: (SimulatedNetwork) -> Bool, within limit: Duration) -> VRRPInstant? {
        let deadline = now + limit
        var steps = 0
        while steps < 1_000_000 {
            steps += 1
            if condition(self) { return now }
            guard step(deadline: deadline) else { break }
        }
        if condition(self) { return now }
        now = max(now, deadline)
        return nil
    }
}

extension VRRPInstant {
    static func seconds(_ value: Double) -> VRRPInstant {
        VRRPInstant(.milliseconds(Int64((value * 1000).rounded())))
    }
}

extension VRRPInstanceConfig {
    /// The seed's `vrrp_instance VI_1` (fixtures/seed/keepalived-lb0N.conf): VRID 51, advert_int 1, PASS
    /// 12345678, VIP 192.168.10.100, garp_master_delay 1, garp_master_repeat 5, chk_haproxy weight -30.
    static func seed(
        name: String = "VI_1", address: IPv4Address, priority: UInt8, state: InitialState,
        version: VRRPVersion = .v2, advertInterval: Duration = .seconds(1), preempt: Bool = true,
        trackedItems: [TrackedItem] = [TrackedItem(name: "chk_haproxy", kind: .script, weight: -30)]
    ) -> VRRPInstanceConfig {
        VRRPInstanceConfig(
            name: name, version: version, virtualRouterID: 51, priority: priority, advertInterval: advertInterval,
            initialState: state, preempt: preempt,
            authentication: version == .v2 ? .password("12345678") : .none,
            virtualAddresses: [IPv4Address(192, 168, 10, 100)], primaryAddress: address,
            gratuitousARP: GratuitousARPSchedule(delay: .seconds(1), repeatCount: 5),
            trackedItems: trackedItems)
    }
}

let lb01Address = IPv4Address(192, 168, 10, 11)
let lb02Address = IPv4Address(192, 168, 10, 12)
let seedVIP = IPv4Address(192, 168, 10, 100)
