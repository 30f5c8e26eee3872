import Foundation

/// The seed's failure drills.
public enum DrillName: String, Codable, Sendable, CaseIterable {
    /// Seed section 六: web01's server stops under load, is taken out, comes back.
    case backend
    /// Seed section 七: the balancer on the VIP holder is stopped (SIGTERM, as `systemctl stop haproxy`).
    case entry
    /// The same with SIGKILL: a crash.
    case entryCrash = "entry-crash"
    /// The VIP holder's cable is pulled, then plugged back.
    case node
    /// No fault: steady load (optionally with wrk beside it) for a while; any VIP move is a spurious switch.
    case steady

    /// The seed's drills, in the order `drill all` runs them.
    public static let seedDrills: [DrillName] = [.backend, .entry, .entryCrash, .node]

    public var summary: String {
        switch self {
        case .backend: return "stop web01's server under load, watch it go DOWN, restart it, watch it come back"
        case .entry: return "SIGTERM the balancer on the VIP holder, watch the VIP move, restart it, watch preemption"
        case .entryCrash:
            return "SIGKILL the balancer on the VIP holder, watch the VIP move, restart it, watch preemption"
        case .node: return "take the VIP holder's link down, watch the VIP move, bring it back, watch preemption"
        case .steady: return "no fault: steady load for a while; the VIP must not move (no flapping under load)"
        }
    }
}

/// What the drill saw at one instant (sampled every 100 ms).
public struct DrillSample: Codable, Sendable, Equatable {
    public var time: Double
    public var vipHolders: [String]
    /// "lb01/web01" → "UP", "DOWN", ...; a balancer whose stats did not answer has "lb01" → "unavailable".
    public var states: [String: String]

    public init(time: Double, vipHolders: [String], states: [String: String]) {
        self.time = time
        self.vipHolders = vipHolders
        self.states = states
    }

    init(_ observation: Observation) {
        time = observation.time
        vipHolders = observation.vipHolders.map(\.rawValue)
        var states: [String: String] = [:]
        for (host, view) in observation.views {
            if view.available {
                for server in view.servers { states["\(host.rawValue)/\(server.name)"] = server.state }
            } else {
                states[host.rawValue] = "unavailable"
            }
        }
        self.states = states
    }

    /// How `balancer` sees `server`: its state, "unavailable" when its stats did not answer, nil if unknown.
    public func state(of server: String, seenBy balancer: String) -> String? {
        states["\(balancer)/\(server)"] ?? states[balancer]
    }

    public var vipText: String { vipHolders.isEmpty ? "none" : vipHolders.joined(separator: "+") }
}

/// Something the drill did, or waited for, at a given time.
public struct DrillEvent: Codable, Sendable, Equatable {
    public var time: Double
    public var label: String

    public init(time: Double, label: String) {
        self.time = time
        self.label = label
    }
}

/// A stretch of the drill: "steady" before the fault, "fault" until the repair, "recovery" after it.
public struct DrillPhase: Codable, Sendable, Equatable {
    public var name: String
    public var start: Double
    public var end: Double
    /// What started the phase ("SIGTERM haproxy on lb01").
    public var action: String

    public init(name: String, start: Double, end: Double, action: String) {
        self.name = name
        self.start = start
        self.end = end
        self.action = action
    }
}

/// Everything a drill recorded: the raw material of its report.
public struct DrillRun: Codable, Sendable {
    public var drill: DrillName
    public var stack: String
    public var start: Double
    public var end: Double
    /// The node that held the VIP when the drill began (the one the drill breaks for entry/node drills).
    public var holder: String
    public var phases: [DrillPhase]
    public var events: [DrillEvent]
    public var samples: [DrillSample]
    public var records: [ProbeRecord]

    public init(
        drill: DrillName, stack: String, start: Double, end: Double, holder: String, phases: [DrillPhase],
        events: [DrillEvent], samples: [DrillSample], records: [ProbeRecord]
    ) {
        self.drill = drill
        self.stack = stack
        self.start = start
        self.end = end
        self.holder = holder
        self.phases = phases
        self.events = events
        self.samples = samples
        self.records = records
    }
}
