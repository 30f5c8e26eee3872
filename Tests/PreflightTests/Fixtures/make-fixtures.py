#!/usr/bin/env python3
"""Regenerates the node-pair fixtures: the seed's pair verbatim, the clean pair (the seed adapted to Portico, no
finding at all) and one directory per seeded inconsistency (the clean pair with ONE change). Run from anywhere;
the expectations live in InconsistencyTests.swift."""
import os, shutil, stat
OUT = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(OUT, "..", "..", "..", "fixtures", "seed")
seed_h = open(f"{SEED}/haproxy.cfg").read()
seed_k = {n: open(f"{SEED}/keepalived-{n}.conf").read() for n in ("lb01", "lb02")}
seed_s = open(f"{SEED}/check_haproxy.sh").read()

def write(case, node, h, k, scripts):
    d = f"{OUT}/{case}/{node}"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/haproxy.cfg", "w").write(h)
    open(f"{d}/keepalived.conf", "w").write(k)
    for name, (text, mode) in scripts.items():
        open(f"{d}/{name}", "w").write(text)
        os.chmod(f"{d}/{name}", mode)

for entry in os.listdir(OUT):
    if os.path.isdir(os.path.join(OUT, entry)):
        shutil.rmtree(os.path.join(OUT, entry))
for n in ("lb01", "lb02"):
    write("seed", n, seed_h, seed_k[n], {"check_haproxy.sh": (seed_s, 0o755)})

# The clean pair: the seed adapted to Portico (stats on loopback, a real password, a check script that tests the
# listener rather than an haproxy process). It must produce no finding at all.
clean_h = seed_h.replace("    bind *:8404\n", "    bind 127.0.0.1:8404\n").replace(
    "admin:strong_password_here", "admin:Vf3q-9LmT-x2Rk-7wPz")
assert clean_h != seed_h
clean_k = {n: t.replace("/etc/keepalived/check_haproxy.sh", "/etc/keepalived/check_balancer.sh") for n, t in seed_k.items()}
clean_s = "#!/bin/bash\nset -euo pipefail\n\n# The balancer is up when its entry port listens.\nss -lnt | grep -q ':80 '\n"
clean_scripts = {"check_balancer.sh": (clean_s, 0o755)}
for n in ("lb01", "lb02"):
    write("clean", n, clean_h, clean_k[n], clean_scripts)

def sub(text, old, new):
    assert text.count(old) == 1, (old, text.count(old))
    return text.replace(old, new)

def case(name, h1=None, k1=None, h2=None, k2=None, s1=None, s2=None):
    write(name, "lb01", h1 or clean_h, k1 or clean_k["lb01"], s1 if s1 is not None else clean_scripts)
    write(name, "lb02", h2 or clean_h, k2 or clean_k["lb02"], s2 if s2 is not None else clean_scripts)

K1, K2 = clean_k["lb01"], clean_k["lb02"]
case("different-vrid", k2=sub(K2, "virtual_router_id 51", "virtual_router_id 52"))
case("different-vip", k2=sub(K2, "192.168.10.100/24", "192.168.10.101/24"))
case("different-advert-int", k2=sub(K2, "advert_int 1\n", "advert_int 2\n"))
case("different-auth-pass", k2=sub(K2, "auth_pass 12345678", "auth_pass 87654321"))
case("same-priority", k2=sub(K2, "priority 100", "priority 120"))
case("two-masters", k2=sub(K2, "state BACKUP", "state MASTER"))
case("nopreempt-with-master", k1=sub(K1, "    state MASTER\n", "    state MASTER\n    nopreempt\n"))
case("weight-too-small", k1=sub(K1, "weight -30", "weight -10"), k2=sub(K2, "weight -30", "weight -10"))
case("fault-everywhere", k1=sub(K1, "    weight -30\n", ""), k2=sub(K2, "    weight -30\n", ""))
uni = "    advert_int 1\n    unicast_src_ip {src}\n    unicast_peer {{\n        {peer}\n    }}\n"
case("unicast-asymmetric",
     k1=sub(K1, "    advert_int 1\n", uni.format(src="192.168.10.11", peer="192.168.10.12")),
     k2=sub(K2, "    advert_int 1\n", uni.format(src="192.168.10.12", peer="192.168.10.13")))
case("unicast-one-sided", k1=sub(K1, "    advert_int 1\n", uni.format(src="192.168.10.11", peer="192.168.10.12")))
case("vip-outside-subnet", k1=sub(K1, "192.168.10.100/24", "192.168.20.100/24"),
     k2=sub(K2, "192.168.10.100/24", "192.168.20.100/24"))
vi2 = "\nvrrp_instance VI_2 {{\n    state {state}\n    interface eth0\n    virtual_router_id 51\n    priority {prio}\n    advert_int 1\n\n    virtual_ipaddress {{\n        192.168.10.200/24 dev eth0\n    }}\n}}\n"
case("vrid-reused", k1=K1 + vi2.format(state="MASTER", prio=120), k2=K2 + vi2.format(state="BACKUP", prio=100))
case("different-server-address", h2=sub(clean_h, "web02 192.168.10.22:80", "web02 192.168.10.23:80"))
case("missing-server", h2=sub(clean_h, "    server web02 192.168.10.22:80 check inter 2s fall 3 rise 2\n", ""))
case("different-inter", h2=sub(clean_h, "web01 192.168.10.21:80 check inter 2s", "web01 192.168.10.21:80 check inter 3s"))
case("intended-inter", h2=sub(clean_h, "web01 192.168.10.21:80 check inter 2s fall 3 rise 2\n",
                              "web01 192.168.10.21:80 check inter 3s fall 3 rise 2  # portico: intended (slow link)\n"))
case("different-balance", h2=sub(clean_h, "balance roundrobin", "balance leastconn"))
case("different-health-check", h2=sub(clean_h, "option httpchk GET /health", "option httpchk GET /healthz"))
case("different-timeout", h2=sub(clean_h, "timeout server  30s", "timeout server  60s"))
case("different-bind", h2=sub(clean_h, "bind *:80\n", "bind *:8080\n"))
case("stats-bound-to-star", h1=sub(clean_h, "bind 127.0.0.1:8404", "bind *:8404"),
     h2=sub(clean_h, "bind 127.0.0.1:8404", "bind *:8404"))
case("weak-stats-password", h2=sub(clean_h, "admin:Vf3q-9LmT-x2Rk-7wPz", "admin:admin"))
# Routing by ACL: both nodes send /api to api_backend; the standby routes differently.
routed_h = sub(clean_h, "    bind *:80\n", "    bind *:80\n    acl is_api path_beg /api\n    use_backend api_backend if is_api\n")
routed_h = sub(routed_h, "\nlisten stats", "\nbackend api_backend\n    server api01 192.168.10.23:80 check inter 2s fall 3 rise 2\n\nlisten stats")
case("different-routing", h1=routed_h, h2=sub(routed_h, "    use_backend api_backend if is_api\n", ""))
case("different-acl", h1=routed_h, h2=sub(routed_h, "path_beg /api", "path_beg /v1"))
case("missing-check-script", s2={})
case("script-not-executable", s2={"check_balancer.sh": (clean_s, 0o644)})
case("pidof-haproxy", s2={"check_balancer.sh": (clean_s.replace("ss -lnt", "pidof haproxy >/dev/null\nss -lnt"), 0o755)})
case("standby-not-tracking", k2=sub(K2, "    track_script {\n        chk_haproxy\n    }\n", ""))
case("different-script-interval", k2=sub(K2, "    interval 2\n", "    interval 5\n"))
case("different-weight", k2=sub(K2, "weight -30", "weight -20"))
vip_bind = sub(clean_h, "bind *:80\n", "bind 192.168.10.100:80\n")
case("bind-on-vip", h1=vip_bind, h2=vip_bind)
print("ok")
