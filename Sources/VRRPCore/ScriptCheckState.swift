/// Keepalived's `rise`/`fall` accounting for one `vrrp_script`, as a pure value: the daemon runs the script
/// every `interval` (a timeout counts as a failure) and records each outcome; a returned value is a
/// change to report as `VRRPInstance.Event.trackerChanged`.
///
/// Like Keepalived, the state is a counter from 0 to rise + fall − 1 that is "up" from `rise` on. A script
/// that has not run yet needs one success to be up, and its first failure marks it down at once; with
/// `init_fail` it starts down and needs `rise` successes. After that it takes `fall` failures in a row to
/// go down and `rise` successes in a row to come back.
public struct ScriptCheckState: Hashable, Sendable {
    public let rise: Int
    public let fall: Int
    var result: Int
    var awaitingFirstResult: Bool
    /// The last reported state; nil before the first result of a script without `init_fail`.
    public private(set) var isUp: Bool?

    public init(rise: Int = 1, fall: Int = 1, initFail: Bool = false) {
        self.rise = max(rise, 1)
        self.fall = max(fall, 1)
        if initFail {
            result = 0
            awaitingFirstResult = false
            isUp = false
        } else {
            result = self.rise - 1
            awaitingFirstResult = true
            isUp = nil
        }
    }

    /// Records one run. Returns the new state when it changed (the first result always counts as a change
    /// for a script that started unknown), nil otherwise.
    public mutating func record(success: Bool) -> Bool? {
        let wasAwaiting = awaitingFirstResult
        awaitingFirstResult = false
        let top = rise + fall - 1
        var change: Bool?
        if success {
            if result < rise - 1 {
                result += 1
            } else {
                if result < rise { change = true }
                result = top
            }
        } else {
            if result > rise {
                result -= 1
            } else {
                if result == rise || wasAwaiting { change = false }
                result = 0
            }
        }
        guard let change, change != isUp else {
            // An init_fail script already reported down is not "changed" by a failure.
            return nil
        }
        isUp = change
        return change
    }
}
