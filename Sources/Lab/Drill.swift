import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How long a drill waits for each thing it expects. Every wait is bounded; a wait that runs out is
/// recorded as an event and shows in the report (the VIP not moving is a finding, not a crash).
public struct DrillTiming: Sendable {
    public var steady: Double = 2
    public var faultWait: Double = 30
    public var faultHold: Double = 1
    public var recoveryWait: Double = 30
    public var recoveryHold: Double = 2
    public var sampleInterval: Double = 0.1
    public var rate: Double = 100
    public var requestTimeout: Double = 1

    /// The `steady` drill: how long it runs, and whether wrk (-t1 -c50) loads the VIP beside the client.
    public var soak: Double = 60
    public var load = false

    public init(rate: Double = 100, requestTimeout: Double = 1, soak: Double = 60, load: Bool = false) {
        self.rate = rate
        self.requestTimeout = requestTimeout
        self.soak = soak
        self.load = load
    }
}

/// Samples the lab every 100 ms on a thread of its own (it hops into lab namespaces to look).
final class DrillSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [DrillSample] = []
    private var stopRequested = false
    private var failure: Error?
    private let finished = DispatchSemaphore(value: 0)
    private let interval: Double

    init(interval: Double) {
        self.interval = interval
    }

    func start(until deadline: Double, directory: LabDirectory) {
        let thread = Thread { [self] in
            let hopper = NamespaceHopper()
            // Bounded by the deadline even if nobody calls stop().
            while Monotonic.now() < deadline {
                let began = Monotonic.now()
                do {
                    let (observation, _) = try Observer.observe(hopper, statsTimeout: 0.15, directory: directory)
                    lock.lock()
                    samples.append(DrillSample(observation))
                    lock.unlock()
                } catch {
                    lock.lock()
                    failure = error
                    lock.unlock()
                    break
                }
                lock.lock()
                let stop = stopRequested
                lock.unlock()
                if stop { break }
                Monotonic.sleep(interval - (Monotonic.now() - began))
            }
            finished.signal()
        }
        thread.start()
    }

    var latest: DrillSample? {
        lock.lock()
        defer { lock.unlock() }
        return samples.last
    }

    func stop() throws -> [DrillSample] {
        lock.lock()
        stopRequested = true
        lock.unlock()
        _ = finished.wait(timeout: .now() + 5)
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return samples
    }
}

extension Lab {
    /// Runs one drill on the running lab, with the steady client going, and returns what it recorded.
    public func drill(_ name: DrillName, timing: DrillTiming = DrillTiming()) throws -> DrillRun {
        guard let state = loadState(), isRunning() else { throw LabError.notRunning }
        guard let portico = porticoExecutable else { throw LabError.missingPrograms(["portico"]) }
        try waitUntilSteady(stack: state.stack, timeout: 30)
        let holder = try NamespaceThread.run { try Observer.vipHolders($0) }.first ?? .lb01
        let other: LabHost = holder == .lb01 ? .lb02 : .lb01
        let budget =
            name == .steady
            ? timing.soak + 10
            : timing.steady + timing.faultWait + timing.faultHold + timing.recoveryWait + timing.recoveryHold + 10

        let sampler = DrillSampler(interval: timing.sampleInterval)
        sampler.start(until: Monotonic.now() + budget + 5, directory: directory)
        let probeOutput = "\(directory.path)/probe-\(name.rawValue).jsonl"
        try? FileManager.default.removeItem(atPath: probeOutput)
        let probe = try Subprocess.start(
            [
                "ip", "netns", "exec", LabHost.client.namespace, portico, "lab", "probe",
                "--target", "\(LabTopology.vip):\(LabTopology.httpPort)", "--rate", "\(timing.rate)",
                "--duration", "\(budget)", "--timeout", "\(timing.requestTimeout)",
            ],
            outputPath: probeOutput, errorPath: "\(directory.path)/probe.log"
        )
        var probeRunning = true
        defer {
            if probeRunning {
                kill(probe, SIGKILL)
                Subprocess.reap(probe)
            }
            _ = try? sampler.stop()
        }

        let start = WallClock.now()
        var events: [DrillEvent] = []
        var phases: [DrillPhase] = []
        func note(_ label: String) {
            events.append(DrillEvent(time: WallClock.now(), label: label))
            logger.info("drill \(name.rawValue): \(label)")
        }
        /// Waits (bounded) until the latest sample satisfies `condition`; notes how it ended.
        func wait(_ what: String, _ seconds: Double, _ condition: (DrillSample) -> Bool) throws {
            let deadline = Monotonic.now() + seconds
            while Monotonic.now() < deadline {
                try Interrupt.check()
                if let sample = sampler.latest, condition(sample) {
                    note(what)
                    return
                }
                Monotonic.sleep(0.02)
            }
            note("gave up waiting after \(Int(seconds)) s: \(what)")
        }
        func hold(_ seconds: Double) throws {
            let deadline = Monotonic.now() + seconds
            while Monotonic.now() < deadline {
                try Interrupt.check()
                Monotonic.sleep(min(0.05, max(0, deadline - Monotonic.now())))
            }
        }
        let watcher = holder.rawValue
        let server = DrillAnalysis.brokenServer
        let balancerName = state.stack.implementation(of: .lb, on: holder).rawValue
        let webName = state.stack.implementation(of: .web, on: .web01).rawValue

        var phaseStart = start
        var lastAction = "steady load"
        if name == .steady {
            try soak(timing: timing, note: note, hold: hold)
        } else {
            try hold(timing.steady)
            phaseStart = WallClock.now()
            phases.append(DrillPhase(name: "steady", start: start, end: phaseStart, action: "steady load"))

            // The fault.
            let faultAction: String
            switch name {
            case .backend:
                faultAction = "SIGTERM \(webName) on web01"
                note(faultAction)
                stop(.web, on: .web01, signal: SIGTERM)
                try wait("\(watcher) marks web01 DOWN", timing.faultWait) {
                    $0.state(of: server, seenBy: watcher) == "DOWN"
                }
            case .entry, .entryCrash:
                let signal = name == .entry ? SIGTERM : SIGKILL
                faultAction = "\(name == .entry ? "SIGTERM" : "SIGKILL") \(balancerName) on \(holder.rawValue)"
                note(faultAction)
                stop(.lb, on: holder, signal: signal)
                try wait("VIP on \(other.rawValue)", timing.faultWait) { $0.vipHolders.contains(other.rawValue) }
            case .node:
                faultAction = "\(holder.rawValue) link down"
                note(faultAction)
                try LabNetwork.setCable(holder, up: false)
                try wait("VIP on \(other.rawValue)", timing.faultWait) { $0.vipHolders.contains(other.rawValue) }
            case .steady:
                faultAction = "none"  // handled above; nothing breaks
            }
            try hold(timing.faultHold)

            // The repair.
            let repairAt = WallClock.now()
            phases.append(DrillPhase(name: "fault", start: phaseStart, end: repairAt, action: faultAction))
            phaseStart = repairAt
            let repairAction: String
            switch name {
            case .backend:
                repairAction = "restart \(webName) on web01"
                note(repairAction)
                try self.start(.web, on: .web01, stack: state.stack)
                try wait("\(watcher) marks web01 UP", timing.recoveryWait) {
                    $0.state(of: server, seenBy: watcher) == "UP"
                }
            case .entry, .entryCrash:
                repairAction = "restart \(balancerName) on \(holder.rawValue)"
                note(repairAction)
                try self.start(.lb, on: holder, stack: state.stack)
                try wait("VIP back on \(holder.rawValue)", timing.recoveryWait) { $0.vipHolders == [holder.rawValue] }
            case .node:
                repairAction = "\(holder.rawValue) link up"
                note(repairAction)
                try LabNetwork.setCable(holder, up: true)
                try wait("VIP back on \(holder.rawValue)", timing.recoveryWait) { $0.vipHolders == [holder.rawValue] }
            case .steady:
                repairAction = "none"
            }
            lastAction = repairAction
            try hold(timing.recoveryHold)
        }

        // Stop the client and let its last requests finish (each is bounded by its timeout).
        kill(probe, SIGINT)
        let deadline = Monotonic.now() + timing.requestTimeout + 3
        var exited = Subprocess.reapIfExited(probe)
        while exited == nil && Monotonic.now() < deadline {
            Monotonic.sleep(0.05)
            exited = Subprocess.reapIfExited(probe)
        }
        if exited == nil {
            kill(probe, SIGKILL)
            Subprocess.reap(probe)
        }
        probeRunning = false
        let end = WallClock.now()
        phases.append(
            DrillPhase(name: name == .steady ? "steady" : "recovery", start: phaseStart, end: end, action: lastAction)
        )
        let samples = try sampler.stop()
        let output = (try? String(contentsOfFile: probeOutput, encoding: .utf8)) ?? ""
        let records = Probe.records(fromJSONLines: output)
        guard !records.isEmpty else {
            let log = (try? String(contentsOfFile: "\(directory.path)/probe.log", encoding: .utf8)) ?? ""
            throw LabError.io("the steady client recorded nothing: \(log.trimmed)")
        }
        return DrillRun(
            drill: name, stack: state.describedStack, start: start, end: end, holder: holder.rawValue, phases: phases,
            events: events, samples: samples, records: records
        )
    }

    /// The `steady` drill's body: nothing breaks; optionally wrk loads the VIP from the client beside the probe.
    private func soak(timing: DrillTiming, note: (String) -> Void, hold: (Double) throws -> Void) throws {
        guard timing.load else {
            try hold(timing.soak)
            return
        }
        let output = "\(directory.path)/wrk.txt"
        let seconds = max(1, Int(timing.soak.rounded()))
        let wrk = try Subprocess.start(
            [
                "ip", "netns", "exec", LabHost.client.namespace, "wrk", "-t1", "-c50", "-d\(seconds)s", "--timeout",
                "2s",
                "http://\(LabTopology.vip)/",
            ],
            outputPath: output, errorPath: "\(directory.path)/wrk.log"
        )
        note("wrk -t1 -c50 for \(seconds) s beside the steady client")
        defer {
            // wrk stops by itself after its duration; bounded wait, then kill.
            let deadline = Monotonic.now() + 5
            while Subprocess.reapIfExited(wrk) == nil {
                if Monotonic.now() > deadline {
                    kill(wrk, SIGKILL)
                    Subprocess.reap(wrk)
                    break
                }
                Monotonic.sleep(0.05)
            }
        }
        try hold(timing.soak)
        Monotonic.sleep(0.5)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if let line = text.split(separator: "\n").first(where: { $0.contains("Requests/sec") }) {
            note("wrk: \(line.trimmingCharacters(in: .whitespaces))")
        }
    }
}
