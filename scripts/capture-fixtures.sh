#!/usr/bin/env bash
# Captures DHCP exchanges with real servers configured to send options the shared captures lack (6, 15, 26, 28, 33,
# 119, 121, a private option, long options, overload, NAK), and DHCPv6 exchanges with router advertisements. Writes
# test/fixtures/captures/*.pcap; then scripts/extract-fixtures.ts and extract-fixtures6.ts cut single messages out of
# them (and out of the shared captures) into test/fixtures/dhcp/*.bin and test/fixtures/dhcp6/*.bin.
#
# Needs root, dnsmasq, kea-dhcp4, kea-dhcp6, dhcpd, tcpdump. Uses only netns tsc-lan / tsc-cli and 198.18.2.0/24
# (DHCPv4), tsc6-lan / tsc6-cli and fd00:198:18:6::/64 (DHCPv6).
# usage: scripts/capture-fixtures.sh [v4|v6]    (from the repository root, after `npx tsc -p .`; default: both)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test/fixtures/captures
TMP=$(mktemp -d /tmp/tsc-capture.XXXXXX)
WHICH=${1:-both}
NETNS=()
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  [ "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

[ -f "$ROOT/dist/scripts/fixture-client.js" ] || { echo "build first: npx tsc -p ." >&2; exit 1; }
mkdir -p "$OUT"

# capture NAME SERVER-PID SCENARIO...: tcpdump on the client link ($CLI, $CLIENT_IF, filter $FILTER) while the client
# ($CLIENT with its leading arguments $CLIENT_ARGS) runs the scenarios; then the server is stopped.
capture() {
  local name=$1 server_pid=$2
  shift 2
  ip netns exec "$CLI" tcpdump -i "$CLIENT_IF" --immediate-mode -U -n -w "$OUT/$name.pcap" "$FILTER" 2>"$TMP/$name.tcpdump" &
  local tcpdump_pid=$!
  PIDS+=("$tcpdump_pid")
  sleep 1.5 # servers and tcpdump need a moment before the first DISCOVER/SOLICIT (and dnsmasq sends its first RA)
  ip netns exec "$CLI" node "$CLIENT" "${CLIENT_ARGS[@]}" "$@"
  sleep 0.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
}

capture_v4() {
LAN=tsc-lan CLI=tsc-cli CLIENT_IF=tsc-c0 CLIENT=$ROOT/dist/scripts/fixture-client.js CLIENT_ARGS=(tsc-c0)
FILTER='udp port 67 or udp port 68'
NETNS+=($LAN $CLI)

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
}

capture_v6() {
LAN=tsc6-lan CLI=tsc6-cli CLIENT_IF=tsc6-c0 CLIENT=$ROOT/dist/scripts/fixture-client6.js
MAC=02:00:c6:12:06:0a
CLIENT_ARGS=(tsc6-c0 $MAC)
FILTER='udp port 546 or udp port 547 or icmp6[0] == 134'
NETNS+=($LAN $CLI)
# Server side fd00:198:18:6::1/64 on tsc6-l0; the client side has only its link-local address. DAD is off on both
# sides so the addresses are usable at once (a fixture capture is no DAD test).
ip netns add $LAN
ip netns add $CLI
for ns in $LAN $CLI; do
  ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add tsc6-l0 netns $LAN type veth peer name tsc6-c0 netns $CLI
ip -n $LAN addr add fd00:198:18:6::1/64 dev tsc6-l0 nodad
ip -n $LAN link set tsc6-l0 up
ip -n $CLI link set tsc6-c0 address $MAC
ip -n $CLI link set tsc6-c0 up
sleep 0.5

# 1. Kea 2.2: rapid commit allowed, UNICAST and PREFERENCE sent, DNS servers and a domain list, short timers.
mkdir -p "$TMP/kea"
cat >"$TMP/kea6.conf" <<CONF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "tsc6-l0" ] },
  "data-directory": "$TMP/kea",
  "lease-database": { "type": "memfile", "persist": false },
  "preferred-lifetime": 300, "valid-lifetime": 600, "renew-timer": 150, "rebind-timer": 240,
  "subnet6": [ { "subnet": "fd00:198:18:6::/64", "interface": "tsc6-l0", "rapid-commit": true,
    "pools": [ { "pool": "fd00:198:18:6::100 - fd00:198:18:6::1ff" } ],
    "option-data": [
      { "name": "dns-servers", "data": "fd00:198:18:6::53, fd00:198:18:6::54" },
      { "name": "domain-search", "data": "example.com, corp.example.com" },
      { "name": "unicast", "data": "fd00:198:18:6::1", "always-send": true },
      { "name": "preference", "data": "10", "always-send": true } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "output_options": [ { "output": "stderr" } ], "severity": "INFO" } ] } }
CONF
KEA_PIDFILE_DIR=$TMP/kea KEA_LOCKFILE_DIR=$TMP/kea ip netns exec $LAN kea-dhcp6 -c "$TMP/kea6.conf" 2>"$TMP/kea6.log" >&2 &
PIDS+=($!)
capture kea-2.2-v6 $! full rapid decline notonlink

# 2. dnsmasq 2.90: DHCPv6 range with router advertisements (M flag), DNS servers and a domain list.
ip netns exec $LAN dnsmasq --no-daemon --port=0 --conf-file=/dev/null --user=root --interface=tsc6-l0 \
  --bind-interfaces --dhcp-leasefile="$TMP/dnsmasq.leases" --log-dhcp --enable-ra \
  --dhcp-range=fd00:198:18:6::100,fd00:198:18:6::1ff,64,10m \
  --dhcp-option=option6:dns-server,[fd00:198:18:6::53] \
  --dhcp-option=option6:domain-search,example.com,corp.example.com \
  2>"$TMP/dnsmasq6.log" &
PIDS+=($!)
capture dnsmasq-2.90-v6 $! full rapid decline notonlink

node "$ROOT/dist/scripts/extract-fixtures6.js"
echo "captures in $OUT, messages in $ROOT/test/fixtures/dhcp6"
}

case $WHICH in
  v4) capture_v4 ;;
  v6) capture_v6 ;;
  both) capture_v4; capture_v6 ;;
  *) echo "usage: $0 [v4|v6]" >&2; exit 2 ;;
esac
