#!/usr/bin/env bash
# Start-to-exit of /bin/true, two builds of cairn against each other,
# interleaved run by run so the machine's load hits both alike; prints each
# one's median and mean and the paired difference. For "stays within N% of
# before" checks (benches/README-isolate.md).
#
#   bash benches/isolate-ab.sh OLD_REPO NEW_REPO [PAIRS]
#
# Each REPO must hold target/release/cairn-{layer-unpack,tag,union-mount,
# isolate} (cargo build --release). PAIRS defaults to 300. Runs as root.
set -euo pipefail
OLD=${1:?usage: isolate-ab.sh OLD_REPO NEW_REPO [PAIRS]} NEW=${2:?usage: isolate-ab.sh OLD_REPO NEW_REPO [PAIRS]}
PAIRS=${3:-300}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/benches/lib.sh"
[[ $(id -u) == 0 ]] || die "run as root"
WORK=$(mktemp -d /var/tmp/cairn-isolate-ab.XXXXXX)
trap 'for s in "$WORK"/*/store; do for c in "$s"/containers/*; do umount -l "$c/rootfs" 2>/dev/null || true; done; done; rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$ROOTFS/bin/busybox"
ln -s busybox "$ROOTFS/bin/true"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -cf "$WORK/rootfs.tar" .
for v in old new; do
	src=$OLD; [[ $v == new ]] && src=$NEW
	mkdir -p "$WORK/$v/bin"
	for b in cairn-layer-unpack cairn-tag cairn-union-mount cairn-isolate; do
		cp "$src/target/release/$b" "$WORK/$v/bin/" || die "$src/target/release/$b missing"
	done
	B=$WORK/$v/bin S=$WORK/$v/store
	layer=$("$B/cairn-layer-unpack" --root "$S" "$WORK/rootfs.tar" | jq -r .layer)
	"$B/cairn-tag" --root "$S" "$layer" bench >/dev/null
	"$B/cairn-union-mount" --root "$S" --no-mount bench | jq -r .container >"$WORK/$v/id"
done
python3 - "$WORK" "$PAIRS" <<'PY'
import os, resource, statistics as st, subprocess, sys, time
work, n = sys.argv[1], int(sys.argv[2])
def cmd(v):
    cid = open(f"{work}/{v}/id").read().strip()
    return [f"{work}/{v}/bin/cairn-isolate", "--root", f"{work}/{v}/store", cid, "--", "/bin/true"]
t = {"old": [], "new": []}; cpu = {"old": [], "new": []}
def one(v, keep=True):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd(v), check=True, stdin=subprocess.DEVNULL)
    d = (time.perf_counter() - t0) * 1e3
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if keep:
        t[v].append(d)
        cpu[v].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e3)
for v in ("old", "new", "old", "new"):
    one(v, keep=False)
for i in range(n):
    for v in (("old", "new") if i % 2 else ("new", "old")):
        one(v)
for v in ("old", "new"):
    print(f"{v}: median {st.median(t[v]):6.2f} ms  mean {st.mean(t[v]):6.2f} ms  "
          f"min {min(t[v]):5.2f} ms  cpu/run {st.mean(cpu[v]):5.2f} ms")
d = [a - b for a, b in zip(t["new"], t["old"])]
m = st.median(t["old"])
print(f"paired new-old: median {st.median(d):+.2f} ms ({st.median(d) / m * 100:+.1f}% of old's median), "
      f"mean {st.mean(d):+.2f} ms, over {n} pairs")
PY
