// The seed's configuration files, verbatim (fixtures/seed/). The lab writes them into each host's directory;
// `SeedFilesTests` compares these texts with the fixtures byte for byte so the two cannot drift apart.

/// The seed's files, as the seed prints them.
public enum SeedFiles {
    /// `/etc/haproxy/haproxy.cfg`, the same on lb01 and lb02.
    public static let haproxyConfig = """
        global
            log 127.0.0.1 local2
            maxconn 10000
            daemon

        defaults
            mode http
            log global
            option httplog
            option dontlognull
            option forwardfor
            timeout connect 3s
            timeout client  30s
            timeout server  30s

        frontend web_entry
            bind *:80
            default_backend web_backend

        backend web_backend
            balance roundrobin
            option httpchk GET /health
            http-check expect status 200
            server web01 192.168.10.21:80 check inter 2s fall 3 rise 2
            server web02 192.168.10.22:80 check inter 2s fall 3 rise 2

        listen stats
            bind *:8404
            mode http
            stats enable
            stats uri /stats
            stats refresh 10s
            stats auth admin:strong_password_here

        """

    /// lb01's `/etc/keepalived/keepalived.conf` (MASTER, priority 120).
    public static let keepalivedLB01 = """
        vrrp_script chk_haproxy {
            script "/etc/keepalived/check_haproxy.sh"
            interval 2
            fall 3
            rise 2
            weight -30
        }

        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 120
            advert_int 1

            garp_master_delay 1
            garp_master_repeat 5

            authentication {
                auth_type PASS
                auth_pass 12345678
            }

            track_script {
                chk_haproxy
            }

            virtual_ipaddress {
                192.168.10.100/24 dev eth0
            }
        }

        """

    /// lb02's `/etc/keepalived/keepalived.conf` (BACKUP, priority 100).
    public static let keepalivedLB02 = """
        vrrp_script chk_haproxy {
            script "/etc/keepalived/check_haproxy.sh"
            interval 2
            fall 3
            rise 2
            weight -30
        }

        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1

            garp_master_delay 1
            garp_master_repeat 5

            authentication {
                auth_type PASS
                auth_pass 12345678
            }

            track_script {
                chk_haproxy
            }

            virtual_ipaddress {
                192.168.10.100/24 dev eth0
            }
        }

        """

    /// `/etc/keepalived/check_haproxy.sh`: the tracking script both nodes run.
    public static let checkHAProxyScript = """
        #!/bin/bash
        set -euo pipefail

        pidof haproxy >/dev/null
        ss -lntp | grep -q ':80'  # HAProxy 进程存在且入口端口仍在监听

        """
}
