#!/usr/bin/env bash
# The docker model, seen through cairn: an image is a stack of read-only
# layers, each pointing at its parent. Runs on a busybox base made from
# Debian's busybox-static, with no registry and no network, in a store of
# its own (kept afterwards so you can look around; its path is printed).
#
#   CAIRN_BIN=DIR   use the cairn binaries in DIR instead of building them
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${CAIRN_BIN:-}" ]]; then
    scripts/deps.sh
    cargo build --quiet
    CAIRN_BIN=$PWD/target/debug
fi
export PATH="$CAIRN_BIN:$PATH"
work=$(mktemp -d /tmp/cairn-walkthrough.XXXXXX)
export CAIRN_ROOT="$work/store"

bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
[[ -t 1 ]] || { bold='' dim='' off=''; }
say() { printf '\n%s## %s%s\n' "$bold" "$*" "$off"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; eval "$@"; }

say "A busybox root file system, from Debian's busybox-static, as a layer tar"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/root"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in sh ls cat echo touch rm mkdir sleep true id hostname ps env; do
    ln -sf busybox "$work/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$work/rootfs/etc/passwd"
printf 'root:x:0:\n' >"$work/rootfs/etc/group"
printf 'Welcome to busybox\n' >"$work/rootfs/etc/issue"
chmod 1777 "$work/rootfs/tmp"
run "tar --sort=name --mtime=@0 --owner=0 --group=0 -C $work/rootfs -cf $work/busybox.tar ."

say "layer-unpack: the tar becomes a read-only layer (its ID is the digest of its metadata)"
run "cairn layer-unpack --created-by 'ADD busybox.tar /' $work/busybox.tar | tee $work/base.json"
base=$(jq -r .layer "$work/base.json")
say "The same tar again gives the same layer: unpacking is idempotent"
run "cairn layer-unpack --created-by 'ADD busybox.tar /' --format id $work/busybox.tar"

say "A second layer on top: adds /etc/motd and deletes /etc/issue (an OCI whiteout)"
mkdir -p "$work/l2/etc"
printf 'hello from layer 2\n' >"$work/l2/etc/motd"
: >"$work/l2/etc/.wh.issue"
run "tar --sort=name --mtime=@0 --owner=0 --group=0 -C $work/l2 -cf $work/l2.tar ."
run "cairn layer-unpack --created-by 'RUN echo hello > /etc/motd && rm /etc/issue' $work/l2.tar --parent $base | tee $work/top.json"
top=$(jq -r .layer "$work/top.json")

say "history: the image is its top layer and the layers below it, top first"
run "cairn history --format table $top"

say "tag: a name is a ref to a layer, like a git ref; images lists tagged images, images -a every layer"
run "cairn tag walk:latest $top >/dev/null"
run "cairn images --format table"
run "cairn images -a --format table"

say "inspect: a layer's metadata, with a pointer to its parent"
run "cairn inspect walk | jq '{layer, parent, diff_id, created_by, size, tags}'"

say "On the host, each layer is a directory; the deletion is overlayfs's whiteout (a 0/0 char device)"
run "ls -l $CAIRN_ROOT/layers/${top#sha256:}/diff/etc"

say "The image is the union view of the stack: one overlay mount, nothing copied"
mkdir -p "$work/view"
run "mount -t overlay overlay -o ro,lowerdir=$CAIRN_ROOT/layers/${top#sha256:}/diff:$CAIRN_ROOT/layers/${base#sha256:}/diff $work/view"
run "cat $work/view/etc/motd; ls $work/view/etc"
run "umount $work/view"

say "The store is an OCI image layout: skopeo reads it and writes a docker-archive"
run "skopeo copy --quiet oci:$CAIRN_ROOT:walk:latest docker-archive:$work/walk.tar:walk:latest"
say "load brings the archive into a fresh store: the same diff_ids and base layer ID; the top layer now also carries the image config, so its ID differs"
run "CAIRN_ROOT=$work/store2 cairn load $work/walk.tar | jq '{layer, tags, diff_ids}'"
run "CAIRN_ROOT=$work/store2 cairn history --format table walk"

say "Done. The store is at $CAIRN_ROOT (remove $work when finished)"
