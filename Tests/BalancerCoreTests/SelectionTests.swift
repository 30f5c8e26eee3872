import Testing

@testable import BalancerCore

func makeServers(_ weights: [Int], backups: Set<Int> = [], maxconn: [Int: Int] = [:]) -> [ServerSlot] {
    weights.enumerated().map { offset, weight in
        ServerSlot(
            name: "web0\(offset + 1)",
            id: offset + 1,
            weight: weight,
            isBackup: backups.contains(offset),
            maxConnections: maxconn[offset]
        )
    }
}

/// Picks `count` times, releasing each request at once (sequential requests), and returns server names.
func sequence(_ selector: inout BackendSelector, _ count: Int, _ request: PickRequest = PickRequest()) -> [String] {
    (0..<count).map { _ in
        switch selector.pick(request) {
        case .server(let index):
            selector.release(index)
            return selector.servers[index].name
        case .queue: return "queue"
        case .noServer: return "503"
        }
    }
}

@Suite("Round robin")
struct RoundRobinTests {
    @Test("equal weights alternate web01, web02, web01 as in the seed")
    func equalWeights() {
        var selector = BackendSelector(servers: makeServers([1, 1]), algorithm: .roundRobin)
        #expect(sequence(&selector, 5) == ["web01", "web02", "web01", "web02", "web01"])
    }

    @Test("weights 3:1 interleave smoothly")
    func smoothWeights() {
        var selector = BackendSelector(servers: makeServers([3, 1]), algorithm: .roundRobin)
        #expect(sequence(&selector, 8) == ["web01", "web01", "web02", "web01", "web01", "web01", "web02", "web01"])
    }

    @Test("weights 5:2:1 give the exact ratio over whole cycles")
    func ratio() {
        var selector = BackendSelector(servers: makeServers([5, 2, 1]), algorithm: .roundRobin)
        let picks = sequence(&selector, 800)
        #expect(picks.filter { $0 == "web01" }.count == 500)
        #expect(picks.filter { $0 == "web02" }.count == 200)
        #expect(picks.filter { $0 == "web03" }.count == 100)
    }

    @Test("a DOWN server is skipped and rejoins without a burst")
    func downAndUp() {
        var selector = BackendSelector(servers: makeServers([1, 1, 1]), algorithm: .roundRobin)
        #expect(sequence(&selector, 3) == ["web01", "web02", "web03"])
        selector.setUsable(1, false)
        #expect(sequence(&selector, 4) == ["web01", "web03", "web01", "web03"])
        selector.setUsable(1, true)
        let after = sequence(&selector, 30)
        // Back in rotation at once, and no more than its share: 10 of 30, never twice in a row.
        #expect(after.prefix(3).contains("web02"))
        #expect(after.filter { $0 == "web02" }.count == 10)
        #expect(!zip(after, after.dropFirst()).contains { $0 == "web02" && $1 == "web02" })
    }

    @Test("a weight change applies at once")
    func weightChange() {
        var selector = BackendSelector(servers: makeServers([1, 1]), algorithm: .roundRobin)
        _ = sequence(&selector, 2)
        #expect(selector.servers.map(\.weight) == [16, 16])
        selector.setWeight(0, 3 * ServerSlot.weightScale)
        let picks = sequence(&selector, 40)
        #expect(picks.filter { $0 == "web01" }.count == 30)
        selector.setWeight(1, 0)
        #expect(sequence(&selector, 3) == ["web01", "web01", "web01"])
    }

    @Test("all servers down → 503; all full → queue")
    func noServerAndQueue() {
        var selector = BackendSelector(servers: makeServers([1, 1], maxconn: [0: 1, 1: 1]), algorithm: .roundRobin)
        #expect(selector.pick() == .server(0))
        #expect(selector.pick() == .server(1))
        #expect(selector.pick() == .queue)
        selector.release(0)
        #expect(selector.pick() == .server(0))
        selector.setUsable(0, false)
        selector.setUsable(1, false)
        #expect(selector.pick() == .noServer)
    }

    @Test("a retry avoids the failed server, unless it is the only one")
    func avoiding() {
        var selector = BackendSelector(servers: makeServers([1, 1]), algorithm: .roundRobin)
        #expect(sequence(&selector, 1, PickRequest(avoiding: 0)) == ["web02"])
        #expect(sequence(&selector, 1, PickRequest(avoiding: 0)) == ["web02"])
        selector.setUsable(1, false)
        #expect(sequence(&selector, 1, PickRequest(avoiding: 0)) == ["web01"])
    }

    @Test("round robin is global across event loops sharing one selector")
    func globalAcrossLoops() async {
        let shared = SharedBackendSelector(BackendSelector(servers: makeServers([1, 1]), algorithm: .roundRobin))
        // Three callers on different threads take turns: the rotation does not restart per caller.
        var names: [String] = []
        for loop in 0..<3 {
            let name: String = await Task.detached {
                guard case .server(let index) = shared.pick() else { return "none" }
                shared.release(index)
                return shared.servers[index].name + "@\(loop)"
            }.value
            names.append(name)
        }
        #expect(names == ["web01@0", "web02@1", "web01@2"])

        // Concurrent callers: the split stays exact, no pick is lost or doubled.
        let counts = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var local = [0, 0]
                    for _ in 0..<1000 {
                        if case .server(let index) = shared.pick() {
                            local[index] += 1
                            shared.release(index)
                        }
                    }
                    return local
                }
            }
            var total = [0, 0]
            for await local in group {
                total[0] += local[0]
                total[1] += local[1]
            }
            return total
        }
        #expect(counts == [2000, 2000])
    }
}

@Suite("Backup servers")
struct BackupTests {
    @Test("backups get traffic only when every active server is down; first backup only by default")
    func firstBackupOnly() {
        var selector = BackendSelector(servers: makeServers([1, 1, 1, 1], backups: [2, 3]), algorithm: .roundRobin)
        #expect(Set(sequence(&selector, 4)) == ["web01", "web02"])
        selector.setUsable(0, false)
        selector.setUsable(1, false)
        #expect(sequence(&selector, 3) == ["web03", "web03", "web03"])
        selector.setUsable(2, false)
        #expect(sequence(&selector, 2) == ["web04", "web04"])
        selector.setUsable(1, true)
        #expect(sequence(&selector, 2) == ["web02", "web02"])
    }

    @Test("option allbackups balances over all backups")
    func allBackups() {
        var selector = BackendSelector(
            servers: makeServers([1, 1, 1], backups: [1, 2]),
            algorithm: .roundRobin,
            allBackups: true
        )
        selector.setUsable(0, false)
        #expect(sequence(&selector, 4) == ["web02", "web03", "web02", "web03"])
    }
}
