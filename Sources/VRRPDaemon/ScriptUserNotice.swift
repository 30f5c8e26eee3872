import KeepalivedConfig

/// Keepalived runs scripts as `script_user` / `vrrp_script { user }` and refuses unsafe ones under
/// `enable_script_security`. Portico's daemon does neither yet: it runs every script as itself (root). The parser
/// accepts these keywords so the seed's and other real files load, and the daemon says plainly, with file and
/// line, what it will not do, so nobody believes a script is confined when it is not.
public func scriptUserNotices(_ config: VRRPConfig) -> [Diagnostic] {
    var notices: [Diagnostic] = []
    if config.global.isSet("script_user") {
        notices.append(
            .warning(
                config.global.location(of: "script_user"),
                "script_user is not supported yet by Portico: scripts run as the daemon's user (root)"))
    }
    if config.global.isSet("enable_script_security") {
        notices.append(
            .warning(
                config.global.location(of: "enable_script_security"),
                "enable_script_security is not enforced yet by Portico: unsafe scripts are not refused at start "
                    + "(`portico check` reports scripts writable by non-root users)"))
    }
    for script in config.scripts where script.isSet("user") {
        notices.append(
            .warning(
                script.location(of: "user"),
                "vrrp_script \(script.name) user is not supported yet by Portico: the script runs as root"))
    }
    return notices
}
