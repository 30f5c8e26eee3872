import HAProxyConfig

/// Whether a retry after a failed connection goes to another server.
///
/// A failed connect never reached the server, so moving the request is safe for every method.
/// With `option redispatch N` the configured interval is honoured exactly as HAProxy does it
/// (a positive N: every Nth retry; a negative N: the |N|th retry before the last). Without the option,
/// Portico moves the request at once: HAProxy would retry the same (dead) server `retries` times and
/// then fail, which is how it loses requests while a killed server is not yet marked DOWN.
enum RetryPolicy {
    static func redispatches(afterFailure failures: Int, backend: Backend) -> Bool {
        guard let redispatch = backend.redispatch else { return true }
        let interval = redispatch.interval
        if interval == 0 { return false }
        if interval > 0 { return failures % interval == 0 }
        // Negative: counted back from the last retry (-1 = the last one).
        return failures >= backend.retries + interval + 1
    }
}
