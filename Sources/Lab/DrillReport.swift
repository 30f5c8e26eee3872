import Foundation

/// A change the drill's samples saw, with its time from the drill's start.
public struct StateChange: Codable, Sendable, Equatable {
    public var time: Double
    /// "VIP", "lb01/web01", or "lb01 stats".
    public var subject: String
    public var from: String
    public var to: String

    public var text: String { "\(subject) \(from) → \(to)" }
}

/// The VIP settling on another node.
public struct VIPMove: Codable, Sendable, Equatable {
    /// Seconds from the phase's action to the first sample with the VIP on its new holder alone.
    public var seconds: Double
    public var from: String
    public var to: String
}

/// First to last failed request of a phase.
public struct OutageWindow: Codable, Sendable, Equatable {
    public var first: Double
    public var last: Double
    public var seconds: Double { last - first }
}

/// One phase of a drill, as the report shows it.
public struct PhaseReport: Codable, Sendable, Equatable {
    public var name: String
    public var action: String
    public var start: Double
    public var end: Double
    public var requests: Int
    public var failed: Int
    public var failures: [String: Int]
    public var outage: OutageWindow?
    public var vipMove: VIPMove?
    /// Which backend answered how many requests.
    public var backends: [String: Int]
    public var stateChanges: [StateChange]
}

/// A drill's report: per phase numbers and the answers to the seed's questions.
public struct DrillReport: Codable, Sendable {
    public var drill: DrillName
    public var stack: String
    public var duration: Double
    public var holder: String
    public var phases: [PhaseReport]
    /// Entry and node drills: the VIP left the broken node during the fault.
    public var vipMoved: Bool?
    /// ... and came back to it after the repair (preemption).
    public var vipReturned: Bool?
    /// Backend drill: the VIP holder's balancer marked web01 DOWN during the fault ...
    public var backendTakenOut: Bool?
    /// ... and UP again after the repair.
    public var backendBack: Bool?
    /// Backend drill: requests that web01 answered after its balancer had marked it DOWN (should be 0).
    public var servedByDownBackend: Int?
    /// Two VIP holders at once, in any sample.
    public var splitBrainSamples: Int
    /// How often the set of VIP holders changed over the whole drill.
    public var vipChanges: Int
    public var events: [DrillEvent]

    public var failed: Int { phases.map(\.failed).reduce(0, +) }

    /// Whether the drill showed what the seed promises (for `steady`: the VIP never moved).
    public var asSeedSays: Bool {
        switch drill {
        case .backend: return backendTakenOut == true && backendBack == true
        case .entry, .entryCrash, .node: return vipMoved == true && vipReturned == true
        case .steady: return vipChanges == 0 && splitBrainSamples == 0
        }
    }
    public var requests: Int { phases.map(\.requests).reduce(0, +) }
}

/// Turns what a drill recorded into its report. Pure: unit-tested with made-up runs.
public enum DrillAnalysis {
    public static let brokenServer = "web01"

    public static func report(_ run: DrillRun) -> DrillReport {
        let phases = run.phases.map { phase(run, $0) }
        var report = DrillReport(
            drill: run.drill, stack: run.stack, duration: run.end - run.start, holder: run.holder, phases: phases,
            vipMoved: nil, vipReturned: nil, backendTakenOut: nil, backendBack: nil, servedByDownBackend: nil,
            splitBrainSamples: run.samples.filter { $0.vipHolders.count > 1 }.count,
            vipChanges: zip(run.samples, run.samples.dropFirst()).filter { $0.vipHolders != $1.vipHolders }.count,
            events: run.events.map { DrillEvent(time: $0.time - run.start, label: $0.label) }
        )
        let fault = run.phases.first { $0.name == "fault" }
        let recovery = run.phases.first { $0.name == "recovery" }
        switch run.drill {
        case .backend:
            let watcher = run.holder
            let downSample = fault.flatMap { phase in
                samples(run, in: phase).first { $0.state(of: brokenServer, seenBy: watcher) == "DOWN" }
            }
            // Unknown (nil) rather than NO when the balancer never showed its view of the server.
            let seen = { (phase: DrillPhase) in
                samples(run, in: phase).contains {
                    let state = $0.state(of: brokenServer, seenBy: watcher)
                    return state != nil && state != "unavailable"
                }
            }
            report.backendTakenOut = fault.flatMap { seen($0) ? downSample != nil : nil }
            report.backendBack = recovery.flatMap { phase in
                seen(phase)
                    ? samples(run, in: phase).contains { $0.state(of: brokenServer, seenBy: watcher) == "UP" } : nil
            }
            if let downSample, let fault {
                report.servedByDownBackend =
                    run.records.filter {
                        $0.sent > downSample.time && $0.sent < fault.end && $0.backend == brokenServer
                    }.count
            }
        case .entry, .entryCrash, .node:
            report.vipMoved = fault.map { phase in
                samples(run, in: phase).contains { $0.vipHolders.contains { $0 != run.holder } }
            }
            report.vipReturned = recovery.map { phase in
                samples(run, in: phase).contains { $0.vipHolders == [run.holder] }
            }
        case .steady:
            break
        }
        return report
    }

    static func samples(_ run: DrillRun, in phase: DrillPhase) -> [DrillSample] {
        run.samples.filter { $0.time >= phase.start && $0.time < phase.end }
    }

    static func phase(_ run: DrillRun, _ phase: DrillPhase) -> PhaseReport {
        // A request belongs to the phase in which it ended: one in flight when the fault hit failed because of it.
        // The last phase also takes the requests that ended while the client was being stopped.
        let isLast = phase == run.phases.last
        let records = run.records.filter {
            let ended = $0.sent + $0.latency
            return ended >= phase.start && (ended < phase.end || isLast)
        }
        let failedRecords = records.filter { !$0.ok }
        var failures: [String: Int] = [:]
        for record in failedRecords {
            let kind = record.error == .http ? "http \(record.status ?? 0)" : (record.error?.rawValue ?? "other")
            failures[kind, default: 0] += 1
        }
        var backends: [String: Int] = [:]
        for record in records where record.ok { backends[record.backend ?? "?", default: 0] += 1 }
        let outage =
            failedRecords.isEmpty
            ? nil
            : OutageWindow(
                first: (failedRecords.map(\.sent).min() ?? 0) - run.start,
                last: (failedRecords.map(\.sent).max() ?? 0) - run.start
            )
        let inPhase = samples(run, in: phase)
        let before = run.samples.last { $0.time < phase.start } ?? inPhase.first
        var vipMove: VIPMove?
        // Moved: a node that did not hold the VIP now does (the old holder may still hold it for a moment).
        if let initial = before?.vipHolders,
            let moved = inPhase.first(where: {
                $0.vipHolders.contains { !initial.contains($0) }
            })
        {
            // "to" names the node(s) that newly hold it; a moment of overlap shows as split brain, not here.
            vipMove = VIPMove(
                seconds: moved.time - phase.start, from: initial.isEmpty ? "none" : initial.joined(separator: "+"),
                to: moved.vipHolders.filter { !initial.contains($0) }.joined(separator: "+")
            )
        }
        return PhaseReport(
            name: phase.name, action: phase.action, start: phase.start - run.start, end: phase.end - run.start,
            requests: records.count, failed: failedRecords.count, failures: failures, outage: outage,
            vipMove: vipMove, backends: backends,
            stateChanges: changes(from: before, through: inPhase, origin: run.start)
        )
    }

    /// Sample-to-sample differences: VIP holders, each balancer's view of each server, stats availability.
    static func changes(from before: DrillSample?, through samples: [DrillSample], origin: Double) -> [StateChange] {
        guard var previous = before else { return [] }
        var result: [StateChange] = []
        for sample in samples where sample != previous {
            if sample.vipHolders != previous.vipHolders {
                result.append(
                    StateChange(time: sample.time - origin, subject: "VIP", from: previous.vipText, to: sample.vipText))
            }
            for key in Set(sample.states.keys).union(previous.states.keys).sorted() {
                let old = previous.states[key]
                let new = sample.states[key]
                guard old != new else { continue }
                if key.contains("/") {
                    // A balancer going silent is one change ("lb01 stats"), not one per server.
                    guard let old, let new else { continue }
                    result.append(StateChange(time: sample.time - origin, subject: key, from: old, to: new))
                } else {
                    result.append(
                        StateChange(
                            time: sample.time - origin, subject: "\(key) stats",
                            from: old == "unavailable" ? "unavailable" : "answering",
                            to: new == "unavailable" ? "unavailable" : "answering"
                        )
                    )
                }
            }
            previous = sample
        }
        return result
    }
}
