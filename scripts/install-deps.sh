#!/usr/bin/env bash
# Installs the Debian packages of every program the tests, the demo, the image build and the benchmark execute,
# when any is missing. Run as root. Package scripts are kept from starting the servers they install: tests start
# their own inside namespaces, and the runtime tests their own containerd.
set -euo pipefail

# The one list: PROGRAM (a name looked up on PATH, or an absolute path), then its Debian PACKAGE; "-" as PROGRAM
# names a package needed by what the project builds, with no program of its own. scripts/preflight.js (the first
# step of `npm test`) reads this table from this file, checks every program and names what is missing.
read -r -d '' DEPS <<'DEPS' || true
# DHCP servers, CNI plugins, captures (test/netns, demo, bench)
dnsmasq                     dnsmasq
kea-dhcp4                   kea-dhcp4-server
kea-dhcp6                   kea-dhcp6-server
dhcpd                       isc-dhcp-server
/usr/lib/cni/macvlan        containernetworking-plugins
/usr/lib/cni/dhcp           containernetworking-plugins
tcpdump                     tcpdump
nft                         nftables
ip                          iproute2
ss                          iproute2
ping                        iputils-ping
sysctl                      procps
nsenter                     util-linux
unshare                     util-linux
mount                       mount
umount                      mount
curl                        curl
jq                          jq
systemd-analyze             systemd
systemd-socket-activate     systemd
getconf                     libc-bin
bash                        bash
/bin/sh                     dash
stat                        coreutils
env                         coreutils
tar                         tar
sleep                       coreutils

# Container runtimes (test/netns/podman, containerd, daemonset); runc, not crun: crun fails on cgroup v1 hosts
podman                      podman
runc                        runc
containerd                  containerd
ctr                         containerd
/bin/busybox                busybox-static
# the base image for deploy/Containerfile when no registry is reachable (scripts/build-image.sh)
mmdebstrap                  mmdebstrap

# Building the native addon (node-gyp) and the native plugin (make -C native/plugin: musl-gcc and musl's static
# libc; cc with libasan/libubsan, which gcc depends on, for the fuzz test's sanitizer build) at `npm ci`; clang and
# its libFuzzer runtime for the coverage-guided fuzz test (make -C native/plugin fuzz)
make                        build-essential
g++                         build-essential
cc                          build-essential
musl-gcc                    musl-tools
clang                       clang
-                           libclang-rt-14-dev
python3                     python3
-                           ca-certificates
DEPS

mapfile -t pkgs < <(sed 's/#.*//' <<<"$DEPS" | awk 'NF == 2 { print $2 }' | sort -u)
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
