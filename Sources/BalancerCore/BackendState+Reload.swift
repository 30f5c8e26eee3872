extension BackendState {
    /// After a configuration reload: servers whose settings did not change keep what the running
    /// process knew about them (check health, last check, admin state set at runtime, runtime weight,
    /// time of the last change, downtime), so a reload neither resurrects a DOWN server nor forgets a
    /// drain. Servers that are new or changed start fresh, as in a new process.
    ///
    /// - Parameters:
    ///   - previous: the running generation's state.
    ///   - offset: the new state's clock origin minus the previous one's (instants in `previous` are
    ///     shifted by it so "seconds since last change" stays right).
    ///   - isUnchanged: what the state does not see (e.g. the server's address), by server name.
    /// - Returns: indexes (in this state) of the servers that were carried over.
    @discardableResult
    public mutating func carryOver(
        from previous: BackendState, offset: Duration, isUnchanged: (String) -> Bool = { _ in true }
    ) -> [Int] {
        var carried: [Int] = []
        for index in servers.indices {
            let settings = servers[index].settings
            guard let old = previous.servers.first(where: { $0.settings.name == settings.name }),
                old.settings == settings, isUnchanged(settings.name)
            else { continue }
            var server = servers[index]
            server.health = old.health
            server.admin = old.admin
            server.weight = old.weight
            server.lastChange = old.lastChange - offset
            server.downSince = old.downSince.map { $0 - offset }
            server.pastDowntime = old.pastDowntime
            server.rampStart = old.rampStart.map { $0 - offset }
            servers[index] = server
            carried.append(index)
        }
        return carried
    }
}
