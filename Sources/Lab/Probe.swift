import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One request of the steady client, as a JSON line.
public struct ProbeRecord: Codable, Sendable, Equatable {
    public var seq: Int
    /// When the request started, in seconds since the epoch (shared with the drill's samples).
    public var sent: Double
    /// Seconds until the answer (or the failure).
    public var latency: Double
    public var status: Int?
    /// The body of a 200 answer: which backend served it ("web01").
    public var backend: String?
    public var error: FailureKind?

    public var ok: Bool { error == nil }

    public init(seq: Int, sent: Double, latency: Double, status: Int?, backend: String?, error: FailureKind?) {
        self.seq = seq
        self.sent = sent
        self.latency = latency
        self.status = status
        self.backend = backend
        self.error = error
    }
}

/// The steady client: GET / at a fixed rate, a new connection for each request, every request bounded by a
/// timeout. Requests run concurrently, so a request that hangs does not delay the next one: the rate holds
/// even while the VIP points nowhere.
public struct Probe: Sendable {
    public var address: String
    public var port: UInt16
    public var rate: Double
    public var duration: Double
    public var timeout: Double
    public var count: Int?

    public init(address: String, port: UInt16, rate: Double, duration: Double, timeout: Double, count: Int? = nil) {
        self.address = address
        self.port = port
        self.rate = rate
        self.duration = duration
        self.timeout = timeout
        self.count = count
    }

    /// Parses "192.168.10.100:80".
    public static func parseTarget(_ text: String) throws -> (String, UInt16) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw LabError.invalidOption("--target must be ADDRESS:PORT, got \(text)")
        }
        return (String(parts[0]), port)
    }

    /// Lab safety: the steady client only sends from inside one of the lab's namespaces (the thread's
    /// network namespace is one of /run/netns/plab-*), unless it targets loopback.
    public func checkNamespace() throws {
        if address.hasPrefix("127.") { return }
        guard Self.inLabNamespace() else {
            throw LabError.invalidOption(
                "the probe sends traffic only from inside a lab namespace: run it with `portico lab exec client -- ...`"
            )
        }
    }

    static func inLabNamespace() -> Bool {
        var mine = stat()
        guard stat("/proc/self/ns/net", &mine) == 0 else { return false }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return names.filter { $0.hasPrefix(LabTopology.prefix) }.contains { name in
            var other = stat()
            return stat("/run/netns/\(name)", &other) == 0 && other.st_ino == mine.st_ino && other.st_dev == mine.st_dev
        }
    }

    /// Runs until `duration` (or `count` requests) is done or `shouldStop` says so; then waits for the
    /// requests in flight (each bounded by the timeout). `emit` gets every record as it completes.
    public func run(shouldStop: () -> Bool, emit: (ProbeRecord) -> Void) {
        let total = count ?? Int((rate * duration).rounded())
        let interval = 1 / max(rate, 0.001)
        let exchanges = HTTPExchanges()
        let request = HTTPExchanges.getRequest(host: address, path: "/")
        let start = Monotonic.now()
        let wallStart = WallClock.now()
        let end = start + duration
        var sentAt: [Int: Double] = [:]
        var next = 0
        var stopped = false
        // Bounded: sends stop at `end`, and every request ends by its own timeout after that.
        let hardStop = end + timeout + 2
        while Monotonic.now() < hardStop {
            if !stopped && shouldStop() { stopped = true }
            let now = Monotonic.now()
            while !stopped && next < total && start + Double(next) * interval <= now && now < end {
                sentAt[next] = wallStart + (Monotonic.now() - start)
                exchanges.begin(id: next, address: address, port: port, request: request, timeout: timeout)
                next += 1
            }
            let sending = !stopped && next < total && now < end
            if !sending && exchanges.inFlight == 0 {
                for (id, outcome) in exchanges.step(maxWait: 0) { emit(record(id, outcome, sentAt)) }
                break
            }
            let untilNext = sending ? max(0, start + Double(next) * interval - Monotonic.now()) : 0.05
            for (id, outcome) in exchanges.step(maxWait: min(untilNext, 0.05)) {
                emit(record(id, outcome, sentAt))
            }
        }
        for (id, outcome) in exchanges.cancelAll() { emit(record(id, outcome, sentAt)) }
    }

    private func record(_ id: Int, _ outcome: HTTPOutcome, _ sentAt: [Int: Double]) -> ProbeRecord {
        ProbeRecord(
            seq: id, sent: sentAt[id] ?? 0, latency: outcome.latency, status: outcome.status,
            backend: outcome.status == 200 ? outcome.body.trimmed : nil, error: outcome.failure
        )
    }

    /// Reads a probe's JSON lines (ignoring anything that is not a record).
    public static func records(fromJSONLines text: String) -> [ProbeRecord] {
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { line in
            try? decoder.decode(ProbeRecord.self, from: Data(line.utf8))
        }.sorted { $0.seq < $1.seq }
    }

    public static func jsonLine(_ record: ProbeRecord) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ((try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
