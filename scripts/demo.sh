#!/usr/bin/env bash
# The scenario of the README, end to end on a throwaway LAN in network namespaces (198.19.0.0/22):
# a DHCP server (dnsmasq) on the "home LAN", a "node" whose NIC eno1 is the macvlan master, two "pods" with a
# pod-network eth0, ts-dhcp daemon, and the real macvlan CNI plugin giving each pod eth1 with a LAN address.
# Everything is removed at the end, also on error or Ctrl-C. Run as root from the repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
scripts/install-deps.sh
[ -f dist/client/main.js ] && [ -f native/build/Release/ts_dhcp_netns.node ] || npm ci --no-audit --no-fund

P=tsdemo-
tmp=$(mktemp -d /tmp/ts-dhcp-demo.XXXXXX)
sock=$tmp/ts-dhcp.sock
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ns in lan node pod1 pod2; do ip netns del "$P$ns" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }

step "Building the LAN, the node and two pods in network namespaces"
for ns in lan node pod1 pod2; do
  ip netns del "$P$ns" 2>/dev/null || true
  ip netns add "$P$ns"
  nsx $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  nsx $ns ip link set lo up
done
nsx lan ip link add br0 type bridge
nsx lan ip addr add 198.19.0.1/22 dev br0
nsx lan ip link set br0 up
ip link add lan-eno1 netns "${P}lan" type veth peer name eno1 netns "${P}node"
nsx lan ip link set lan-eno1 master br0 up
nsx node ip link set eno1 up
nsx node ip link add podbr type bridge
nsx node ip addr add 198.19.128.1/17 dev podbr
nsx node ip link set podbr up
for i in 1 2; do
  ip link add "veth-pod$i" netns "${P}node" type veth peer name eth0 netns "${P}pod$i"
  nsx node ip link set "veth-pod$i" master podbr up
  nsx pod$i ip addr add "198.19.128.1$i/17" dev eth0
  nsx pod$i ip link set eth0 up
  nsx pod$i ip route add default via 198.19.128.1
done

step "Starting dnsmasq on the LAN (198.19.1.10-198.19.1.250/22, router, DNS, domain, search list)"
nsx lan dnsmasq --no-daemon --port=0 --conf-file=/dev/null --user=root --no-ping --dhcp-authoritative \
  --interface=br0 --dhcp-range=198.19.1.10,198.19.1.250,255.255.252.0,2m --dhcp-leasefile="$tmp/dnsmasq.leases" \
  --dhcp-option=3,198.19.0.1 --dhcp-option=6,198.19.0.1 --dhcp-option=15,home.lan \
  --dhcp-option=119,home.lan,lan --log-facility="$tmp/dnsmasq.log" &
pids+=($!)

step "Starting ts-dhcp daemon on $sock"
./bin/ts-dhcp daemon --socket-path "$sock" --state-dir "$tmp/state" --log-level info > "$tmp/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

mkdir -p "$tmp/cni-bin"
ln -s /usr/lib/cni/macvlan "$tmp/cni-bin/macvlan"
ln -s "$repo/bin/ts-dhcp" "$tmp/cni-bin/ts-dhcp"
conf=$(printf '{"cniVersion":"1.0.0","name":"lan","type":"macvlan","master":"eno1","mode":"bridge","ipam":{"type":"ts-dhcp","daemonSocketPath":"%s","defaultRoute":false}}' "$sock")
cni() { # VERB POD
  nsx node env CNI_COMMAND="$1" CNI_CONTAINERID="demo-$2" CNI_NETNS="/var/run/netns/$P$2" CNI_IFNAME=eth1 \
    CNI_PATH="$tmp/cni-bin" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nginx-$2" \
    /usr/lib/cni/macvlan <<<"$conf"
}

step "CNI ADD through the macvlan plugin, ipam.type = ts-dhcp"
echo "network config: $conf"
for pod in pod1 pod2; do
  start=$(date +%s%N)
  if ! cni ADD $pod > "$tmp/$pod.json"; then
    echo "ADD failed:"; cat "$tmp/$pod.json"; tail -n 20 "$tmp/daemon.log"; exit 1
  fi
  echo "-- $pod: result in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  jq -c . "$tmp/$pod.json"
done

step "eth1 inside the pods; the default route stays on eth0 (ipam.defaultRoute: false)"
for pod in pod1 pod2; do nsx $pod ip -4 -br addr show dev eth1; nsx $pod ip -4 route | sed 's/^/    /'; done

step "ts-dhcp leases"
./bin/ts-dhcp leases --socket-path "$sock"
step "ts-dhcp leases show default/nginx-pod1 (what the server said, DNS included, and the state transitions)"
./bin/ts-dhcp leases show default/nginx-pod1 --socket-path "$sock"

step "The LAN reaches the pods"
for pod in pod1 pod2; do
  addr=$(jq -r '.ips[0].address' "$tmp/$pod.json"); addr=${addr%/*}
  nsx lan ping -c 2 -W 1 "$addr" | tail -n 2
done

step "dnsmasq's lease file"
cat "$tmp/dnsmasq.leases"

step "CNI DEL: the leases are released"
for pod in pod1 pod2; do cni DEL $pod; done
sleep 0.2
echo "dnsmasq leases after DEL: $(wc -l < "$tmp/dnsmasq.leases")"
./bin/ts-dhcp leases --socket-path "$sock"
step "Done; cleaning up"
