#!/usr/bin/env bash
# Builds deploy/Containerfile with podman into this clone's own image store (.build/podman), tagged as the image
# deploy/daemonset.yaml runs, and prints its size. Run as root from anywhere; test/netns/daemonset.test.ts runs it
# too (podman's layer cache makes a second run with unchanged sources take seconds).
#
# No registry is needed: the Containerfile's two base images are made here when the store lacks them —
#   docker.io/library/debian:bookworm-slim  Debian 12 minbase from deb.debian.org (mmdebstrap, merged /usr, no docs,
#                                           man pages or locales, as Debian's slim images), and
#   docker.io/library/node:20-bookworm-slim that plus the Node.js running this script (node, npm, headers) laid out
#                                           under /usr/local as the official node images have it.
# Both carry the label ts-dhcp.base=local. Nothing outside the clone is written or cached (podman's config, storage
# and run state live in .build/podman).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "build-image.sh: run as root (podman with its own store)" >&2; exit 1; }

store=$repo/.build/podman
image=$(sed -n 's/^ *image: *//p' deploy/daemonset.yaml | head -n 1)
[ -n "$image" ] || { echo "build-image.sh: no image: in deploy/daemonset.yaml" >&2; exit 1; }
mkdir -p "$store/tmp"
# runc, cgroupfs and rlimits below any host's hard limits: the same choices as the runtime tests
# (test/netns/lib/runtimes.ts).
cat > "$store/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$store/events.log"
tmp_dir = "$store/tmp"
EOF
cat > "$store/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$store/storage"
runroot = "$store/run"
EOF
export CONTAINERS_CONF=$store/containers.conf CONTAINERS_STORAGE_CONF=$store/storage.conf

debian=docker.io/library/debian:bookworm-slim
node_base=docker.io/library/node:20-bookworm-slim
if ! podman image exists "$debian"; then
  echo "build-image.sh: making $debian with mmdebstrap"
  mmdebstrap --variant=minbase --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm - http://deb.debian.org/debian |
    podman import --change 'CMD ["bash"]' --change 'LABEL ts-dhcp.base=local' - "$debian"
fi
if ! podman image exists "$node_base"; then
  node=$(readlink -f "$(command -v node)")
  prefix=$(dirname "$(dirname "$node")")
  major=$("$node" -p 'process.versions.node.split(".")[0]')
  [ "$major" = 20 ] || { echo "build-image.sh: $node is Node.js $major; $node_base needs Node.js 20" >&2; exit 1; }
  for p in "$prefix/lib/node_modules/npm" "$prefix/include/node/common.gypi"; do
    [ -e "$p" ] || { echo "build-image.sh: $p missing: the Node.js at $prefix must come with npm and its headers" >&2; exit 1; }
  done
  echo "build-image.sh: making $node_base from $debian and $node ($("$node" --version))"
  ctx=$(mktemp -d "$store/tmp/node-base.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  cp "$node" "$ctx/node"
  cp -a "$prefix/lib/node_modules/npm" "$ctx/npm"
  cp -a "$prefix/include/node" "$ctx/include"
  cat > "$ctx/Containerfile" <<EOF
FROM $debian
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
LABEL ts-dhcp.base=local
CMD ["node"]
EOF
  podman build --quiet --network host -t "$node_base" "$ctx" >/dev/null
fi

# The build stage's apt-get and npm reach Debian and the npm registry from the host's network; the host's CA bundle
# is offered to npm, so a TLS-intercepting proxy that the host trusts works in the build too.
ca=()
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  ca=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/host-ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca.crt)
fi
echo "build-image.sh: podman build -f deploy/Containerfile -t $image"
podman build --network host "${ca[@]}" -f deploy/Containerfile -t "$image" "$repo"
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "build-image.sh: $image: $((size / 1000000)) MB"
