#!/usr/bin/env bash
# The plumbing steps of two builds of cairn against each other on the same
# ~300 MB, 20,000-entry layer, interleaved pair by pair so the machine's load
# hits both alike: layer-unpack, commit of a one-file change, export, save and
# load. Prints each step's median per build and the paired difference. For
# "no regression after a refactor" checks (benches/README.md, "A/B").
#
#   bash benches/steps-ab.sh OLD_REPO NEW_REPO [PAIRS]
#
# Each REPO must hold target/release/cairn-* (cargo build --release). PAIRS
# (default 5) is the number of pairs for the big steps; commit gets 6x as many.
# Runs as root. The usr tar is kept in /var/tmp/cairn-ab between runs; every
# run unpacks into fresh stores and deletes them only at the end (on a
# no-journal ext4 creating files right after deleting a big tree is slow):
# about 2 GB of disk per pair.
set -euo pipefail
OLD=${1:?usage: steps-ab.sh OLD_REPO NEW_REPO [PAIRS]} NEW=${2:?usage: steps-ab.sh OLD_REPO NEW_REPO [PAIRS]}
PAIRS=${3:-5}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=/var/tmp/cairn-ab
source "$REPO/benches/lib.sh"
[[ $(id -u) == 0 ]] || die "run as root"
mkdir -p "$WORK"
make_usr_tar usr.tar 300000000 20000
RUN=$(mktemp -d "$WORK/run.XXXXXX")
cleanup() {
	for m in $(awk -v r="$RUN" '$2 ~ "^"r {print $2}' /proc/mounts | sort -r); do umount -l "$m" || true; done
	rm -rf "$RUN"
}
trap cleanup EXIT
for v in old new; do
	src=$OLD; [[ $v == new ]] && src=$NEW
	mkdir -p "$RUN/$v/bin"
	for b in cairn-layer-unpack cairn-tag cairn-union-mount cairn-commit cairn-export cairn-save cairn-load; do
		cp "$src/target/release/$b" "$RUN/$v/bin/" || die "$src/target/release/$b missing"
	done
	(cd "$src" && git rev-parse --short HEAD) >"$RUN/$v/commit" 2>/dev/null || echo "?" >"$RUN/$v/commit"
done
python3 - "$RUN" "$WORK/usr.tar" "$PAIRS" <<'PY'
import json, os, statistics as st, subprocess, sys, time
run, tar, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
V = ("old", "new")
def tool(v, name, *args, out=subprocess.DEVNULL):
    return subprocess.run([f"{run}/{v}/bin/cairn-{name}", *args], check=True,
                          stdin=subprocess.DEVNULL, stdout=out)
def cold(*warm):
    # Same start for every run: dirty pages written, clean caches dropped,
    # the input read back into the cache.
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")
    for p in warm:
        subprocess.run(["cat", p], stdout=subprocess.DEVNULL, check=True)
t = {}
def timed(step, v, fn):
    t0 = time.perf_counter()
    fn()
    t.setdefault(step, {"old": [], "new": []})[v].append(time.perf_counter() - t0)
def pairs(k, body):
    for i in range(k):
        for v in (V if i % 2 else V[::-1]):
            body(v, i)

# layer-unpack into fresh stores; the last one of each build is kept for the rest.
store = {}
def unpack(v, i):
    s = f"{run}/{v}/unpack{i}"
    cold(tar)
    timed("layer-unpack", v, lambda: tool(v, "layer-unpack", "--root", s, tar))
    store[v] = s
pairs(n, unpack)
ident = {}
for v in V:
    r = subprocess.run([f"{run}/{v}/bin/cairn-layer-unpack", "--root", store[v], tar],
                       check=True, capture_output=True, text=True)
    # The layer goes to tag as a stdin record: `tag NAME` reads it the same
    # way before and after tag's arguments became docker's SOURCE TARGET.
    subprocess.run([f"{run}/{v}/bin/cairn-tag", "--root", store[v], "bench:base"],
                   input=r.stdout.splitlines()[0], text=True, check=True,
                   stdout=subprocess.DEVNULL)
    r = subprocess.run([f"{run}/{v}/bin/cairn-union-mount", "--root", store[v], "bench:base"],
                       check=True, capture_output=True, text=True)
    rec = json.loads(r.stdout.splitlines()[0])
    ident[v] = rec["container"]
    with open(os.path.join(rec["rootfs"], "usr/share/bench-change"), "w") as f:
        f.write("hello bench\n")

# commit: the same container committed again and again (commit keeps the rw layer).
def commit(v, i):
    os.sync()
    timed("commit", v, lambda: tool(v, "commit", "--root", store[v], ident[v]))
pairs(6 * n, commit)
# One big file each: removed after its run (cheap, unlike a tree), so the
# disk holds only the stores.
def export(v, i):
    cold()
    out = f"{run}/{v}/export{i}.tar"
    timed("export -o", v, lambda: tool(v, "export", "--root", store[v], ident[v], "-o", out))
    os.unlink(out)
pairs(n, export)
def save(v, i):
    cold()
    out = f"{run}/{v}/save{i}.tar"
    timed("save -o", v, lambda: tool(v, "save", "--root", store[v], "-o", out, "bench:base"))
    if i:
        os.unlink(out)  # save0.tar is load's input
pairs(n, save)
def load(v, i):
    cold(f"{run}/{v}/save0.tar")
    timed("load", v, lambda: tool(v, "load", "--root", f"{run}/{v}/load{i}", f"{run}/{v}/save0.tar"))
pairs(n, load)

c = {v: open(f"{run}/{v}/commit").read().strip() for v in V}
print(f"old = {c['old']}, new = {c['new']}; medians in seconds; paired = median of new-old per pair")
print(f"{'step':14} {'old':>9} {'new':>9} {'paired':>9} {'':>7}  {'old min':>9} {'new min':>9}  pairs")
for step, r in t.items():
    d = [b - a for a, b in zip(r["old"], r["new"])]
    m = st.median(r["old"])
    print(f"{step:14} {m:9.4f} {st.median(r['new']):9.4f} {st.median(d):+9.4f} "
          f"{st.median(d) / m * 100:+6.1f}%  {min(r['old']):9.4f} {min(r['new']):9.4f}  {len(d)}")
PY
