#!/usr/bin/env bash
# Installs the Debian packages ts-dhcp's demo, tests and benchmark use, when any is missing. Run as root.
set -euo pipefail
pkgs=(dnsmasq kea-dhcp4-server isc-dhcp-server containernetworking-plugins tcpdump jq iproute2 iputils-ping procps
      systemd hyperfine)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Packaged DHCP servers must not hold UDP 67 on the host: tests start their own inside namespaces.
for svc in dnsmasq isc-dhcp-server kea-dhcp4-server; do
  if [ -x "/etc/init.d/$svc" ] && ! [ -d /run/systemd/system ]; then "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
done
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "ts-dhcp needs Node.js 20 or newer on PATH" >&2
  exit 1
fi
