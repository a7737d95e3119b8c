#!/usr/bin/env bash
# Installs the Debian packages of scripts/deps.txt (every program the tests, the demo, the image build and the
# benchmark execute), when any is missing. Run as root. Package scripts are kept from starting the servers they
# install: tests start their own inside namespaces, and the runtime tests their own containerd.
set -euo pipefail
deps=$(dirname "$0")/deps.txt
mapfile -t pkgs < <(sed 's/#.*//' "$deps" | awk 'NF == 2 { print $2 }' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "ts-dhcp needs Node.js 20 or newer on PATH (found: $(node --version 2>&1))" >&2
  exit 1
fi
node "$(dirname "$0")/preflight.js"
