import Foundation

/// What went wrong in the lab, with enough context for the operator to act on it.
public enum LabError: Error, CustomStringConvertible, Equatable {
    case notRoot
    case noNamespaceSupport(String)
    case missingPrograms([String])
    case alreadyRunning(String)
    case notRunning
    case busy(String)
    case commandFailed(command: String, status: Int32, output: String)
    case commandTimedOut(command: String, seconds: Double)
    case spawnFailed(command: String, errno: Int32)
    case namespaceEntry(namespace: String, errno: Int32)
    case notReady(String)
    case unknownHost(String)
    case invalidOption(String)
    case io(String)
    case interrupted

    public var description: String {
        switch self {
        case .notRoot:
            return "portico lab needs root: it creates network namespaces and starts daemons in them (run it with sudo)"
        case .noNamespaceSupport(let detail):
            return "this machine cannot run the lab: network namespaces are not available (\(detail))"
        case .missingPrograms(let names):
            return "missing programs: \(names.joined(separator: ", ")) "
                + "(install them, e.g. `apt-get install \(LabError.packages(for: names).joined(separator: " "))`)"
        case .alreadyRunning(let detail):
            return "a lab is already running (\(detail)); use it, or remove it with `portico lab down`"
        case .notRunning:
            return "no lab is running: start one with `portico lab up`"
        case .busy(let path):
            return "another portico lab command is working on the lab (lock \(path) is held); try again when it is done"
        case .commandFailed(let command, let status, let output):
            let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "`\(command)` failed with status \(status)" + (trimmed.isEmpty ? "" : ": \(trimmed)")
        case .commandTimedOut(let command, let seconds):
            return "`\(command)` did not finish within \(seconds) s and was killed"
        case .spawnFailed(let command, let code):
            return "could not start `\(command)`: \(String(cString: strerror(code)))"
        case .namespaceEntry(let namespace, let code):
            return "could not enter network namespace \(namespace): \(String(cString: strerror(code)))"
        case .notReady(let detail):
            return "the lab did not become ready: \(detail)"
        case .unknownHost(let name):
            return "unknown lab host '\(name)' (hosts: \(LabHost.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidOption(let detail):
            return detail
        case .io(let detail):
            return detail
        case .interrupted:
            return "interrupted"
        }
    }

    /// Debian package names for the programs the lab runs.
    static func packages(for programs: [String]) -> [String] {
        let map = ["ip": "iproute2", "ss": "iproute2", "bash": "bash", "setsid": "util-linux"]
        var seen: [String] = []
        for program in programs {
            let package = map[program] ?? program
            if !seen.contains(package) { seen.append(package) }
        }
        return seen
    }
}

#if canImport(Glibc)
    import Glibc
#endif
