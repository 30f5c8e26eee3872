/// A job a lab host does.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// The seed's Nginx backend (web01, web02).
    case web
    /// The seed's HAProxy (lb01, lb02).
    case lb
    /// The seed's Keepalived (lb01, lb02).
    case vrrp

    public var hosts: [LabHost] { self == .web ? LabHost.webs : LabHost.balancers }

    /// The programs that can play the role.
    public var implementations: [RoleImplementation] {
        switch self {
        case .web: return [.portico, .nginx]
        case .lb: return [.portico, .haproxy]
        case .vrrp: return [.portico, .keepalived]
        }
    }

    public var reference: RoleImplementation {
        switch self {
        case .web: return .nginx
        case .lb: return .haproxy
        case .vrrp: return .keepalived
        }
    }
}

/// A program that plays a role: Portico's own command or the reference daemon the seed uses.
public enum RoleImplementation: String, Codable, Sendable, CaseIterable {
    case portico
    case nginx
    case haproxy
    case keepalived
}

/// Which program plays each role on each host. `--stack` picks all at once; `--web/--lb/--vrrp` pick a role
/// everywhere (`--vrrp keepalived`) or per host (`--vrrp lb01=keepalived,lb02=portico`).
public struct StackSelection: Codable, Sendable, Equatable {
    public var choices: [String: RoleImplementation]

    public init(all implementation: (Role) -> RoleImplementation) {
        var choices: [String: RoleImplementation] = [:]
        for role in Role.allCases {
            for host in role.hosts { choices[Self.key(role, host)] = implementation(role) }
        }
        self.choices = choices
    }

    public static let portico = StackSelection(all: { _ in .portico })
    public static let reference = StackSelection(all: { $0.reference })

    public func implementation(of role: Role, on host: LabHost) -> RoleImplementation {
        choices[Self.key(role, host)] ?? .portico
    }

    public mutating func set(_ role: Role, on host: LabHost, to implementation: RoleImplementation) {
        choices[Self.key(role, host)] = implementation
    }

    /// "reference", "portico", or a mix such as "web=nginx lb=portico vrrp=lb01:keepalived,lb02:portico".
    public var summary: String {
        if self == .portico { return "portico" }
        if self == .reference { return "reference" }
        return Role.allCases.map { role in
            let picks = role.hosts.map { implementation(of: role, on: $0) }
            if Set(picks).count == 1, let only = picks.first { return "\(role.rawValue)=\(only.rawValue)" }
            let perHost = zip(role.hosts, picks).map { "\($0.rawValue):\($1.rawValue)" }
            return "\(role.rawValue)=\(perHost.joined(separator: ","))"
        }.joined(separator: " ")
    }

    /// Builds a selection from the command line's `--stack`, `--web`, `--lb` and `--vrrp`.
    public static func parse(stack: String?, web: String?, lb: String?, vrrp: String?) throws -> StackSelection {
        var selection: StackSelection
        switch stack?.lowercased() {
        case nil, "portico": selection = .portico
        case "reference": selection = .reference
        case let other?:
            throw LabError.invalidOption("unknown stack '\(other)' (choose portico or reference)")
        }
        for (role, value) in [(Role.web, web), (.lb, lb), (.vrrp, vrrp)] {
            guard let value else { continue }
            try selection.apply(role, value)
        }
        return selection
    }

    private mutating func apply(_ role: Role, _ value: String) throws {
        let options = role.implementations.map(\.rawValue).joined(separator: "|")
        for part in value.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            let hosts: [LabHost]
            let name: String
            if pieces.count == 2 {
                guard let host = LabHost(rawValue: pieces[0]), role.hosts.contains(host) else {
                    let valid = role.hosts.map(\.rawValue).joined(separator: ", ")
                    throw LabError.invalidOption("--\(role.rawValue): '\(pieces[0])' is not one of \(valid)")
                }
                hosts = [host]
                name = pieces[1]
            } else {
                hosts = role.hosts
                name = pieces[0]
            }
            guard let implementation = RoleImplementation(rawValue: name.lowercased()),
                role.implementations.contains(implementation)
            else {
                throw LabError.invalidOption("--\(role.rawValue): '\(name)' is not one of \(options)")
            }
            for host in hosts { set(role, on: host, to: implementation) }
        }
    }

    private static func key(_ role: Role, _ host: LabHost) -> String { "\(host.rawValue).\(role.rawValue)" }

    /// Programs this selection runs besides `ip` (for the missing-package message).
    public var requiredPrograms: [String] {
        var programs = ["ip", "ss", "bash", "setsid"]
        for role in Role.allCases {
            for host in role.hosts {
                let implementation = implementation(of: role, on: host)
                if implementation != .portico && !programs.contains(implementation.rawValue) {
                    programs.append(implementation.rawValue)
                }
            }
        }
        return programs
    }
}
