#!/usr/bin/env bash
# Installs the Debian packages ts-dhcp's demo, tests and benchmark use, when any is missing. Run as root.
# Package scripts are kept from starting the servers they install: tests start their own inside namespaces.
set -euo pipefail
pkgs=(dnsmasq kea-dhcp4-server isc-dhcp-server containernetworking-plugins tcpdump nftables jq iproute2 iputils-ping procps
      util-linux systemd hyperfine build-essential python3 ca-certificates)
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
