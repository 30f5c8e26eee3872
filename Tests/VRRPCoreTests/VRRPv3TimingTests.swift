import Testing

@testable import VRRPCore

/// VRRPv3 with `advert_int 0.1` (issue 6, fast detection) and the equal-priority tie-break.
@Suite struct VRRPv3TimingTests {
    func fastNetwork(lb02Interval: Duration = .milliseconds(100)) throws -> SimulatedNetwork {
        try SimulatedNetwork([
            "lb01": .seed(
                address: lb01Address, priority: 120, state: .master, version: .v3,
                advertInterval: .milliseconds(100)),
            "lb02": .seed(
                address: lb02Address, priority: 100, state: .backup, version: .v3,
                advertInterval: lb02Interval),
        ])
    }

    @Test func lostMasterIsReplacedWithinHalfASecond() throws {
        var network = try fastNetwork()
        network.startAll()
        let electedResult = network.run(until: { $0.masters == ["lb01"] }, within: .seconds(2))
        let elected = try #require(electedResult)
        // 3 × 0.1 s + (256 − 120) × 0.1 s / 256
        #expect(elected == VRRPInstant(.milliseconds(300) + .milliseconds(100) * 136 / 256))
        network.run(until: VRRPInstant.seconds(5))
        let lastAdvert = try #require(network["lb01"].sent.last?.0)
        network["lb01"].connected = false

        let takeoverResult = network.run(until: { $0["lb02"].state == .master }, within: .seconds(2))
        let takeover = try #require(takeoverResult)
        let expected: Duration = .milliseconds(300) + .milliseconds(100) * 156 / 256
        #expect(takeover - lastAdvert == expected)
        #expect(takeover - lastAdvert < .milliseconds(500))
        // The adverts on the wire carry 10 centiseconds.
        #expect(network["lb01"].sent.allSatisfy { $0.1.intervalCentiseconds == 10 && $0.1.version == .v3 })
    }

    /// RFC 5798 §6.4.2: a v3 backup uses the master's advertised interval, not its own `advert_int`.
    @Test func backupLearnsTheMastersInterval() throws {
        var network = try fastNetwork(lb02Interval: .seconds(1))
        network.startAll()
        network.run(until: VRRPInstant.seconds(5))
        #expect(network["lb02"].instance.masterAdvertInterval == .milliseconds(100))
        #expect(network["lb02"].logged("(VI_1) advertisement interval updated to 100 milli-sec from 1000 milli-sec"))
        #expect(network["lb02"].instance.masterDownInterval == .milliseconds(300) + .milliseconds(100) * 156 / 256)
        let lastAdvert = try #require(network["lb01"].sent.last?.0)
        network["lb01"].connected = false
        let takeoverResult = network.run(until: { $0["lb02"].state == .master }, within: .seconds(5))
        let takeover = try #require(takeoverResult)
        #expect(takeover - lastAdvert < .milliseconds(400))
        // Once master, lb02 advertises its own configured interval.
        #expect(network["lb02"].sent.last?.1.intervalCentiseconds == 100)
    }

    @Test func priorityZeroHandoverTakesSkewTimeOfTheMastersInterval() throws {
        var network = try fastNetwork()
        network.startAll()
        network.run(until: VRRPInstant.seconds(5))
        network.send(.shutdown, to: "lb01")
        let takeoverResult = network.run(until: { $0["lb02"].state == .master }, within: .seconds(1))
        let takeover = try #require(takeoverResult)
        #expect(takeover - VRRPInstant.seconds(5) == .milliseconds(100) * 156 / 256)
    }

    /// No flapping: 60 s of 0.1 s adverts keep lb01 master without a single transition.
    @Test func steadyAdvertsNeverFlap() throws {
        var network = try fastNetwork()
        network.startAll()
        network.run(until: VRRPInstant.seconds(60))
        #expect(network["lb01"].states.map(\.1) == [.backup, .master])
        #expect(network["lb02"].states.map(\.1) == [.backup])
        #expect((590...600).contains(network["lb01"].sent.count))
    }

    /// Equal priorities: both time out together, both become master, and on hearing each other the one with
    /// the lower primary address steps down (RFC 5798 §6.4.3).
    @Test func equalPriorityTieGoesToTheHigherAddress() throws {
        var network = try SimulatedNetwork(
            [
                "lb01": .seed(address: lb01Address, priority: 100, state: .backup),
                "lb02": .seed(address: lb02Address, priority: 100, state: .backup),
            ], latency: .milliseconds(1))
        network.startAll()
        network.run(until: VRRPInstant.seconds(20))
        #expect(network.masters == ["lb02"])
        #expect(network.vipHolders == ["lb02"])
        #expect(network["lb01"].states.map(\.1) == [.backup, .master, .backup])
        #expect(
            network["lb01"].logged(
                "(VI_1) Master received advert from 192.168.10.12 with same priority 100 but higher IP address than ours"
            ))
        #expect(
            network["lb02"].logged(
                "(VI_1) Received advert from 192.168.10.11 with lower priority 100, ours 100, forcing new election"))
    }
}
