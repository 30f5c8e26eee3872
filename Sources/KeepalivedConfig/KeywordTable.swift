/// The keywords of each block: those Portico implements, and real Keepalived 2.2.7 keywords (from
/// keepalived.conf(5)) that it does not implement yet, which are rejected explicitly rather than ignored.
struct KeywordTable {
    var block: String
    var supported: [String]
    var notSupported: [String]

    var all: [String] { supported + notSupported }

    static let topLevel = KeywordTable(
        block: "top level",
        supported: ["global_defs", "vrrp_script", "vrrp_track_process", "vrrp_instance", "include"],
        notSupported: [
            "vrrp_sync_group", "includer", "includem", "includew", "includeb", "includea", "include_check",
            "track_file", "vrrp_track_file", "static_ipaddress", "static_routes", "static_rules", "linkbeat_interfaces",
            "garp_group", "interface_up_down_delays", "bfd_instance", "virtual_server", "virtual_server_group",
            "SSL", "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
            "child_wait_time",
        ]
    )

    static let globalDefinitions = KeywordTable(
        block: "global_defs",
        supported: [
            "router_id", "script_user", "enable_script_security", "vrrp_version", "vrrp_garp_master_delay",
            "vrrp_garp_master_repeat", "vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat",
            "vrrp_skip_check_adv_addr",
        ],
        notSupported: [
            // vrrp_strict changes many defaults (no_accept needs firewall rules, no auth, no unicast,
            // no preempt_delay): silently ignoring it would run a different protocol than the operator asked for.
            "vrrp_strict",
            "notification_email", "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout",
            "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "checker_log_all_failures", "no_email_faults",
            "email_faults", "max_auto_priority", "min_auto_priority_delay", "vrrp_mcast_group4", "vrrp_mcast_group6",
            "default_interface", "lvs_id", "lvs_sync_daemon", "lvs_flush", "lvs_flush_on_stop", "lvs_timeouts",
            "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat", "vrrp_garp_interval", "vrrp_gna_interval",
            "vrrp_min_garp", "vrrp_garp_extra_if", "vrrp_garp_extra_if_vmac", "vrrp_lower_prio_no_advert",
            "vrrp_higher_prio_send_advert", "vrrp_down_timer_adverts", "vrrp_iptables", "vrrp_ipsets",
            "vrrp_nftables", "vrrp_nftables_priority", "vrrp_nftables_ifindex", "nftables_counters",
            "vrrp_check_unicast_src", "vrrp_notify_priority_changes", "vrrp_notify_fifo", "vrrp_notify_fifo_script",
            "notify_fifo", "notify_fifo_script", "lvs_notify_fifo", "lvs_notify_fifo_script", "vrrp_priority",
            "checker_priority", "bfd_priority", "vrrp_no_swap", "checker_no_swap", "bfd_no_swap",
            "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "vrrp_rlimit_rttime",
            "vrrp_cpu_affinity", "checker_cpu_affinity", "bfd_cpu_affinity", "vrrp_startup_delay",
            "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier",
            "vrrp_socket_priority", "dynamic_interfaces", "snmp_socket", "enable_traps", "enable_snmp_vrrp",
            "enable_snmp_keepalived", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2",
            "enable_snmp_rfcv3", "enable_dbus", "dbus_service_name", "process_names", "process_name",
            "vrrp_process_name", "checker_process_name", "bfd_process_name", "linkbeat_use_polling",
            "net_namespace", "namespace_with_ipsets", "instance", "use_pid_dir", "startup_script",
            "shutdown_script", "random_seed", "reload_check_config", "reload_time_file", "reload_repeat",
            "reload_file", "config_save_dir", "tmp_config_directory", "data_use_instance", "umask",
            "fifo_write_vrrp_states_on_reload",
        ]
    )

    static let script = KeywordTable(
        block: "vrrp_script",
        supported: ["script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"],
        notSupported: []
    )

    static let trackProcess = KeywordTable(
        block: "vrrp_track_process",
        supported: [
            "process", "param_match", "weight", "quorum", "quorum_max", "delay", "fork_delay", "terminate_delay",
        ],
        notSupported: ["full_command"]
    )

    static let instance = KeywordTable(
        block: "vrrp_instance",
        supported: [
            "state", "interface", "virtual_router_id", "priority", "advert_int", "version", "nopreempt", "preempt",
            "preempt_delay", "garp_master_delay", "garp_master_repeat", "garp_master_refresh",
            "garp_master_refresh_repeat", "authentication", "track_script", "track_process", "track_interface",
            "virtual_ipaddress", "virtual_ipaddress_excluded", "unicast_src_ip", "unicast_peer", "notify_master",
            "notify_backup", "notify_fault", "notify_stop", "notify", "dont_track_primary",
        ],
        notSupported: [
            "smtp_alert", "use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "native_ipv6", "vrf",
            "mcast_src_ip", "mcast_dst_ip", "track_src_ip", "check_unicast_src", "unicast_fault_no_peer",
            "unicast_ttl", "old_unicast_checksum", "garp_lower_prio_delay", "garp_lower_prio_repeat",
            "garp_extra_if", "down_timer_adverts", "lower_prio_no_advert", "higher_prio_send_advert", "track_file",
            "track_bfd", "virtual_routes", "virtual_rules", "accept", "no_accept", "skip_check_adv_addr",
            "strict_mode", "debug", "notify_master_rx_lower_pri", "notify_priority_changes", "notify_deleted",
            "kernel_rx_buf_size", "linkbeat_use_polling", "promote_secondaries", "sync_group_tracking_weight",
        ]
    )

    static let authentication = KeywordTable(
        block: "authentication", supported: ["auth_type", "auth_pass"], notSupported: []
    )
}
