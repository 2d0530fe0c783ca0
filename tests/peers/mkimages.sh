#!/usr/bin/env bash
# mkimages.sh OUTDIR -- build peer-written test images from Debian's busybox-static.
#
# Produces (see tests/peers/README.md):
#   OUTDIR/oci/                          OCI layout, tag busybox:latest (umoci, 2 layers)
#   OUTDIR/skopeo-docker-archive.tar     skopeo copy oci: -> docker-archive:
#   OUTDIR/skopeo-oci-archive.tar        skopeo copy oci: -> oci-archive:
#   OUTDIR/docker-save.tar               docker load (skopeo-docker-archive.tar) + docker save
#   OUTDIR/<name>.config.json            raw image config as the peer reports it
#   OUTDIR/docker-inspect.json           docker image inspect busybox:latest
#   OUTDIR/docker-history.jsonl          docker history --no-trunc --format '{{json .}}'
#
# Needs root and: busybox-static, umoci, skopeo, docker.io (dockerd + /usr/bin/docker), jq.
# Everything is staged in a temp dir and moved into OUTDIR only on success.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

# Fixed timestamps so the umoci output is reproducible run to run.
EPOCH=1704067200                      # 2024-01-01T00:00:00Z
CREATED=2024-01-01T00:00:00Z
CREATED2=2024-01-01T00:01:00Z
CREATED3=2024-01-01T00:02:00Z
CREATED4=2024-01-01T00:03:00Z
TAG=busybox:latest
BUSYBOX=/bin/busybox                  # from busybox-static
DOCKER=/usr/bin/docker                # docker.io 20.10 client (NOT /usr/local/bin/docker)
DOCKERD=/usr/sbin/dockerd

for tool in umoci skopeo jq "$DOCKERD" "$DOCKER" "$BUSYBOX"; do
    command -v "$tool" >/dev/null || { echo "mkimages: missing $tool" >&2; exit 1; }
done
grep -qx ash <("$BUSYBOX" --list) || { echo "mkimages: $BUSYBOX is not a full busybox" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "mkimages: must run as root (dockerd)" >&2; exit 1; }

mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)
# Short path: containerd's socket lives under the exec-root (unix socket paths max 108 bytes).
WORK=$(mktemp -d /tmp/cairn-mk.XXXXXX)
STAGE=$WORK/out
mkdir -p "$STAGE"

DPID=
cleanup() {
    local rc=$?
    set +e
    if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    # dockerd's managed containerd (normally stopped by dockerd itself).
    local cpid
    cpid=$(cat "$WORK/x/containerd/containerd.pid" 2>/dev/null)
    if [[ -n $cpid ]] && kill -0 "$cpid" 2>/dev/null; then
        kill -TERM "$cpid" 2>/dev/null; sleep 1; kill -KILL "$cpid" 2>/dev/null
    fi
    # Any mount left below WORK (netns files, graph driver), deepest first.
    awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo \
        | sort -r | while read -r m; do umount -l "$m"; done
    if [[ $rc -ne 0 && -f $WORK/dockerd.log ]]; then
        echo "mkimages: failed (rc=$rc); last dockerd log lines:" >&2
        tail -n 20 "$WORK/dockerd.log" >&2
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "mkimages: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

stamp() { find "$@" -exec touch -h -d "@$EPOCH" {} +; }

# ---------------------------------------------------------------- 1. umoci
OCI=$STAGE/oci
umoci init --layout "$OCI"
umoci new --image "$OCI:$TAG"
umoci config --image "$OCI:$TAG" --no-history \
    --os linux --architecture amd64 --created "$CREATED" --author "cairn tests <cairn@example.invalid>"

# Layer 1: minimal busybox rootfs.
B1=$WORK/bundle1
umoci unpack --image "$OCI:$TAG" "$B1"
R=$B1/rootfs
install -d -m 0755 "$R"/bin "$R"/etc "$R"/dev "$R"/proc "$R"/sys "$R"/var "$R"/home "$R"/usr/bin
install -d -m 0700 "$R"/root
install -d -m 1777 "$R"/tmp
install -m 0755 "$BUSYBOX" "$R"/bin/busybox
for a in sh ls echo env id mkdir rm pwd sleep test stat; do
    ln -s busybox "$R/bin/$a"                     # symlinks
done
ln "$R"/bin/busybox "$R"/bin/cat                  # hardlinks
ln "$R"/bin/busybox "$R"/bin/true
ln -s ../../bin/busybox "$R"/usr/bin/which
cat >"$R"/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$R"/etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "cairn test image (layer 1; deleted in layer 2)" >"$R"/etc/issue
echo "cairn" >"$R"/etc/hostname
chmod 0644 "$R"/etc/passwd "$R"/etc/group "$R"/etc/issue "$R"/etc/hostname
stamp "$R"
umoci repack --image "$OCI:$TAG" \
    --history.created "$CREATED" \
    --history.author "cairn tests" \
    --history.created_by "/bin/sh -c #(nop) ADD busybox-rootfs / # cairn layer 1" \
    --history.comment "layer 1: minimal busybox rootfs" \
    "$B1"

# Empty-layer history entry between the two layers (umoci config adds one by default).
umoci config --image "$OCI:$TAG" \
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.workingdir / \
    --history.created "$CREATED2" \
    --history.created_by '/bin/sh -c #(nop)  ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --history.comment "empty layer: env"

# Layer 2: add /etc/motd, delete /etc/issue (=> etc/.wh.issue whiteout).
B2=$WORK/bundle2
umoci unpack --image "$OCI:$TAG" "$B2"
echo "hello from layer 2" >"$B2"/rootfs/etc/motd
chmod 0644 "$B2"/rootfs/etc/motd
rm "$B2"/rootfs/etc/issue
stamp "$B2"/rootfs/etc
umoci repack --image "$OCI:$TAG" \
    --history.created "$CREATED3" \
    --history.author "cairn tests" \
    --history.created_by '/bin/sh -c echo "hello from layer 2" > /etc/motd && rm /etc/issue # cairn layer 2' \
    --history.comment "layer 2: add /etc/motd, whiteout /etc/issue" \
    "$B2"

# Remaining runtime config, with a second (trailing) empty-layer history entry.
umoci config --image "$OCI:$TAG" \
    --config.cmd /bin/sh \
    --config.label org.opencontainers.image.title=cairn-busybox \
    --config.label cairn.test=peer \
    --config.exposedports 8080/tcp \
    --config.stopsignal SIGTERM \
    --created "$CREATED4" \
    --history.created "$CREATED4" \
    --history.created_by '/bin/sh -c #(nop)  CMD ["/bin/sh"]' \
    --history.comment "empty layer: cmd, labels, port, stopsignal"
umoci gc --layout "$OCI"

# Sanity: two layers, the second with the whiteout and motd.
layers=$(jq -r '.layers[].digest' "$OCI/blobs/sha256/$(jq -r '.manifests[0].digest' "$OCI/index.json" | cut -d: -f2)")
[[ $(wc -l <<<"$layers") -eq 2 ]] || { echo "mkimages: expected 2 layers" >&2; exit 1; }
l2=$(sed -n 2p <<<"$layers" | cut -d: -f2)
l2list=$(tar -tzf "$OCI/blobs/sha256/$l2")   # (no `tar | grep -q`: SIGPIPE + pipefail)
grep -qx 'etc/.wh.issue' <<<"$l2list" || { echo "mkimages: no whiteout in layer 2" >&2; exit 1; }
grep -qx 'etc/motd' <<<"$l2list" || { echo "mkimages: no motd in layer 2" >&2; exit 1; }

# ---------------------------------------------------------------- 2. skopeo
skopeo --insecure-policy copy -q "oci:$OCI:$TAG" "docker-archive:$STAGE/skopeo-docker-archive.tar:$TAG"
skopeo --insecure-policy copy -q "oci:$OCI:$TAG" "oci-archive:$STAGE/skopeo-oci-archive.tar:$TAG"

# ---------------------------------------------------------------- 3. docker.io
X=$WORK/x
SOCK=$WORK/docker.sock
mkdir -p "$WORK/data" "$X" "$WORK/dcfg" "$WORK/tmp"
# deprecated-key-path: otherwise dockerd 20.10 writes /etc/docker/key.json.
printf '{"deprecated-key-path": "%s/key.json"}\n' "$WORK" >"$WORK/daemon.json"
# Links, addresses and iptables(-legacy) rules, less what cairn's own tests running
# beside this make and remove meanwhile: cairn's veths and bridges, and nftables
# (cairn's NAT table and the network tests' guard tables are nft tables iptables-save
# does not list; ip_forward is cairn's to set too). dockerd runs with --bridge none
# --iptables=false --ip-forward=false: docker0 or an iptables rule would show here.
# A chain's packet counters ([PKTS:BYTES]) move with any traffic: left out.
snapshot_net() {
    {
        ip -o link show | awk -F': ' '{print "link", $2}'
        ip -o addr show | awk '{print "addr", $2, $4}'
        iptables-save 2>/dev/null || true
        iptables-legacy-save 2>/dev/null || true
    } | grep -v '^#' | grep -Ev '^(link|addr) (veth[0-9a-f]{8}|cairn0|cairn-[0-9a-f]{8})' \
      | sed -E 's/ \[[0-9]+:[0-9]+\]$//' | sort || true
}
net_before=$(snapshot_net)

# Private mount namespace with a tmpfs over /run: dockerd hardcodes /run/docker/plugins,
# and would attach to a system containerd if /run/containerd/containerd.sock existed.
# unshare execs (no fork), so $! is dockerd itself. TMPDIR: dockerd SIGUSR1s its containerd
# when killing it, and containerd then dumps containerd.<pid>.stacks.log into $TMPDIR.
TMPDIR=$WORK/tmp unshare --mount --propagation private -- /bin/sh -c 'mount -t tmpfs -o mode=0755 cairn-run /run && exec "$@"' sh \
  "$DOCKERD" \
    --config-file "$WORK/daemon.json" \
    --data-root "$WORK/data" \
    --exec-root "$X" \
    --pidfile "$WORK/docker.pid" \
    --host "unix://$SOCK" \
    --storage-driver vfs \
    --bridge none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --userland-proxy=false \
    >"$WORK/dockerd.log" 2>&1 &
DPID=$!

export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$WORK/dcfg
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
d() { "$DOCKER" "$@"; }
for i in $(seq 1 300); do
    d version >/dev/null 2>&1 && break
    kill -0 "$DPID" 2>/dev/null || { echo "mkimages: dockerd exited" >&2; exit 1; }
    [[ $i -lt 300 ]] || { echo "mkimages: dockerd did not answer in 30s" >&2; exit 1; }
    sleep 0.1
done

d load -q -i "$STAGE/skopeo-docker-archive.tar" >/dev/null
d save "$TAG" -o "$STAGE/docker-save.tar"
d image inspect "$TAG" >"$STAGE/docker-inspect.json"
d history --no-trunc --format '{{json .}}' "$TAG" >"$STAGE/docker-history.jsonl"
d version --format '{{.Server.Version}}' >"$WORK/docker-version"

net_after=$(snapshot_net)
if [[ $net_before != "$net_after" ]]; then
    echo "mkimages: dockerd changed host network state:" >&2
    diff <(echo "$net_before") <(echo "$net_after") >&2 || true
    exit 1
fi

kill -TERM "$DPID"
for _ in $(seq 1 150); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DPID" 2>/dev/null; then echo "mkimages: dockerd did not stop" >&2; exit 1; fi
wait "$DPID" || true
DPID=

# ---------------------------------------------------------------- 4. configs
skopeo inspect --config --raw "oci:$OCI:$TAG" >"$STAGE/oci.config.json"
for name in skopeo-docker-archive docker-save; do
    skopeo inspect --config --raw "docker-archive:$STAGE/$name.tar" >"$STAGE/$name.config.json"
done
skopeo inspect --config --raw "oci-archive:$STAGE/skopeo-oci-archive.tar" >"$STAGE/skopeo-oci-archive.config.json"
for f in "$STAGE"/*.config.json "$STAGE/docker-inspect.json"; do
    jq -e . "$f" >/dev/null || { echo "mkimages: bad JSON in $f" >&2; exit 1; }
done
[[ $(wc -l <"$STAGE/docker-history.jsonl") -eq 4 ]] || { echo "mkimages: expected 4 history rows" >&2; exit 1; }

# ---------------------------------------------------------------- 5. publish
OUTPUTS=(oci skopeo-docker-archive.tar skopeo-oci-archive.tar docker-save.tar
         oci.config.json skopeo-docker-archive.config.json skopeo-oci-archive.config.json
         docker-save.config.json docker-inspect.json docker-history.jsonl)
for o in "${OUTPUTS[@]}"; do
    rm -rf "${OUTDIR:?}/$o"
    mv "$STAGE/$o" "$OUTDIR/$o"
done
echo "# docker server $(cat "$WORK/docker-version"), umoci $(umoci --version | awk '{print $3}'), $(skopeo --version)" >&2
for o in "${OUTPUTS[@]}"; do
    echo "$OUTDIR/$o"
done
