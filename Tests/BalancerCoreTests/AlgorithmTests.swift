import Testing

@testable import BalancerCore

@Suite("Other balance algorithms")
struct AlgorithmTests {
    @Test("static-rr: weighted map, DOWN servers skipped, runtime weight ignored")
    func staticRoundRobin() {
        var selector = BackendSelector(servers: makeServers([3, 1]), algorithm: .staticRoundRobin)
        #expect(sequence(&selector, 8) == ["web01", "web01", "web02", "web01", "web01", "web01", "web02", "web01"])
        selector.setWeight(1, 48)
        let picks = sequence(&selector, 40)
        #expect(picks.filter { $0 == "web02" }.count == 10)
        selector.setUsable(0, false)
        #expect(sequence(&selector, 3) == ["web02", "web02", "web02"])
        selector.setUsable(0, true)
        #expect(sequence(&selector, 8).filter { $0 == "web01" }.count == 6)
    }

    @Test("leastconn: fewest connections per weight wins, round robin among equal loads")
    func leastConnections() {
        var selector = BackendSelector(servers: makeServers([1, 1, 1]), algorithm: .leastConnections)
        // Sequential requests (released at once): equal loads rotate.
        #expect(sequence(&selector, 4) == ["web01", "web02", "web03", "web01"])
        // Long-lived requests pile up: each new one goes to the least loaded server.
        var held: [Int] = []
        for _ in 0..<3 {
            if case .server(let index) = selector.pick() { held.append(index) }
        }
        #expect(Set(held) == [0, 1, 2])
        selector.release(held[1])  // one server frees a slot
        #expect(selector.pick() == .server(held[1]))
        // Weight 2 carries twice the connections before losing to weight 1.
        var weighted = BackendSelector(servers: makeServers([2, 1]), algorithm: .leastConnections)
        var counts = [0, 0]
        for _ in 0..<30 {
            if case .server(let index) = weighted.pick() { counts[index] += 1 }
        }
        #expect(counts == [20, 10])
        #expect(weighted.servers.map(\.connections) == [20, 10])
    }

    @Test("source: a client sticks to one server; clients spread by weight; stable across instances")
    func sourceHash() {
        var selector = BackendSelector(servers: makeServers([1, 1, 1]), algorithm: .source)
        let client = ClientAddress(bytes: [192, 168, 10, 5])
        let first = sequence(&selector, 1, PickRequest(client: client))
        #expect(sequence(&selector, 10, PickRequest(client: client)) == Array(repeating: first[0], count: 10))

        // The same mapping in another process (the peer balancer): no per-process seed.
        var other = BackendSelector(servers: makeServers([1, 1, 1]), algorithm: .source)
        #expect(sequence(&other, 1, PickRequest(client: client)) == first)

        // Many clients spread roughly by weight (4:1:1 → about 2/3 on web01).
        var weighted = BackendSelector(servers: makeServers([4, 1, 1]), algorithm: .source)
        var counts: [String: Int] = [:]
        for host in 0..<3000 {
            let address = ClientAddress.v4(0x0A00_0000 | UInt32(host))
            counts[sequence(&weighted, 1, PickRequest(client: address))[0], default: 0] += 1
        }
        #expect((1800...2200).contains(counts["web01"] ?? 0))
        #expect((350...650).contains(counts["web02"] ?? 0))

        // A DOWN server's clients move; a retry avoiding the hashed server goes elsewhere.
        let hashed = selector.index(of: first[0]) ?? -1
        #expect(sequence(&selector, 1, PickRequest(client: client, avoiding: hashed)) != first)
        selector.setUsable(hashed, false)
        #expect(sequence(&selector, 1, PickRequest(client: client)) != first)
    }

    @Test("client addresses from bytes")
    func clientAddress() {
        #expect(ClientAddress(bytes: [10, 0, 0, 1]) == .v4(0x0A00_0001))
        #expect(ClientAddress(bytes: [UInt8](repeating: 0, count: 15) + [1]) == .v6(high: 0, low: 1))
        #expect(ClientAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test("first: fill the lowest id up to maxconn, then the next")
    func firstAvailable() {
        var selector = BackendSelector(servers: makeServers([1, 1], maxconn: [0: 2, 1: 2]), algorithm: .first)
        #expect(selector.pick() == .server(0))
        #expect(selector.pick() == .server(0))
        #expect(selector.pick() == .server(1))
        #expect(selector.pick() == .server(1))
        #expect(selector.pick() == .queue)
        selector.release(0)
        #expect(selector.pick() == .server(0))
        var unlimited = BackendSelector(servers: makeServers([1, 1]), algorithm: .first)
        #expect(sequence(&unlimited, 3) == ["web01", "web01", "web01"])
    }

    @Test("random(2): seeded, weighted, and the less loaded of two draws wins")
    func random() {
        var selector = BackendSelector(servers: makeServers([1, 1, 1, 1]), algorithm: .random, seed: 42)
        var replay = BackendSelector(servers: makeServers([1, 1, 1, 1]), algorithm: .random, seed: 42)
        #expect(sequence(&selector, 50) == sequence(&replay, 50))

        // Held connections: power of two choices keeps the spread tight (never more than 2 apart here).
        var loaded = BackendSelector(servers: makeServers([1, 1, 1, 1]), algorithm: .random, seed: 7)
        for _ in 0..<400 { _ = loaded.pick() }
        let connections = loaded.servers.map(\.connections)
        #expect(connections.reduce(0, +) == 400)
        #expect((connections.max() ?? 0) - (connections.min() ?? 0) <= 4)

        // One draw is plain weighted random: weight 0 never drawn, weight 3:1 respected.
        var single = BackendSelector(servers: makeServers([3, 1, 0]), algorithm: .random(draws: 1), seed: 1)
        let picks = sequence(&single, 4000)
        #expect(!picks.contains("web03"))
        #expect((2800...3200).contains(picks.filter { $0 == "web01" }.count))
    }

    @Test("every algorithm falls back to backups and reports 503 when nothing is usable")
    func backupsForAll() {
        let algorithms: [BalanceAlgorithm] = [
            .roundRobin, .staticRoundRobin, .leastConnections, .source, .first, .random,
        ]
        for algorithm in algorithms {
            var selector = BackendSelector(servers: makeServers([1, 1, 1], backups: [2]), algorithm: algorithm)
            selector.setUsable(0, false)
            selector.setUsable(1, false)
            #expect(sequence(&selector, 2, PickRequest(client: .v4(1))) == ["web03", "web03"], "\(algorithm)")
            selector.setUsable(2, false)
            #expect(selector.pick(PickRequest(client: .v4(1))) == .noServer, "\(algorithm)")
        }
    }

    @Test("BackendState builds a selector with HAProxy's weight scale and its usable flags")
    func selectorFromState() {
        let state = BackendState(
            name: "b",
            servers: [
                ServerSettings(name: "a", weight: 3, check: seedCheck),
                ServerSettings(name: "b", weight: 1, maxConnections: 5, startsInMaintenance: true),
                ServerSettings(name: "c", isBackup: true),
            ]
        )
        let selector = state.makeSelector(algorithm: .roundRobin)
        #expect(selector.servers.map(\.weight) == [48, 16, 16])
        #expect(selector.servers.map(\.isUsable) == [true, false, true])
        #expect(selector.servers.map(\.id) == [1, 2, 3])
        #expect(selector.servers[1].maxConnections == 5)
        #expect(selector.servers[2].isBackup)
        // Slots built by hand from configured weights agree with the state's scale, so a runtime
        // `set server weight` action applies correctly to either.
        #expect(ServerSlot(name: "a", id: 1, weight: 3).weight == selector.servers[0].weight)
        var state2 = state
        var byHand = BackendSelector(servers: makeServers([1, 1]), algorithm: .roundRobin)
        for case .setWeight(let server, let weight) in state2.setWeight(server: 0, 3, now: .zero) {
            byHand.setWeight(server, weight)
        }
        #expect(sequence(&byHand, 8).filter { $0 == "web01" }.count == 6)
    }
}
