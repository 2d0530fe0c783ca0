#!/usr/bin/env bash
# Start-to-exit time of /bin/true (busybox) in a container: cairn-isolate vs
# crun, runc and bwrap, all in the same run.  See benches/README-isolate.md.
#
#   bash benches/isolate.sh [--no-build] [--no-trace] [WORKDIR]
#
# Environment: ROUNDS (default 6) hyperfine rounds, the order reversed every
# other round so drift in the machine's load hits every tool alike; RUNS
# (default 10) timed runs per command and round; WARMUP (default 3) per round;
# TRACE_RUNS (default 10) runs of cairn under strace (--no-trace: none) and
# 3x that of the untraced step-by-step breakdown.  WORKDIR defaults to
# /var/tmp/cairn-isolate-bench; it is rebuilt fresh on every run.
set -euo pipefail

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

BUILD=1 TRACE=1 WORK=
for arg; do
	case $arg in
	--no-build) BUILD=0 ;;
	--no-trace) TRACE=0 ;;
	-h | --help) usage 0 ;;
	-*) echo "isolate.sh: unknown option $arg" >&2; usage 2 >&2 ;;
	*) WORK=$arg ;;
	esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/benches/lib.sh"
WORK=${WORK:-/var/tmp/cairn-isolate-bench}
ROUNDS=${ROUNDS:-6} RUNS=${RUNS:-10} WARMUP=${WARMUP:-3} TRACE_RUNS=${TRACE_RUNS:-10}
export LC_ALL=C
unset CAIRN_ROOT


[[ $(id -u) == 0 ]] || die "run as root (namespaces, mounts, cgroups)"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[[ $WORK != *[[:space:]]* ]] || die "WORKDIR must not contain spaces (the timed commands are strings)"
STORE=$WORK/store BUNDLE=$WORK/bundle ROOTFS=$WORK/rootfs RES=$WORK/results
CRUN_ID=cairn-bench-crun-$$ RUNC_ID=cairn-bench-runc-$$

# --- prerequisites -----------------------------------------------------------
need=()
bb_static() { # ldd fails on a static binary, and says so
	[[ -x /bin/busybox ]] && [[ $(ldd /bin/busybox 2>&1 || true) == *"not a dynamic"* ]]
}
bb_static || need+=(busybox-static)
command -v crun >/dev/null || need+=(crun)
command -v runc >/dev/null || need+=(runc)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v jq >/dev/null || need+=(jq)
((TRACE)) && ! command -v strace >/dev/null && need+=(strace)
if ((${#need[@]})); then
	say "installing Debian packages: ${need[*]}"
	apt-get update -qq >/dev/null || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		say "warning: apt-get install ${need[*]} failed; going on with what is there"
fi
bb_static || die "/bin/busybox is not the static one (Debian package busybox-static)"
for t in crun runc bwrap jq python3 unshare; do
	command -v "$t" >/dev/null || die "$t is missing"
done
HYPERFINE=${HYPERFINE-$(command -v hyperfine || true)} # HYPERFINE= forces the bash loop

if ((BUILD)); then
	hdr "build"
	(cd "$REPO" && cargo build --release --quiet \
		--bin cairn-layer-unpack --bin cairn-tag --bin cairn-union-mount --bin cairn-isolate)
fi
# Copy the binaries so a concurrent rebuild cannot swap them mid-run.
mkdir -p "$WORK/bin"
for b in cairn-layer-unpack cairn-tag cairn-union-mount cairn-isolate; do
	[[ -x $REPO/target/release/$b ]] || die "$REPO/target/release/$b missing (drop --no-build)"
	cp -f "$REPO/target/release/$b" "$WORK/bin/$b"
done
BIN=$WORK/bin

# --- fresh state -------------------------------------------------------------
# Anything an interrupted run left mounted under WORK goes first, deepest
# first, so rm -rf never walks into a live overlay.
unmount_under() {
	findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
	runc delete -f "$RUNC_ID" >/dev/null 2>&1 || true
	crun delete -f "$CRUN_ID" >/dev/null 2>&1 || true
	unmount_under "$WORK"
}
trap cleanup EXIT
unmount_under "$WORK"
rm -rf "$STORE" "$BUNDLE" "$ROOTFS" "$RES" "$WORK/rootfs.tar"
mkdir -p "$RES"

hdr "machine"
say "date     $(date -u '+%Y-%m-%d %H:%M UTC')"
say "kernel   $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "workdir  $WORK ($(findmnt -n -o FSTYPE,SOURCE -T "$WORK"))"
dirty() { awk '/^(Dirty|Writeback):/ {printf "%s %d MB  ", $1, $2 / 1024}' /proc/meminfo; }
say "memory   $(dirty)(pages waiting to be written: what a sync waits for)"
say "cgroups  $(findmnt -rn -o FSTYPE,TARGET /sys/fs/cgroup/unified 2>/dev/null | grep -q cgroup2 && echo 'hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)' || findmnt -n -o FSTYPE /sys/fs/cgroup)"
say "cairn    $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')"
say "crun     $(crun --version | head -1)"
say "runc     $(runc --version | head -1)"
say "bwrap    $(bwrap --version)"
say "busybox  $(/bin/busybox | head -1)"
if [[ -n $HYPERFINE ]]; then say "timer    $($HYPERFINE --version)"; else say "timer    bash loop with \$EPOCHREALTIME (no hyperfine)"; fi

# --- the busybox rootfs ------------------------------------------------------
hdr "rootfs: /bin/busybox + applet symlinks"
mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,proc,dev,sys,tmp,etc,root}
chmod 1777 "$ROOTFS/tmp"
cp /bin/busybox "$ROOTFS/bin/busybox"
while read -r a; do
	[[ -e $ROOTFS/$a || -L $ROOTFS/$a ]] || ln -s /bin/busybox "$ROOTFS/$a"
done < <(/bin/busybox --list-full)
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -cf "$WORK/rootfs.tar" .
say "$(find "$ROOTFS" | wc -l) entries, $(du -sh "$WORK/rootfs.tar" | cut -f1) tar"

# --- cairn: store, image, container -----------------------------------------
hdr "cairn: layer-unpack, tag, union-mount"
layer=$("$BIN/cairn-layer-unpack" --root "$STORE" "$WORK/rootfs.tar" | jq -r .layer)
"$BIN/cairn-tag" --root "$STORE" "$layer" bench-busybox >/dev/null
rec=$("$BIN/cairn-union-mount" --root "$STORE" bench-busybox)
C=$(jq -r .container <<<"$rec")
say "layer $layer"
say "container $C ($(jq -r .rootfs <<<"$rec"))"
CAIRN="$BIN/cairn-isolate --root $STORE $C -- /bin/true"

# --- OCI bundle for crun and runc --------------------------------------------
hdr "OCI bundle (runc spec; args [/bin/true], terminal false)"
mkdir -p "$BUNDLE"
cp -a "$ROOTFS" "$BUNDLE/rootfs"
(cd "$BUNDLE" && runc spec)
jq '.process.args = ["/bin/true"] | .process.terminal = false' "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
say "namespaces: $(jq -c '[.linux.namespaces[].type]' "$BUNDLE/config.json"), root readonly $(jq .root.readonly "$BUNDLE/config.json")"
runc delete -f "$RUNC_ID" >/dev/null 2>&1 || true
crun delete -f "$CRUN_ID" >/dev/null 2>&1 || true
RUNC="runc run --bundle $BUNDLE $RUNC_ID"

# crun refuses a hybrid cgroup layout; in a private mount namespace without
# the cgroup2 mount it sees plain v1.  Use the wrapper only when needed.
CRUN_DIRECT="crun run --bundle $BUNDLE $CRUN_ID"
WRAP_TRUE= WRAP_FULL=
if $CRUN_DIRECT >"$RES/crun.err" 2>&1; then
	CRUN=$CRUN_DIRECT
	say "crun runs as is: no wrapper"
else
	grep -q hybrid "$RES/crun.err" && findmnt /sys/fs/cgroup/unified >/dev/null ||
		{ cat "$RES/crun.err" >&2; die "crun failed"; }
	CRUN="unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun run --bundle $BUNDLE $CRUN_ID'"
	WRAP_TRUE="unshare -m true"
	WRAP_FULL="unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec /bin/true'"
	say "crun: '$(cat "$RES/crun.err")'; so it runs as"
	say "  $CRUN"
fi
BWRAP="bwrap --bind $ROOTFS / --proc /proc --dev /dev --unshare-all /bin/true"

# --- sanity: each one really runs /bin/true in the rootfs --------------------
hdr "sanity"
check() { if "${@:2}"; then say " ok: $1"; else die "CHECK FAILED: $1"; fi; }
exit_of() { local rc=0; eval "$1" >/dev/null 2>&1 || rc=$?; echo "$rc"; }
check "cairn /bin/true exits 0" test "$(exit_of "$CAIRN")" = 0
check "cairn passes the exit status (7)" \
	test "$(exit_of "$BIN/cairn-isolate --root $STORE $C -- /bin/sh -c 'exit 7'")" = 7
check "cairn: pid 1 in a new pid namespace" \
	test "$(exit_of "$BIN/cairn-isolate --root $STORE $C -- /bin/sh -c '[ \$\$ = 1 ]'")" = 0
check "cairn: view unmounted after exit" bash -c "! findmnt '$STORE/containers/$C/rootfs' >/dev/null"
check "runc /bin/true exits 0" test "$(exit_of "$RUNC")" = 0
check "crun /bin/true exits 0" test "$(exit_of "$CRUN")" = 0
check "bwrap /bin/true exits 0" test "$(exit_of "$BWRAP")" = 0
check "bwrap runs the rootfs's busybox" test "$(exit_of "${BWRAP% /bin/true} /bin/sh -c 'test -L /bin/true'")" = 0

# --- timing ------------------------------------------------------------------
names=(cairn crun runc bwrap)
cmds=("$CAIRN" "$CRUN" "$RUNC" "$BWRAP")
if [[ -n $WRAP_TRUE ]]; then
	names+=(unshare-true unshare-wrap)
	cmds+=("$WRAP_TRUE" "$WRAP_FULL")
fi
n=${#names[@]}
for name in "${names[@]}"; do : >"$RES/$name.times"; : >"$RES/$name.cpu"; done

if [[ -n $HYPERFINE ]]; then
	hdr "timing: hyperfine -N, $ROUNDS rounds x $RUNS runs (+$WARMUP warmup), order reversed every other round"
	for ((r = 1; r <= ROUNDS; r++)); do
		args=() order=()
		for ((k = 0; k < n; k++)); do
			((r % 2)) && i=$k || i=$((n - 1 - k))
			order+=("$i")
			args+=(-n "${names[i]}" "${cmds[i]}")
		done
		"$HYPERFINE" -N --warmup "$WARMUP" --runs "$RUNS" --style none \
			--export-json "$RES/round$r.json" "${args[@]}" >"$RES/round$r.log" 2>&1 ||
			{ cat "$RES/round$r.log" >&2; die "hyperfine round $r failed"; }
		for ((k = 0; k < n; k++)); do
			jq -r ".results[$k].times[]" "$RES/round$r.json" >>"$RES/${names[order[k]]}.times"
			jq -r ".results[$k] | \"\\(.user) \\(.system)\"" "$RES/round$r.json" >>"$RES/${names[order[k]]}.cpu"
		done
		say " round $r done ($(jq -r '[.results[] | "\(.command) \(.mean * 1000 | floor)"] | join(", ")' "$RES/round$r.json") ms)"
	done
else
	hdr "timing: bash loop with \$EPOCHREALTIME, $((ROUNDS * RUNS)) interleaved runs (+$WARMUP warmup)"
	for ((w = 0; w < WARMUP; w++)); do
		for ((i = 0; i < n; i++)); do eval "${cmds[i]}" >/dev/null 2>&1; done
	done
	for ((j = 0; j < ROUNDS * RUNS; j++)); do
		for ((i = 0; i < n; i++)); do
			t0=$EPOCHREALTIME
			eval "${cmds[i]}" >/dev/null 2>&1 || die "${names[i]} failed"
			t1=$EPOCHREALTIME
			echo "${t1/./} ${t0/./}" | awk '{printf "%.6f\n", ($1 - $2) / 1e6}' >>"$RES/${names[i]}.times"
		done
	done
fi

# --- report ------------------------------------------------------------------
say " after: load $(cut -d' ' -f1-3 /proc/loadavg), $(dirty)"
hdr "start-to-exit of /bin/true, ms ($(wc -l <"$RES/cairn.times") runs each)"
python3 - "$RES" "${names[@]}" <<-'EOF' | tee "$RES/summary.txt"
	import statistics as st, sys
	res, names = sys.argv[1], sys.argv[2:]
	t = {n: [float(x) * 1e3 for x in open(f"{res}/{n}.times")] for n in names}
	s = {n: dict(mean=st.mean(v), median=st.median(v), sd=st.stdev(v), min=min(v)) for n, v in t.items()}
	if "unshare-true" in s:  # crun less the wrapper it needs here
	    for base, label in (("unshare-true", "crun-net"), ("unshare-wrap", "crun-net2")):
	        s[label] = {k: s["crun"][k] - s[base][k] for k in ("mean", "median", "min")}
	        s[label]["sd"] = float("nan")
	for n in names:  # CPU (user + system) per run, from hyperfine; empty for the loop
	    cpu = [sum(map(float, l.split())) * 1e3 for l in open(f"{res}/{n}.cpu") if l.strip()]
	    s[n]["cpu"] = st.mean(cpu) if cpu else float("nan")
	ref = s["crun"]
	print(f"{'':13} {'mean':>7} {'median':>7} {'stddev':>7} {'min':>7}   {'/crun':>6} {'/crun-net':>9}   {'cpu':>5}")
	order = [n for n in ("cairn", "crun", "crun-net", "crun-net2", "runc", "bwrap", "unshare-true", "unshare-wrap") if n in s]
	for n in order:
	    v = s[n]
	    net = s.get("crun-net", ref)
	    print(f"{n:13} {v['mean']:7.2f} {v['median']:7.2f} {v['sd']:7.2f} {v['min']:7.2f}"
	          f"   {v['mean'] / ref['mean']:6.2f} {v['mean'] / net['mean']:9.2f}"
	          + (f"   {v['cpu']:5.2f}" if "cpu" in v else ""))
	print("ratios are of means; cpu = user + system ms per run (the process tree, as hyperfine sees it)")
	if "crun-net" in s:
	    print("crun-net = crun - 'unshare -m true'; crun-net2 = crun - the whole wrapper (unshare + sh + umount)")
	c = s["cairn"]
	for ref_name in [n for n in ("crun", "crun-net", "crun-net2") if n in s]:
	    r = s[ref_name]
	    for k in ("mean", "median"):
	        d = c[k] - r[k]
	        word = "slower" if d > 0 else "faster"
	        print(f"cairn vs {ref_name:9} ({k:6}): {abs(d):5.2f} ms {word} ({abs(d) / r[k] * 100:4.0f}%)")
EOF

# --- where cairn's time goes -------------------------------------------------
if ((TRACE)) && command -v strace >/dev/null; then
	hdr "where cairn's time goes: strace -f -T, $TRACE_RUNS runs, wall ms per run (ptrace inflates all of it)"
	for ((i = 1; i <= TRACE_RUNS; i++)); do
		strace -f -T -qq -o "$RES/strace.$i" $CAIRN >/dev/null 2>&1 || true
	done
	python3 - "$RES" "$TRACE_RUNS" <<-'EOF'
		import collections, re, sys
		res, runs = sys.argv[1], int(sys.argv[2])
		tot, calls = collections.Counter(), collections.Counter()
		def label(pid, rest, fds):
		    m = re.match(r"(\w+)\((\d+)?", rest)
		    name, fd = m.group(1), m.group(2)
		    path = fds.get((pid, fd), "")
		    if name in ("write", "read") and "/sys/fs/cgroup/" in path:
		        return f"{name} cgroup {path.rsplit('/', 1)[-1]}"
		    if name in ("fsync", "write") and "state" in path:
		        return f"{name} state.json"
		    return name
		for i in range(1, runs + 1):
		    first, fds, pending = None, {}, {}
		    for l in open(f"{res}/strace.{i}"):
		        m = re.match(r"(\d+)\s+(.*)$", l.rstrip("\n"))
		        if not m:
		            continue
		        pid, rest = m.groups()
		        first = first or pid
		        if rest.endswith("<unfinished ...>"):
		            pending[pid] = (label(pid, rest, fds), rest)
		            continue
		        r = re.match(r"<\.\.\. (\w+) resumed>", rest)
		        call = rest
		        if r:
		            name, head = pending.pop(pid, (r.group(1), ""))
		            call = head + rest
		        elif re.match(r"\w+\(", rest):
		            name = label(pid, rest, fds)
		        else:
		            continue
		        o = re.match(r'openat\(\w+, "([^"]*)".*= (\d+) <', call)
		        if o:
		            fds[(pid, o.group(2))] = o.group(1)
		        d = re.search(r"<([\d.]+)>$", rest)
		        if not d:
		            continue
		        dur = float(d.group(1))
		        who = "isolate" if pid == first else "child"
		        if name in ("read", "wait4", "rt_sigtimedwait") and dur > 2e-4:
		            name += " (waiting)"  # blocked on the other process
		        tot[(who, name)] += dur
		        calls[(who, name)] += 1
		print(f"{'process':8} {'syscall':30} {'ms/run':>7} {'calls/run':>9}")
		for (who, name), d in tot.most_common(12):
		    print(f"{who:8} {name:30} {d * 1e3 / runs:7.2f} {calls[(who, name)] / runs:9.1f}")
		print("isolate's read (waiting) is the child's setup until execve; the child's, isolate")
		print("putting it in its cgroups; isolate's umount2 is the union view going down.")
		print("A tracer inflates the cgroup.procs writes (the child sits in a ptrace stop);")
		print("the untraced steps below are the better guide.")
	EOF
fi

# --- cairn's steps, one by one, without a tracer --------------------------------
# The kernel work isolate does, redone from Python (ctypes) N times: overlay
# mount/umount with cairn's options, cgroup create/join/remove, the
# namespaces, and one durable state write (isolate does two per run).
hdr "cairn's steps one by one (Python, no tracer; $TRACE_RUNS x 3 runs each)"
PARTS=$WORK/parts CG=cairn-bench-parts-$$
rm -rf "$PARTS" && mkdir -p "$PARTS"/{upper,work,mnt}
python3 - "$ROOTFS" "$PARTS" "$((TRACE_RUNS * 3))" "$CG" <<-'EOF' || say "(skipped: $?)"
	import ctypes, os, time, statistics as st, sys
	libc = ctypes.CDLL(None, use_errno=True)
	lower, scratch, n, cg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
	res = {}
	def chk(r, what):
	    if r != 0:
	        e = ctypes.get_errno()
	        raise OSError(e, f"{what}: {os.strerror(e)}")
	def rec(k, t0):
	    res.setdefault(k, []).append((time.perf_counter() - t0) * 1e3)
	ctrls = [c for c in ("memory", "pids", "cpu", "cpuacct", "freezer") if os.path.isdir(f"/sys/fs/cgroup/{c}")]
	dirs = [f"/sys/fs/cgroup/{c}/{cg}" for c in ctrls]
	if not dirs and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
	    dirs = [f"/sys/fs/cgroup/{cg}"]  # pure cgroup v2: one directory
	up, wk, mnt = (f"{scratch}/{d}" for d in ("upper", "work", "mnt"))
	opts = f"lowerdir={lower},upperdir={up},workdir={wk},index=off,redirect_dir=off,metacopy=off".encode()
	# CLONE_NEWNS, NEWUTS, NEWIPC, NEWNET, NEWPID, NEWCGROUP (os.unshare is 3.12+)
	flags = 0x00020000 | 0x04000000 | 0x08000000 | 0x40000000 | 0x20000000 | 0x02000000
	try:
	    for i in range(n):
	        t0 = time.perf_counter(); chk(libc.mount(b"bench", mnt.encode(), b"overlay", 0, opts), "mount"); rec("overlay mount", t0)
	        t0 = time.perf_counter(); chk(libc.umount2(mnt.encode(), 2), "umount"); rec("overlay umount (MNT_DETACH)", t0)
	        t0 = time.perf_counter()
	        for d in dirs:
	            os.mkdir(d)
	        rec(f"cgroup mkdir x{len(dirs)}", t0)
	        r, w = os.pipe()
	        pid = os.fork()
	        if pid == 0:
	            os.read(r, 1)
	            os._exit(0)
	        t0 = time.perf_counter()
	        for d in dirs:
	            with open(f"{d}/cgroup.procs", "w") as f:
	                f.write(str(pid))
	        rec(f"cgroup join x{len(dirs)} (write cgroup.procs)", t0)
	        os.write(w, b"g"); os.waitpid(pid, 0); os.close(r); os.close(w)
	        t0 = time.perf_counter()
	        for d in dirs:
	            os.rmdir(d)
	        rec(f"cgroup rmdir x{len(dirs)}", t0)
	        t0 = time.perf_counter()
	        pid = os.fork()
	        if pid == 0:
	            try:
	                libc.unshare(flags)
	            finally:
	                os._exit(0)
	        os.waitpid(pid, 0)
	        rec("fork + unshare 6 namespaces + exit", t0)
	        t0 = time.perf_counter()
	        p = f"{scratch}/state.json"
	        with open(p + ".tmp", "w") as f:
	            f.write("{}" * 100); f.flush(); os.fsync(f.fileno())
	        os.rename(p + ".tmp", p)
	        fd = os.open(scratch, os.O_RDONLY); os.fsync(fd); os.close(fd)
	        rec("state write: fsync file + rename + fsync dir", t0)
	        t0 = time.perf_counter()
	        fd = os.open(scratch, os.O_RDONLY); chk(libc.syncfs(fd), "syncfs"); os.close(fd)
	        rec("syncfs of the store's fs (what umount waits for)", t0)
	finally:
	    if os.path.ismount(mnt):
	        libc.umount2(mnt.encode(), 2)
	    for d in dirs:
	        if os.path.isdir(d):
	            os.rmdir(d)
	print(f"{'step':50} {'median':>6} {'mean':>6} {'max':>6}  ms")
	for k, v in res.items():
	    print(f"{k:50} {st.median(v):6.2f} {st.mean(v):6.2f} {max(v):6.2f}")
	print("isolate does each of these once per run, the state write twice (start, exit);")
	print("an overlayfs umount syncs the whole upper fs (ovl_sync_fs), so it costs about a syncfs;")
	print("runc and crun write their state without fsync, bwrap keeps none.")
EOF
rm -rf "$PARTS"

say
say "raw times and hyperfine JSON: $RES"
