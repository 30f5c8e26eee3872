import BalancerCore
import HAProxyConfig
import NIOCore

/// Carries out runtime API commands (from the control socket and the stats page's admin form) on the
/// running backends: BalancerCore parses and decides, this applies the result to the shared backend
/// state and selector, exactly as a health check result is applied.
final class RuntimeControl: Sendable {
    let topology: RuntimeTopology
    let operations: BalancerOperations

    init(topology: RuntimeTopology, operations: BalancerOperations) {
        self.topology = topology
        self.operations = operations
    }

    func snapshot() -> StatsSnapshot {
        self.operations.snapshot(topology: self.topology)
    }

    /// One line of the runtime API; several commands may be separated by `;`. Returns the whole reply.
    func execute(line: String, level: RuntimeAPI.Level) -> String {
        line.split(separator: ";").map { command in
            self.execute(command: String(command), level: level)
        }.joined()
    }

    private func execute(command text: String, level: RuntimeAPI.Level) -> String {
        switch RuntimeAPI.parse(text, level: level) {
        case .reply(let reply):
            return reply
        case .command(.help):
            return RuntimeAPI.helpText
        case .command(.showInfo):
            return RuntimeAPI.info(self.snapshot().process)
        case .command(.showStat(let json)):
            return json ? StatsJSON.render(self.snapshot()) + "\n" : StatsCSV.render(self.snapshot())
        case .command(.showServersState(let backend)):
            return RuntimeAPI.serversState(self.snapshot(), backend: backend)
        case .command(.change(let reference, let change)):
            return self.apply(change, to: reference)
        }
    }

    /// Applies one server change; the reply is HAProxy's ("\n" when done).
    func apply(_ change: RuntimeAPI.ServerChange, to reference: RuntimeAPI.ServerReference) -> String {
        guard let backend = self.topology.backends.first(where: { $0.name == reference.backend }) else {
            return RuntimeAPI.noSuchBackend
        }
        guard let index = backend.servers.firstIndex(where: { $0.name == reference.server }) else {
            return RuntimeAPI.noSuchServer
        }
        let slots = backend.selector.servers
        let sessions = SessionCounts(
            active: slots.indices.contains(index) ? slots[index].connections : 0, queued: backend.queue.count)
        let now = backend.now
        let (reply, actions) = backend.health.withLock { state in
            RuntimeAPI.apply(change, to: &state, server: index, now: now, sessions: sessions)
        }
        backend.perform(actions)
        self.operations.backends[backend.name]?.observe(backend)
        return reply
    }
}

extension BackendRuntime {
    /// A copy of the control-plane state and the instant it is expressed against.
    func stateSnapshot() -> (BackendState, Duration) {
        (self.health.withLock { $0 }, self.now)
    }
}
