#!/usr/bin/env bash
# Captures DHCP exchanges with real servers configured to send options the shared captures lack (6, 15, 26, 28, 33,
# 119, 121, a private option, long options, overload, NAK). Writes test/fixtures/captures/*.pcap; then
# scripts/extract-fixtures.ts cuts single messages out of them (and out of the shared captures) into
# test/fixtures/dhcp/*.bin.
#
# Needs root, dnsmasq, kea-dhcp4, dhcpd, tcpdump. Uses only netns tsc-lan / tsc-cli and 198.18.2.0/24.
# usage: scripts/capture-fixtures.sh            (from the repository root, after `npx tsc -p .`)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test/fixtures/captures
CLIENT=$ROOT/dist/scripts/fixture-client.js
TMP=$(mktemp -d /tmp/tsc-capture.XXXXXX)
LAN=tsc-lan CLI=tsc-cli
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del $LAN 2>/dev/null || true
  ip netns del $CLI 2>/dev/null || true
  [ "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

[ -f "$CLIENT" ] || { echo "build first: npx tsc -p ." >&2; exit 1; }
mkdir -p "$OUT"

# LAN side 198.18.2.1 on tsc-l0; client side tsc-c0 without an address and a device route so broadcasts leave.
ip netns add $LAN
ip netns add $CLI
ip link add tsc-l0 netns $LAN type veth peer name tsc-c0 netns $CLI
for ns in $LAN $CLI; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n $LAN addr add 198.18.2.1/24 dev tsc-l0
ip -n $LAN link set tsc-l0 up
ip -n $CLI link set tsc-c0 address 02:00:c6:12:02:0a
ip -n $CLI link set tsc-c0 up
ip -n $CLI route add default dev tsc-c0

# capture NAME SERVER-PID-FILE SCENARIO...: tcpdump on the client veth while the client runs the scenarios.
capture() {
  local name=$1 server_pid=$2
  shift 2
  ip netns exec $CLI tcpdump -i tsc-c0 --immediate-mode -U -n -w "$OUT/$name.pcap" 'udp port 67 or udp port 68' 2>"$TMP/$name.tcpdump" &
  local tcpdump_pid=$!
  PIDS+=("$tcpdump_pid")
  sleep 1 # servers and tcpdump need a moment before the first DISCOVER
  ip netns exec $CLI node "$CLIENT" tsc-c0 "$@"
  sleep 0.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
}

DNSMASQ_COMMON=(--no-daemon --port=0 --conf-file=/dev/null --user=root --no-ping --dhcp-authoritative
  --interface=tsc-l0 --bind-interfaces --dhcp-leasefile="$TMP/dnsmasq.leases" --log-dhcp
  --dhcp-range=198.18.2.100,198.18.2.199,255.255.255.0,10m)

# 1. dnsmasq with every option the codec types (a private option 224 forced in, to check unknown options survive).
ip netns exec $LAN dnsmasq "${DNSMASQ_COMMON[@]}" \
  --dhcp-option=option:router,198.18.2.1 \
  --dhcp-option=option:dns-server,198.18.2.53,198.18.2.54 \
  --dhcp-option=option:domain-name,example.com \
  --dhcp-option=option:domain-search,example.com,corp.example.com \
  --dhcp-option=option:mtu,1400 \
  --dhcp-option=option:static-route,172.16.0.0,198.18.2.3,10.1.2.3,198.18.2.4 \
  --dhcp-option=option:classless-static-route,10.0.0.0/8,198.18.2.1,192.168.128.0/17,198.18.2.2,0.0.0.0/0,198.18.2.1 \
  --dhcp-option-force=224,de:ad:be:ef \
  2>"$TMP/dnsmasq-full.log" &
PIDS+=($!)
capture dnsmasq-2.90-full $! dora nak

# 2. dnsmasq with a search list near its 255-byte option limit plus more options, for a client allowing only 576
#    bytes: the options no longer fit the options field, so dnsmasq overloads file/sname (option 52).
#    Distinct first labels, so dnsmasq's name compression cannot shrink the list.
NEAR_255=$(for i in 1 2 3 4 5 6; do printf ',zone%s-abcdefghijklmnopqrstuvwxyz.example.com' "$i"; done)
ip netns exec $LAN dnsmasq "${DNSMASQ_COMMON[@]}" \
  --dhcp-option=option:router,198.18.2.1 \
  --dhcp-option=option:dns-server,198.18.2.53,198.18.2.54,198.18.2.55,198.18.2.56,198.18.2.57,198.18.2.58 \
  --dhcp-option=option:ntp-server,198.18.2.123,198.18.2.124,198.18.2.125,198.18.2.126 \
  --dhcp-option=option:domain-name,example.com \
  --dhcp-option=option:domain-search"$NEAR_255" \
  2>"$TMP/dnsmasq-overload.log" &
PIDS+=($!)
capture dnsmasq-2.90-overload $! small

# 3. ISC dhcpd 4.4 with 119 and 121 (121 needs a definition in 4.4); then with a search list over 255 bytes, which
#    it splits into several option 119 instances (RFC 3396).
isc_dhcpd() {
  local name=$1 search=$2
  shift 2
  : >"$TMP/dhcpd.leases"
  cat >"$TMP/dhcpd.conf" <<EOF
option classless-static-routes code 121 = array of unsigned integer 8;
authoritative;
default-lease-time 600;
max-lease-time 600;
subnet 198.18.2.0 netmask 255.255.255.0 {
  range 198.18.2.100 198.18.2.199;
  option routers 198.18.2.1;
  option domain-name-servers 198.18.2.53;
  option domain-name "example.com";
  option domain-search $search;
  option interface-mtu 1400;
  option classless-static-routes 8, 10, 198, 18, 2, 1, 0, 198, 18, 2, 1;
}
EOF
  ip netns exec $LAN dhcpd -4 -f -d -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" tsc-l0 \
    2>"$TMP/$name.log" &
  PIDS+=($!)
  capture "$name" $! "$@"
}
isc_dhcpd isc-dhcpd-4.4-full '"example.com", "corp.example.com"' dora nak
LONG_SEARCH=$(for i in $(seq -w 1 16); do printf '"zone%s-abcdefghijklmnopqrstuvwxyz.example.com", ' "$i"; done)
isc_dhcpd isc-dhcpd-4.4-long "${LONG_SEARCH%, }" big

# 4. Kea 2.2 with 119 and 121 (121 given as hex: 10.0.0.0/8 via 198.18.2.1, default via 198.18.2.1).
mkdir -p "$TMP/kea"
cat >"$TMP/kea.conf" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "tsc-l0" ], "dhcp-socket-type": "raw" },
  "lease-database": { "type": "memfile", "persist": false },
  "valid-lifetime": 600, "renew-timer": 300, "rebind-timer": 525, "authoritative": true,
  "subnet4": [ { "subnet": "198.18.2.0/24", "pools": [ { "pool": "198.18.2.100 - 198.18.2.199" } ],
    "option-data": [
      { "name": "routers", "data": "198.18.2.1" },
      { "name": "domain-name-servers", "data": "198.18.2.53, 198.18.2.54" },
      { "name": "domain-name", "data": "example.com" },
      { "name": "domain-search", "data": "example.com, corp.example.com" },
      { "name": "interface-mtu", "data": "1400" },
      { "code": 121, "csv-format": false, "data": "080AC612020100C6120201" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stderr" } ], "severity": "INFO" } ] } }
EOF
KEA_PIDFILE_DIR=$TMP/kea KEA_LOCKFILE_DIR=$TMP/kea ip netns exec $LAN kea-dhcp4 -c "$TMP/kea.conf" \
  2>"$TMP/kea.log" >&2 &
PIDS+=($!)
capture kea-2.2-full $! dora nak

node "$ROOT/dist/scripts/extract-fixtures.js"
echo "captures in $OUT, messages in $ROOT/test/fixtures/dhcp"
