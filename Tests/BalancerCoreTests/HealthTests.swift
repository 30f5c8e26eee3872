import Testing

@testable import BalancerCore

/// The seed's `server webNN ... check inter 2s fall 3 rise 2`.
let seedCheck = CheckSettings(rise: 2, fall: 3, inter: .seconds(2))

func seedBackend() -> BackendState {
    BackendState(
        name: "web_backend",
        servers: [
            ServerSettings(name: "web01", check: seedCheck),
            ServerSettings(name: "web02", check: seedCheck),
        ]
    )
}

/// A virtual-time shell: runs scheduled checks in time order against a model of which servers answer,
/// applies selector actions, and records log lines with their time. No clock, no sleeps.
struct VirtualShell {
    var state: BackendState
    var selector: BackendSelector
    var now: Duration = .zero
    var pendingChecks: [Int: Duration] = [:]
    var logs: [(at: Duration, level: LogLevel, text: String)] = []
    /// Whether server N answers its health check at a given time.
    var answers: (Int, Duration) -> Bool

    init(_ state: BackendState, answers: @escaping (Int, Duration) -> Bool) {
        self.state = state
        selector = state.makeSelector(algorithm: .roundRobin)
        self.answers = answers
        apply(state.start())
    }

    mutating func apply(_ actions: [BackendAction]) {
        for action in actions {
            switch action {
            case .log(let level, let text): logs.append((now, level, text))
            case .setUsable(let server, let usable): selector.setUsable(server, usable)
            case .setWeight(let server, let weight): selector.setWeight(server, weight)
            case .scheduleCheck(let server, let delay): pendingChecks[server] = now + delay
            case .scheduleSlowstartStep: break
            }
        }
    }

    /// Runs every check due up to `end`, in time order.
    mutating func run(until end: Duration) {
        while let (server, due) = pendingChecks.min(by: {
            $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key)
        }),
            due <= end
        {
            now = due
            pendingChecks[server] = nil
            let report: CheckReport =
                answers(server, now)
                ? CheckReport(status: .layer7Passed, code: 200, duration: .milliseconds(1))
                : .connectionRefused()
            apply(state.checkCompleted(server: server, report, now: now))
        }
        now = end
    }

    var status: [String] { state.servers.map(\.statusText) }
}

@Suite("Health checks")
struct HealthTests {
    @Test("rise/fall counter: UP after exactly rise successes, DOWN after exactly fall failures")
    func counter() {
        var health = ServerHealth(settings: seedCheck)
        #expect(health.statusText == "UP 1/3")
        #expect(health.lastCheck.status == .initializing)
        #expect(health.record(CheckReport(status: .layer7Passed, code: 200)) == false)
        #expect(health.statusText == "UP")
        #expect(health.record(.connectionRefused()) == false)
        #expect(health.statusText == "UP 2/3")
        #expect(health.record(.connectionRefused()) == false)
        #expect(health.statusText == "UP 1/3")
        // A success in between resets the count: fall failures must be consecutive.
        #expect(health.record(.connected()) == false)
        #expect(health.statusText == "UP")
        #expect(health.record(.connectionRefused()) == false)
        #expect(health.record(.connectionRefused()) == false)
        #expect(health.record(.connectionRefused()) == true)
        #expect(health.statusText == "DOWN")
        #expect(health.downTransitions == 1)
        #expect(health.record(.connectionRefused()) == false)
        // chkfail does not count failures of a server already fully DOWN, as in HAProxy.
        #expect(health.failedChecks == 5)
        #expect(health.record(.connected()) == false)
        #expect(health.statusText == "DOWN 1/2")
        #expect(health.record(.connectionRefused()) == false)
        #expect(health.statusText == "DOWN")
        #expect(health.record(.connected()) == false)
        #expect(health.record(.connected()) == true)
        #expect(health.statusText == "UP")
    }

    @Test("a server dead at start is marked DOWN by its first failed check (HAProxy's init-state up)")
    func initialState() {
        var shell = VirtualShell(seedBackend()) { server, _ in server == 0 }
        #expect(shell.status == ["UP 1/3", "UP 1/3"])
        #expect(shell.selector.servers.map(\.isUsable) == [true, true])
        shell.run(until: .seconds(1))
        #expect(shell.status == ["UP", "DOWN"])
        #expect(shell.logs.map(\.at) == [.seconds(1)])
        #expect(
            shell.logs.map(\.text) == [
                "Server web_backend/web02 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", "
                    + "check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, "
                    + "0 remaining in queue."
            ]
        )
        #expect(sequence(&shell.selector, 2) == ["web01", "web01"])
    }

    @Test("seed timeline on a virtual clock: kill web01, DOWN at the 3rd failed check, back UP after 2 successes")
    func seedTimeline() {
        // web01 stops answering at t=10.5s and comes back at t=20.5s.
        var shell = VirtualShell(seedBackend()) { server, now in
            server != 0 || now < .milliseconds(10_500) || now > .milliseconds(20_500)
        }
        shell.run(until: .seconds(11))
        #expect(shell.status == ["UP", "UP"])
        #expect(shell.logs.isEmpty)
        // Checks of web01 run at 0, 2, 4, ... (web02 at 1, 3, 5, ...): failures at 12, 14, 16.
        shell.run(until: .seconds(12))
        #expect(shell.status == ["UP 2/3", "UP"])
        shell.run(until: .seconds(14))
        #expect(shell.status == ["UP 1/3", "UP"])
        #expect(shell.selector.servers[0].isUsable)
        shell.run(until: .milliseconds(15_999))
        #expect(shell.logs.isEmpty)
        shell.run(until: .seconds(16))
        #expect(shell.status == ["DOWN", "UP"])
        #expect(!shell.selector.servers[0].isUsable)
        #expect(shell.logs.count == 1)
        #expect(shell.logs.first?.at == .seconds(16))
        #expect(shell.logs.first?.level == .alert)
        #expect(
            shell.logs.first?.text
                == "Server web_backend/web01 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", "
                + "check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, "
                + "0 remaining in queue."
        )
        // While DOWN only web02 is picked.
        #expect(sequence(&shell.selector, 3) == ["web02", "web02", "web02"])

        // Back at 20.5s: successes at 22 (DOWN 1/2) and 24 (UP).
        shell.run(until: .seconds(22))
        #expect(shell.status == ["DOWN 1/2", "UP"])
        #expect(!shell.selector.servers[0].isUsable)
        shell.run(until: .seconds(24))
        #expect(shell.status == ["UP", "UP"])
        #expect(shell.selector.servers[0].isUsable)
        #expect(shell.logs.count == 2)
        #expect(shell.logs.last?.at == .seconds(24))
        #expect(shell.logs.last?.level == .notice)
        #expect(
            shell.logs.last?.text
                == "Server web_backend/web01 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. "
                + "2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
        )
        #expect(shell.state.servers[0].downtime(at: .seconds(30)) == .seconds(8))
        #expect(shell.state.servers[0].lastChange == .seconds(24))
        #expect(shell.state.servers[0].health?.downTransitions == 1)
    }

    @Test("the last server going DOWN logs that the backend has no server available")
    func noServerAvailable() {
        var shell = VirtualShell(seedBackend()) { server, now in now < .seconds(5) }
        shell.run(until: .seconds(20))
        #expect(shell.status == ["DOWN", "DOWN"])
        #expect(shell.selector.pick() == .noServer)
        let texts = shell.logs.map(\.text)
        #expect(texts.count == 3)
        #expect(texts.last == "backend web_backend has no server available!")
        #expect(shell.logs.last?.level == .emergency)
        #expect(texts[0].hasPrefix("Server web_backend/web02 is DOWN"))
        #expect(texts[1].hasPrefix("Server web_backend/web01 is DOWN"))
        #expect(texts[1].contains("0 active and 0 backup servers left."))
    }

    @Test("interval: inter while stable, fastinter in transition, downinter while DOWN")
    func intervals() {
        var health = ServerHealth(
            settings: CheckSettings(
                rise: 2,
                fall: 3,
                inter: .seconds(2),
                fastInter: .milliseconds(500),
                downInter: .seconds(5)
            )
        )
        #expect(health.nextInterval == .milliseconds(500))  // UP 1/3 at start is a transition
        _ = health.record(.connected())
        #expect(health.nextInterval == .seconds(2))
        _ = health.record(.connectionRefused())
        #expect(health.nextInterval == .milliseconds(500))
        _ = health.record(.connectionRefused())
        _ = health.record(.connectionRefused())
        #expect(health.nextInterval == .seconds(5))
        _ = health.record(.connected())
        #expect(health.nextInterval == .milliseconds(500))
        // Without fastinter/downinter everything runs at inter.
        var plain = ServerHealth(settings: seedCheck)
        _ = plain.record(.connectionRefused())
        #expect(plain.nextInterval == .seconds(2))
    }

    @Test("backup servers are labelled and counted as HAProxy does")
    func backupLabel() {
        var state = BackendState(
            name: "web_backend",
            servers: [
                ServerSettings(name: "web01", check: seedCheck),
                ServerSettings(name: "web03", isBackup: true, check: seedCheck),
            ]
        )
        let actions = state.checkCompleted(server: 1, .connectionRefused(), now: .seconds(1))
        #expect(
            actions.first
                == .log(
                    .alert,
                    "Backup Server web_backend/web03 is DOWN, reason: Layer4 connection problem, "
                        + "info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left. "
                        + "0 sessions active, 0 requeued, 0 remaining in queue."
                )
        )
        #expect(actions.contains(.setUsable(server: 1, false)))
        #expect(actions.last == .scheduleCheck(server: 1, after: .seconds(2)))
    }

    @Test("maintenance and drain: log lines, selector updates, checks paused and restarted")
    func adminStates() {
        var state = seedBackend()
        var actions = state.setAdmin(server: 0, .maintenance, now: .seconds(3))
        #expect(
            actions == [
                .log(
                    .notice,
                    "Server web_backend/web01 is going DOWN for maintenance. 1 active and 0 backup servers left. "
                        + "0 sessions active, 0 requeued, 0 remaining in queue."
                ),
                .setUsable(server: 0, false),
            ]
        )
        #expect(state.servers[0].statusText == "MAINT")
        // A check that was in flight is ignored and not rescheduled.
        #expect(state.checkCompleted(server: 0, .connected(), now: .seconds(4)).isEmpty)

        actions = state.setAdmin(server: 0, .ready, now: .seconds(10))
        #expect(
            actions == [
                .log(.notice, "Server web_backend/web01 is UP/READY (leaving forced maintenance)."),
                .setUsable(server: 0, true),
                .scheduleCheck(server: 0, after: .zero),
            ]
        )
        #expect(state.servers[0].statusText == "UP 1/3")
        #expect(state.servers[0].downtime(at: .seconds(10)) == .seconds(7))

        actions = state.setAdmin(server: 1, .drain, now: .seconds(11))
        #expect(
            actions == [
                .log(
                    .notice,
                    "Server web_backend/web02 enters drain state. 1 active and 0 backup servers online. "
                        + "0 sessions requeued, 0 total in queue."
                ),
                .setUsable(server: 1, false),
            ]
        )
        #expect(state.servers[1].statusText == "DRAIN")
        #expect(state.servers[1].downtime(at: .seconds(20)) == .zero)
        actions = state.setAdmin(server: 1, .ready, now: .seconds(12))
        #expect(
            actions == [
                .log(.notice, "Server web_backend/web02 is UP (leaving forced drain)."), .setUsable(server: 1, true),
            ]
        )
    }

    @Test("set server health down|up from the CLI")
    func forcedHealth() {
        var state = seedBackend()
        var actions = state.setHealth(server: 1, up: false, now: .seconds(1))
        #expect(
            actions.first
                == .log(
                    .alert,
                    "Server web_backend/web02 is DOWN, changed from CLI. 1 active and 0 backup servers left. "
                        + "0 sessions active, 0 requeued, 0 remaining in queue."
                )
        )
        #expect(state.servers[1].statusText == "DOWN")
        // The next passing check only brings it to DOWN 1/2, as HAProxy shows after `health down`.
        _ = state.checkCompleted(server: 1, .connected(), now: .seconds(2))
        #expect(state.servers[1].statusText == "DOWN 1/2")
        actions = state.setHealth(server: 1, up: true, now: .seconds(3))
        #expect(actions.contains(.setUsable(server: 1, true)))
        #expect(state.servers[1].statusText == "UP")
    }

    @Test("slowstart ramps the weight after coming UP, never before")
    func slowstart() {
        var state = BackendState(
            name: "b",
            servers: [
                ServerSettings(name: "a", check: CheckSettings(rise: 1, fall: 1), slowstart: .seconds(16)),
                ServerSettings(name: "b"),
            ]
        )
        #expect(state.servers[0].effectiveWeight(at: .zero) == 16)  // no ramp at start-up
        _ = state.checkCompleted(server: 0, .connectionRefused(), now: .seconds(1))
        let actions = state.checkCompleted(server: 0, .connected(), now: .seconds(10))
        // The low weight is set before the server becomes usable.
        #expect(
            Array(actions.dropFirst().prefix(3)) == [
                .setWeight(server: 0, 1), .setUsable(server: 0, true),
                .scheduleSlowstartStep(server: 0, after: .seconds(1)),
            ]
        )
        #expect(
            state.slowstartStep(server: 0, now: .seconds(14)) == [
                .setWeight(server: 0, 4), .scheduleSlowstartStep(server: 0, after: .seconds(1)),
            ]
        )
        #expect(state.slowstartStep(server: 0, now: .seconds(26)) == [.setWeight(server: 0, 16)])
        #expect(state.slowstartStep(server: 0, now: .seconds(27)).isEmpty)
    }

    @Test("runtime weight: 0 takes the server out without marking it DOWN")
    func runtimeWeight() {
        var state = seedBackend()
        #expect(state.setWeight(server: 0, 3, now: .zero) == [.setWeight(server: 0, 48)])
        let actions = state.setWeight(server: 0, 0, now: .zero)
        #expect(actions == [.setWeight(server: 0, 0), .setUsable(server: 0, false)])
        #expect(state.servers[0].statusText == "UP 1/3")
        #expect(state.usableCount.active == 1)
    }

    @Test("first checks are spread over inter")
    func spreadStart() {
        let state = BackendState(
            name: "b",
            servers: (1...4).map { ServerSettings(name: "s\($0)", check: seedCheck) } + [
                ServerSettings(name: "nocheck")
            ]
        )
        #expect(
            state.start() == [
                .scheduleCheck(server: 0, after: .zero),
                .scheduleCheck(server: 1, after: .milliseconds(500)),
                .scheduleCheck(server: 2, after: .seconds(1)),
                .scheduleCheck(server: 3, after: .milliseconds(1500)),
            ]
        )
        #expect(state.servers[4].statusText == "no check")
    }
}

@Suite("option log-health-checks")
struct LogHealthChecksTests {
    @Test("every change of the health counter is logged, as haproxy 2.6 words it")
    func lines() {
        var state = BackendState(
            name: "web_backend",
            servers: [ServerSettings(name: "web01", check: seedCheck)],
            logsHealthChecks: true
        )
        let ok = CheckReport(status: .layer7Passed, code: 200, duration: .zero)
        let wrong = CheckReport(
            status: .layer7WrongStatus,
            code: 503,
            info: "Service Unavailable",
            duration: .milliseconds(2)
        )
        var logs: [String] = []
        var now = Duration.zero
        for report in [ok, ok, wrong, wrong, wrong, wrong, ok, ok] {
            now += .milliseconds(300)
            for case .log(_, let text) in state.checkCompleted(server: 0, report, now: now) { logs.append(text) }
        }
        // Captured from haproxy 2.6.12 with `option log-health-checks` (same sequence of answers).
        let failed =
            "Health check for server web_backend/web01 failed, reason: Layer7 wrong status, code: 503, "
            + "info: \"Service Unavailable\", check duration: 2ms, status: "
        let succeeded =
            "Health check for server web_backend/web01 succeeded, reason: Layer7 check passed, code: 200, "
            + "check duration: 0ms, status: "
        #expect(
            logs == [
                succeeded + "3/3 UP.",
                failed + "2/3 UP.",
                failed + "1/3 UP.",
                failed + "0/2 DOWN.",
                "Server web_backend/web01 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, "
                    + "0 remaining in queue.",
                "backend web_backend has no server available!",
                succeeded + "1/2 DOWN.",
                succeeded + "3/3 UP.",
                "Server web_backend/web01 is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
                    + "0 total in queue.",
            ]
        )
    }
}

@Suite("Initial check state")
struct InitialStateTests {
    @Test("init-state: up (default), fully-up, down, fully-down")
    func states() {
        func health(_ initial: InitialCheckState) -> ServerHealth {
            ServerHealth(settings: CheckSettings(rise: 2, fall: 3, initialState: initial))
        }
        var up = health(.up)
        #expect(up.statusText == "UP 1/3")
        #expect(up.record(.connectionRefused()) == true)

        var fullyUp = health(.fullyUp)
        #expect(fullyUp.statusText == "UP")
        #expect(fullyUp.record(.connectionRefused()) == false)
        #expect(fullyUp.record(.connectionRefused()) == false)
        #expect(fullyUp.record(.connectionRefused()) == true)

        var down = health(.down)
        #expect(!down.isUp)
        #expect(down.statusText == "DOWN 1/2")
        #expect(down.record(.connected()) == true)
        #expect(down.statusText == "UP")

        var fullyDown = health(.fullyDown)
        #expect(fullyDown.statusText == "DOWN")
        #expect(fullyDown.record(.connected()) == false)
        #expect(fullyDown.record(.connected()) == true)
    }

    @Test("leaving maintenance with init-state down sends no traffic before a check passes")
    func maintenanceWithDown() {
        let check = CheckSettings(rise: 2, fall: 3, initialState: .down)
        var state = BackendState(
            name: "b",
            servers: [ServerSettings(name: "web01", check: check), ServerSettings(name: "web02")]
        )
        #expect(!state.servers[0].isUsable)
        _ = state.checkCompleted(server: 0, .connected(), now: .seconds(1))
        #expect(state.servers[0].isUsable)
        #expect(state.servers[0].downtime(at: .seconds(5)) == .seconds(1))
        _ = state.setAdmin(server: 0, .maintenance, now: .seconds(2))
        let actions = state.setAdmin(server: 0, .ready, now: .seconds(3))
        #expect(!actions.contains(.setUsable(server: 0, true)))
        #expect(actions.contains(.scheduleCheck(server: 0, after: .zero)))
        #expect(state.servers[0].statusText == "DOWN 1/2")
        let passed = state.checkCompleted(server: 0, .connected(), now: .seconds(3))
        #expect(passed.contains(.setUsable(server: 0, true)))
    }

    @Test("haproxy 2.6 wording when a DOWN server enters maintenance")
    func downIntoMaintenance() {
        var state = seedBackend()
        _ = state.checkCompleted(server: 1, .connectionRefused(), now: .seconds(1))
        #expect(
            state.setAdmin(server: 1, .maintenance, now: .seconds(2))
                == [.log(.notice, "Server web_backend/web02 was DOWN and now enters maintenance.")]
        )
    }
}
