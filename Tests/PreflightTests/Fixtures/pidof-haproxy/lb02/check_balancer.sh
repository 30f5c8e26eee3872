#!/bin/bash
set -euo pipefail

# The balancer is up when its entry port listens.
pidof haproxy >/dev/null
ss -lnt | grep -q ':80 '
