#!/bin/bash
set -euo pipefail

# The balancer is up when its entry port listens.
ss -lnt | grep -q ':80 '
