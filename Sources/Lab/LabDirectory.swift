import Foundation

/// The lab's files: one folder per host with its configs, pidfiles and logs, plus the lab's own state.
public struct LabDirectory: Sendable {
    public static let defaultPath = "/run/portico-lab"

    public let path: String

    public init(path: String) throws {
        // The path goes verbatim into keepalived.conf's `script "..."` and into shell scripts.
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "$" })
        else {
            throw LabError.invalidOption("the lab directory must be an absolute path without spaces or quotes: \(path)")
        }
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public func folder(_ host: LabHost) -> String { "\(path)/\(host.rawValue)" }
    public func pidFile(_ role: Role, on host: LabHost) -> String { "\(folder(host))/\(role.rawValue).pid" }
    public func logFile(_ role: Role, on host: LabHost) -> String { "\(folder(host))/\(role.rawValue).log" }
    public var stateFile: String { "\(path)/lab.json" }
    public func webRoot(_ host: LabHost) -> String { "\(folder(host))/html" }
    public func haproxyConfig(_ host: LabHost) -> String { "\(folder(host))/haproxy.cfg" }
    public func keepalivedConfig(_ host: LabHost) -> String { "\(folder(host))/keepalived.conf" }
    public func checkScript(_ host: LabHost) -> String { "\(folder(host))/check_haproxy.sh" }
    public func nginxConfig(_ host: LabHost) -> String { "\(folder(host))/nginx.conf" }
    public func vrrpControlSocket(_ host: LabHost) -> String { "\(folder(host))/vrrp.sock" }
    public func haproxyLimitsConfig(_ host: LabHost) -> String { "\(folder(host))/lab-limits.cfg" }

    /// The pid the lab recorded when it started a role, if any.
    public func recordedPid(_ role: Role, on host: LabHost) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile(role, on: host), encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func write(_ text: String, to file: String, executable: Bool = false) throws {
        do {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: file)
        } catch {
            throw LabError.io("could not write \(file): \(error)")
        }
    }

    func makeFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LabError.io("could not create \(folder): \(error)")
        }
    }
}

/// What the lab remembers between commands (`lab.json`): which program plays which role.
public struct LabState: Codable, Sendable {
    public var stack: StackSelection
    public var porticoExecutable: String
    public var startedAt: Double
    /// The keepalived.conf additions the lab was brought up with (nil: the seed's, or a lab from before).
    public var failover: FailoverTuning?
}

/// The configuration texts the balancers get: the seed's by default. Other texts let a drill measure a
/// variant (e.g. VRRPv3 with `advert_int 0.1`, or `option redispatch`) in the same topology; they must keep
/// the lab's addresses, `eth0`, and (for the tracking script) the seed's script path, which the lab rewrites.
public struct LabConfigs: Sendable, Equatable {
    public var haproxy: [LabHost: String]
    public var keepalived: [LabHost: String]
    /// Additions to the keepalived.conf files for faster failover (FailoverTuning.swift); the seed's by default.
    public var failover = FailoverTuning.seed

    public init(haproxy: [LabHost: String] = [:], keepalived: [LabHost: String] = [:]) {
        self.haproxy = haproxy
        self.keepalived = keepalived
    }

    public static let seed = LabConfigs()

    public func haproxyText(_ host: LabHost) -> String { haproxy[host] ?? SeedFiles.haproxyConfig }

    public func keepalivedText(_ host: LabHost, checkScript: String) -> String {
        guard let text = keepalived[host] else { return LabFiles.keepalivedConfig(for: host, checkScript: checkScript) }
        return LabFiles.keepalivedConfig(text, checkScript: checkScript)
    }

    /// Reads `FILE` (both balancers) or `lb01=FILE,lb02=FILE` from the command line.
    public static func parse(haproxy: String?, keepalived: String?) throws -> LabConfigs {
        LabConfigs(
            haproxy: try files(haproxy, option: "--haproxy-config"),
            keepalived: try files(keepalived, option: "--keepalived-config"))
    }

    private static func files(_ value: String?, option: String) throws -> [LabHost: String] {
        guard let value else { return [:] }
        var result: [LabHost: String] = [:]
        for part in value.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            let hosts: [LabHost]
            let path: String
            if pieces.count == 2 {
                guard let host = LabHost(rawValue: pieces[0]), LabHost.balancers.contains(host) else {
                    throw LabError.invalidOption("\(option): '\(pieces[0])' is not lb01 or lb02")
                }
                hosts = [host]
                path = pieces[1]
            } else {
                hosts = LabHost.balancers
                path = pieces[0]
            }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LabError.invalidOption("\(option): cannot read \(path)")
            }
            for host in hosts { result[host] = text }
        }
        return result
    }
}

/// The files each host gets: the seed's, verbatim, except where the lab has to differ (documented at each).
public enum LabFiles {
    /// The seed's keepalived.conf for a node with the tracking script's path moved into the lab directory.
    public static func keepalivedConfig(for host: LabHost, checkScript: String) -> String {
        let seed = host == .lb01 ? SeedFiles.keepalivedLB01 : SeedFiles.keepalivedLB02
        return keepalivedConfig(seed, checkScript: checkScript)
    }

    /// Any keepalived.conf with the seed's check script path moved into the lab directory.
    public static func keepalivedConfig(_ text: String, checkScript: String) -> String {
        text.replacingOccurrences(of: "\"/etc/keepalived/check_haproxy.sh\"", with: "\"\(checkScript)\"")
    }

    /// The seed's check_haproxy.sh, made correct for one node among several on one machine.
    ///
    /// The seed checks `pidof haproxy` and `ss -lntp | grep -q ':80'`. In the lab, `pidof` is not
    /// namespace-aware: lb01's script would find lb02's balancer and never fail. So the script checks the
    /// pid the lab recorded for this node's balancer (alive and not a zombie) instead. `ss` lists the
    /// sockets of the namespace it runs in, so it stays, with two fixes: it matches the entry port exactly
    /// (`':80'` also matches the stats listener on `:8404`), and it avoids `ss | grep -q` under `pipefail`
    /// (grep exiting early can make ss die of SIGPIPE and fail a healthy check). The same script serves
    /// HAProxy and `portico lb`: it reads the lab's pidfile, whatever program the node runs.
    public static func checkScript(balancerPidFile: String) -> String {
        """
        #!/bin/bash
        set -euo pipefail

        # The seed's check_haproxy.sh, adapted by portico lab: see LabFiles.checkScript for why.
        # The balancer of this node is the pid portico lab recorded (pidof would see every node's).
        pid=$(cat \(balancerPidFile))
        state=$(awk '/^State:/ {print $2}' /proc/"$pid"/status)
        [ "$state" != Z ]
        # Something listens on the entry port in this node's network namespace.
        listening=$(ss -Hlnt 'sport = :80')
        [ -n "$listening" ]

        """
    }

    /// The seed's `maxconn 10000` needs 20020 file descriptors; HAProxy 2.6 refuses to start below that
    /// unless told `no strict-limits`. Where the machine's limit cannot be raised that far (a container
    /// without CAP_SYS_RESOURCE, where `ulimit -Hn` is 20000), the lab adds this second config file rather
    /// than edit the seed's: HAProxy then warns and runs. Nil when the limit is high enough.
    public static func haproxyLimitsOverride(openFileLimit: Int) -> String? {
        guard openFileLimit < 20020 else { return nil }
        return """
            # Added by portico lab: this machine allows \(openFileLimit) open files, the seed's maxconn needs 20020.
            global
                no strict-limits

            """
    }

    /// The seed's web pages: index.html names the node, /health says ok.
    public static func pages(for host: LabHost) -> [(name: String, text: String)] {
        [("index.html", "\(host.rawValue)\n"), ("health", "ok\n")]
    }

    /// An nginx.conf equivalent to the seed's packaged nginx serving /usr/share/nginx/html, with every path
    /// (pid, logs, temp files) inside the host's folder so that two nginx instances never collide.
    public static func nginxConfig(folder: String, root: String) -> String {
        """
        daemon off;
        worker_processes 1;
        pid \(folder)/nginx.pid;
        error_log \(folder)/nginx-error.log;

        events {
            worker_connections 1024;
        }

        http {
            types {
                text/html html;
            }
            default_type text/plain;
            access_log \(folder)/access.log;
            client_body_temp_path \(folder)/nginx-tmp/body;
            proxy_temp_path \(folder)/nginx-tmp/proxy;
            fastcgi_temp_path \(folder)/nginx-tmp/fastcgi;
            uwsgi_temp_path \(folder)/nginx-tmp/uwsgi;
            scgi_temp_path \(folder)/nginx-tmp/scgi;

            server {
                listen 80;
                server_name _;
                root \(root);
                index index.html;
            }
        }

        """
    }
}
