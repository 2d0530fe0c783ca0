#!/usr/bin/env bash
# cairn benchmark: layer unpack vs GNU tar and umoci, memory vs layer size, history of a
# 1,000-layer chain.  See benches/README.md.
#
#   bash benches/bench.sh [--clean] [--no-build] [WORKDIR]
#
# Environment: ROUNDS (default 5) timed rounds per tool on usr.tar; ZROUNDS
# (default 3) on its gzip and zstd forms; HISTORY_RUNS (default 30).
set -euo pipefail

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

CLEAN=0 BUILD=1 WORK=
for arg; do
	case $arg in
	--clean) CLEAN=1 ;;
	--no-build) BUILD=0 ;;
	-h | --help) usage 0 ;;
	-*) echo "bench.sh: unknown option $arg" >&2; usage 2 >&2 ;;
	*) WORK=$arg ;;
	esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/benches/lib.sh"
WORK=${WORK:-/var/tmp/cairn-bench}
ROUNDS=${ROUNDS:-5}
ZROUNDS=${ZROUNDS:-3}
HISTORY_RUNS=${HISTORY_RUNS:-30}
MIN_BYTES=$((300 * 1000 * 1000)) MIN_FILES=20000
export LC_ALL=C
unset CAIRN_ROOT


[[ $(id -u) == 0 ]] || die "run as root (GNU tar must preserve owners, as cairn does)"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RUN=$WORK/runs # every fresh extraction target; removed only at the very end
RES=$WORK/results.tsv

# --- prerequisites -----------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
	say "installing the Debian package 'time' (for /usr/bin/time -f '%e %M')"
	apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi
command -v python3 >/dev/null || die "python3 is needed to make the 1,000 tiny layers"
if ! command -v umoci >/dev/null; then
	say "installing the Debian package 'umoci' (the peer that also verifies the layer's digest)"
	apt-get install -y -qq umoci >/dev/null || { apt-get update -qq && apt-get install -y -qq umoci >/dev/null; } ||
		die "umoci is needed: apt-get install umoci"
fi
HYPERFINE=$(command -v hyperfine || true)

if ((BUILD)); then
	hdr "build"
	(cd "$REPO" && cargo build --release --quiet --bin cairn-layer-unpack --bin cairn-history --bin cairn-tag)
fi
# Copy the binaries so a concurrent rebuild cannot swap them mid-run.
mkdir -p "$WORK/bin"
for b in cairn-layer-unpack cairn-history cairn-tag; do
	[[ -x $REPO/target/release/$b ]] || die "$REPO/target/release/$b missing (drop --no-build)"
	cp -f "$REPO/target/release/$b" "$WORK/bin/$b"
done
UNPACK=$WORK/bin/cairn-layer-unpack HISTORY=$WORK/bin/cairn-history TAG=$WORK/bin/cairn-tag
cd "$WORK"

if [[ -e $RUN ]]; then
	say "warning: removing $RUN left by an interrupted run; file creation right after"
	say "         a large delete is slow on this fs, so these numbers may be pessimistic"
	rm -rf "$RUN"
fi
mkdir -p "$RUN"
: >"$RES"
cleanup() { rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM # so the EXIT trap still removes the fresh dirs

hdr "machine"
say "kernel   $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
say "workdir  $WORK ($(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK"))"
say "tar      $(tar --version | head -1)"
say "umoci    $(umoci --version)"
say "cairn    $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')"

# --- source tars -------------------------------------------------------------
describe() { # NAME: real size and entry count
	local f=$WORK/$1
	[[ -s $f.count ]] || tar -tf "$f" | wc -l >"$f.count"
	awk -v n="$1" -v b="$(stat -c %s "$f")" -v c="$(cat "$f.count")" \
		'BEGIN {printf "%-12s %8.1f MB  %7d entries\n", n, b / 1e6, c}'
}

hdr "source tars (kept in $WORK for reuse)"
make_usr_tar usr.tar "$MIN_BYTES" "$MIN_FILES"
base_bytes=$(stat -c %s "$WORK/usr.tar") base_files=$(tar -tf "$WORK/usr.tar" | wc -l)
make_usr_tar usr3x.tar $((3 * base_bytes)) $((3 * base_files))
if [[ ! -s $WORK/rand1g.tar ]]; then
	say "making rand1g.tar: one 1 GiB file from /dev/urandom"
	mkdir -p "$WORK/rand"
	head -c 1G /dev/urandom >"$WORK/rand/big.bin"
	tar -C "$WORK" --format=gnu -cf "$WORK/rand1g.tar.tmp" rand
	rm -rf "$WORK/rand"
	mv "$WORK/rand1g.tar.tmp" "$WORK/rand1g.tar"
fi
for t in usr.tar usr3x.tar rand1g.tar; do describe "$t"; done
((base_bytes >= MIN_BYTES && base_files >= MIN_FILES)) || die "usr.tar below the thresholds"

# Every run's tree is kept until the end (see RUN), so the runs need room for
# all of them: 4 tools x ROUNDS and 7 compressed runs x ZROUNDS of usr.tar,
# 3 each of usr3x.tar and rand1g.tar, and a tenth more for metadata. On a
# full disk even the error would be lost: time's report and tar's stderr are
# files in $RUN.
need=$(((4 * ROUNDS + 7 * ZROUNDS) * base_bytes + 3 * $(stat -c %s "$WORK/usr3x.tar") + 3 * $(stat -c %s "$WORK/rand1g.tar")))
need=$((need + need / 10)) free=$(df --output=avail -B1 "$WORK" | tail -1)
((free >= need)) || die "the runs need about $((need / 1000000000)) GB free in $WORK and it has $((free / 1000000000)) GB: free some, or lower ROUNDS"

# --- timing helpers ----------------------------------------------------------
# fresh_cache FILE: write back, drop the page cache, read FILE back in. A run
# writes hundreds of MB that stay cached; after a few dozen runs kswapd starts
# reclaiming in the middle of a run and every tool slows 2-3x. With this,
# every run starts from the same state.
fresh_cache() {
	sync
	echo 1 >/proc/sys/vm/drop_caches
	cat "$1" >/dev/null
}
# timed LABEL CMD...: one run under /usr/bin/time (after fresh_cache);
# appends "LABEL elapsed_s maxrss_kb user_s sys_s" to $RES. On failure it
# shows the command's stderr and time's report (exit status or signal).
timed() {
	local label=$1 t=$RUN/time.out
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$t" "$@" >"$RUN/last.out" 2>"$RUN/last.err" ||
		{ cat "$RUN/last.err" "$t" >&2; die "$label failed: $*"; }
	printf '%s %s\n' "$label" "$(tail -1 "$t")" >>"$RES"
	printf '  %-16s %s\n' "$label" "$(tail -1 "$t" | awk '{printf "%6.2f s  %5.0f MB RSS  user %5.2f  sys %5.2f", $1, $2/1024, $3, $4}')"
}
# stat_of LABEL FIELD: "median min" of column FIELD (2 = elapsed, 3 = RSS KB, ...)
stat_of() {
	awk -v l="$1" -v f="$2" '$1 == l {print $f}' "$RES" | sort -g |
		awk '{a[NR] = $1} END {if (!NR) {print "nan nan"; exit}
		     m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1]}'
}
max_of() { awk -v l="$1" -v f="$2" '$1 == l && $f > m {m = $f} END {print m + 0}' "$RES"; }

run_tar() { mkdir "$RUN/$1"; fresh_cache "$WORK/$3"; timed "$2" tar --no-xattrs --no-acls --no-selinux -xf "$WORK/$3" -C "$RUN/$1"; }
run_tar_sync() { mkdir "$RUN/$1"; fresh_cache "$WORK/$3"; timed "$2" bash -c 'tar --no-xattrs --no-acls --no-selinux -xf "$1" -C "$2" && sync -f "$2"' _ "$WORK/$3" "$RUN/$1"; }
# make_oci NAME TAR MEDIA_TYPE: WORK/NAME, an OCI image layout whose one layer
# is TAR (hard-linked, not copied), its diff_id usr.tar's sha256, tagged "bench".
make_oci() {
	[[ -s $WORK/$1/index.json ]] && return
	rm -rf "$WORK/$1.tmp"
	python3 - "$WORK/$1.tmp" "$WORK/$2" "$3" "$(cat "$WORK/usr.tar.sha256")" <<-'EOF'
		import hashlib, json, os, sys
		out, tar, media, diff = sys.argv[1:]
		blobs = os.path.join(out, "blobs", "sha256")
		os.makedirs(blobs)
		def put(data):
		    d = hashlib.sha256(data).hexdigest()
		    open(os.path.join(blobs, d), "wb").write(data)
		    return {"digest": "sha256:" + d, "size": len(data)}
		h = hashlib.sha256()
		with open(tar, "rb") as f:
		    for b in iter(lambda: f.read(1 << 20), b""):
		        h.update(b)
		os.link(tar, os.path.join(blobs, h.hexdigest()))
		layer = {"mediaType": media, "digest": "sha256:" + h.hexdigest(), "size": os.path.getsize(tar)}
		config = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
		    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode())
		config["mediaType"] = "application/vnd.oci.image.config.v1+json"
		manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		    "config": config, "layers": [layer]}).encode())
		manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
		manifest["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
		json.dump({"schemaVersion": 2, "manifests": [manifest]}, open(os.path.join(out, "index.json"), "w"))
		json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
	EOF
	mv "$WORK/$1.tmp" "$WORK/$1"
}
# umoci raw unpack hashes the layer and checks it against the config's
# diff_id, as cairn does; it does not sync. Input: the layout's blob (TAR).
run_umoci() { fresh_cache "$WORK/$3"; timed "$2" umoci raw unpack --image "$WORK/$4:bench" "$RUN/$1"; }
run_cairn() { fresh_cache "$WORK/$3"; timed "$2" "$UNPACK" --root "$RUN/$1" "$WORK/$3" && cp "$RUN/last.out" "$RUN/$1.out"; }

# --- 1. unpack: cairn vs GNU tar ---------------------------------------------
[[ -s $WORK/usr.tar.sha256 ]] || sha256sum "$WORK/usr.tar" | cut -d' ' -f1 >"$WORK/usr.tar.sha256"
make_oci usr-oci usr.tar application/vnd.oci.image.layer.v1.tar
hdr "unpack usr.tar: $ROUNDS alternating rounds, each into a fresh dir"
mark=$(cpu_mark)
for ((r = 1; r <= ROUNDS; r++)); do
	say " round $r"
	order=(tar cairn tarsync umoci)
	for ((k = 0; k < 4; k++)); do # rotate the order each round
		case ${order[(k + r - 1) % 4]} in
		tar) run_tar "tar-$r" tar usr.tar ;;
		cairn) run_cairn "cairn-$r" cairn usr.tar ;;
		tarsync) run_tar_sync "tarsync-$r" tar+sync usr.tar ;;
		umoci) run_umoci "umoci-$r" umoci usr.tar usr-oci ;;
		esac
	done
done
steal_since "$mark" | tee "$RUN/steal.txt"

# Where cairn's time goes: one more run under strace (syncfs only, with a
# seccomp filter so nothing else is slowed), split at the syncfs call.
if command -v strace >/dev/null; then
	fresh_cache "$WORK/usr.tar"
	t0=$(date +%s.%N)
	strace --seccomp-bpf -f -qq -e trace=syncfs -T -ttt -o "$RUN/phases.strace" \
		"$UNPACK" --root "$RUN/cairn-phases" "$WORK/usr.tar" >/dev/null
	t1=$(date +%s.%N)
	read -r sf_at sf_took < <(awk '/syncfs/ {at = $2; gsub(/[<>]/, "", $NF); took = $NF} END {print at, took}' \
		"$RUN/phases.strace")
	awk -v t0="$t0" -v t1="$t1" -v at="$sf_at" -v took="$sf_took" 'BEGIN {
		printf " phases of one more cairn run: %.2f s to extract, hash and record the split,\n", at - t0
		printf "   %.2f s in syncfs (durability), %.2f s in all\n", took, t1 - t0 }' | tee "$RUN/phases.txt"
else
	say " (install strace to see how cairn's time splits between extraction and syncfs)"
	: >"$RUN/phases.txt"
fi

# Sanity: cairn's layer holds what tar extracted; diff ID and blob are the tar's sha256.
diff_dir=$(ls -d "$RUN"/cairn-1/layers/*/diff)
n_tar=$(cd "$RUN/tar-1" && find . | wc -l) n_cairn=$(cd "$diff_dir" && find . | wc -l)
n_umoci=$(cd "$RUN/umoci-1" && find . | wc -l)
sum=$(cat "$WORK/usr.tar.sha256")
check() { if "${@:2}"; then say " check ok: $1"; else say " CHECK FAILED: $1"; fi; }
check "$n_tar entries from tar, $n_cairn in the cairn layer, $n_umoci from umoci" \
	bash -c '[[ $1 == "$2" && $1 == "$3" ]]' _ "$n_tar" "$n_cairn" "$n_umoci"
check "diff_id is the tar's sha256 ($sum)" grep -q "\"diff_id\":\"sha256:$sum\"" "$RUN/cairn-1.out"
check "no second copy of the plain tar, a tar-split instead" \
	bash -c '[[ ! -e $1 && -s $(echo $2/layers/*/tar-split) ]]' _ "$RUN/cairn-1/blobs/sha256/$sum" "$RUN/cairn-1"
say " tar-split: $(stat -c %s "$RUN"/cairn-1/layers/*/tar-split | awk '{printf "%.1f MB", $1 / 1e6}')"
# The blob is rebuilt when an image first needs it: time that once.
layer=$(sed -n 's/.*"layer":"\([^"]*\)".*/\1/p' "$RUN/cairn-1.out")
# (from a cold cache: the layer's files are read back from disk)
sync && echo 1 >/proc/sys/vm/drop_caches
timed rebuild "$TAG" --root "$RUN/cairn-1" "$layer" bench
check "tag rebuilt the blob: the tar's exact bytes" \
	bash -c '[[ $(sha256sum <"$1" | cut -d" " -f1) == "$2" ]]' _ "$RUN/cairn-1/blobs/sha256/$sum" "$sum"

# --- 1b. compressed layers: cairn decompresses in process, tar pipes to gzip/zstd
hdr "unpack usr.tar.gz and usr.tar.zst: $ZROUNDS rounds each"
[[ -s $WORK/usr.tar.gz ]] || { say "making usr.tar.gz (gzip -6)"; gzip -6 -c "$WORK/usr.tar" >"$WORK/usr.tar.gz.tmp" && mv "$WORK/usr.tar.gz.tmp" "$WORK/usr.tar.gz"; }
[[ -s $WORK/usr.tar.zst ]] || { say "making usr.tar.zst (zstd -3)"; zstd -q -3 -c "$WORK/usr.tar" >"$WORK/usr.tar.zst.tmp" && mv "$WORK/usr.tar.zst.tmp" "$WORK/usr.tar.zst"; }
make_oci usr-oci-gz usr.tar.gz application/vnd.oci.image.layer.v1.tar+gzip
for z in gz zst; do
	cp "$WORK/usr.tar.count" "$WORK/usr.tar.$z.count"
	for ((r = 1; r <= ZROUNDS; r++)); do
		run_tar "tar-$z-$r" "tar-$z" "usr.tar.$z"
		run_cairn "cairn-$z-$r" "cairn-$z" "usr.tar.$z"
		run_tar_sync "tarsync-$z-$r" "tar+sync-$z" "usr.tar.$z"
		# (Debian's umoci 0.4.7 refuses zstd layers)
		if [[ $z == gz ]]; then run_umoci "umoci-$z-$r" "umoci-$z" "usr.tar.$z" "usr-oci-$z"; fi
	done
done

# --- 2. memory vs layer size -------------------------------------------------
hdr "memory vs layer size (one run each, fresh dirs)"
for t in usr3x rand1g; do
	run_tar "tar-$t" "tar-$t" "$t.tar"
	run_tar_sync "tarsync-$t" "tar+sync-$t" "$t.tar"
	run_cairn "cairn-$t" "cairn-$t" "$t.tar"
done

# --- 3. history of a 1,000-layer chain ---------------------------------------
hdr "history of a 1,000-layer chain"
CHAIN=$RUN/chain TARS=$WORK/chain-tars
if [[ ! -s $TARS/0999.tar ]]; then
	mkdir -p "$TARS"
	python3 - "$TARS" <<-'EOF'
		import io, sys, tarfile
		for i in range(1000):
		    data = b"layer %d\n" % i
		    with tarfile.open("%s/%04d.tar" % (sys.argv[1], i), "w", format=tarfile.GNU_FORMAT) as t:
		        d = tarfile.TarInfo("etc"); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1700000000
		        t.addfile(d)
		        f = tarfile.TarInfo("etc/layer-%04d" % i); f.size = len(data); f.mode = 0o644; f.mtime = 1700000000
		        t.addfile(f, io.BytesIO(data))
	EOF
fi
sync
t0=$(date +%s%N) top=
for ((i = 0; i < 1000; i++)); do
	top=$("$UNPACK" --root "$CHAIN" --format id ${top:+--parent "$top"} "$TARS/$(printf %04d $i).tar")
done
build_ms=$((($(date +%s%N) - t0) / 1000000))
depth=$("$HISTORY" --root "$CHAIN" -q "$top" | wc -l)
say " built $depth layers in $build_ms ms ($((build_ms / 1000)) ms per unpack, each with its syncfs)"
[[ $depth == 1000 ]] || die "history shows $depth layers, want 1000"

# hist_ms NAME ARGS...: median wall ms over HISTORY_RUNS runs, output to /dev/null
hist_ms() {
	local name=$1 j
	shift
	if [[ -n $HYPERFINE ]]; then
		"$HYPERFINE" -N --style none --warmup 3 --runs "$HISTORY_RUNS" \
			--export-json "$RUN/hf-$name.json" "$(printf '%q ' "$@")" >/dev/null 2>"$RUN/hf-$name.err" ||
			{ cat "$RUN/hf-$name.err" >&2; die "hyperfine failed"; }
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f %.1f" % (r["median"]*1e3, r["min"]*1e3))' "$RUN/hf-$name.json"
	else
		for ((j = 0; j < 3; j++)); do "$@" >/dev/null; done
		for ((j = 0; j < HISTORY_RUNS; j++)); do
			t0=$(date +%s%N)
			"$@" >/dev/null
			echo $((($(date +%s%N) - t0) / 1000))
		done | sort -n | awk '{a[NR] = $1} END {printf "%.1f %.1f\n", a[int((NR + 1) / 2)] / 1000, a[1] / 1000}'
	fi
}
say " timing with $([[ -n $HYPERFINE ]] && echo "hyperfine -N" || echo "a date +%s%N loop") ($HISTORY_RUNS runs)"
read -r h_json h_json_min < <(hist_ms json "$HISTORY" --root "$CHAIN" "$top")
read -r h_table h_table_min < <(hist_ms table "$HISTORY" --root "$CHAIN" --format table "$top")
/usr/bin/time -f '%M' -o "$RUN/hist.rss" "$HISTORY" --root "$CHAIN" "$top" >/dev/null
h_rss=$(($(cat "$RUN/hist.rss") / 1024))

# --- summary -----------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
read -r tar_med tar_min < <(stat_of tar 2)
read -r ts_med ts_min < <(stat_of tar+sync 2)
read -r c_med c_min < <(stat_of cairn 2)
{
	hdr "summary ($(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds, usr.tar $(awk -v b="$base_bytes" 'BEGIN{printf "%.0f", b/1e6}') MB / $base_files entries)"
	printf '%-10s %9s %9s %9s %9s %9s %11s %11s\n' tool median_s min_s rss_MB user_s sys_s 'cairn/tool' '(by min)'
	for l in tar tar+sync umoci cairn; do
		read -r med mn < <(stat_of "$l" 2)
		read -r u _ < <(stat_of "$l" 4)
		read -r s _ < <(stat_of "$l" 5)
		printf '%-10s %9.2f %9.2f %9s %9.2f %9.2f %11s %11s\n' "$l" "$med" "$mn" \
			"$(mb "$(max_of "$l" 3)")" "$u" "$s" "$(ratio "$c_med" "$med")" "$(ratio "$c_min" "$mn")"
	done
	say "(cairn hashes the stream, records a tar-split and syncs its staging dir"
	say " before publishing; GNU tar does none of it, tar+sync adds sync -f; umoci raw"
	say " unpack hashes and checks the diff_id too, and does not sync. Rebuilding"
	say " the blob from the split, once, when the layer is first tagged, cold cache: $(stat_of rebuild 2 | cut -d' ' -f1) s)"
	cat "$RUN/phases.txt" "$RUN/steal.txt"
	say
	printf '%-11s %6s %8s %7s %10s %8s %8s %7s %13s\n' layer MB entries tar_s tar+sync_s umoci_s cairn_s tar_RSS cairn_RSS_MB
	row() { # NAME TAR_LABEL TAR_SYNC_LABEL UMOCI_LABEL CAIRN_LABEL
		printf '%-11s %6.0f %8d %7.2f %10.2f %8s %8.2f %7s %13s\n' "$1" "$(stat -c %s "$WORK/$1" | awk '{print $1 / 1e6}')" \
			"$(cat "$WORK/$1.count")" "$(stat_of "$2" 2 | cut -d' ' -f1)" "$(stat_of "$3" 2 | cut -d' ' -f1)" \
			"$(stat_of "$4" 2 | awk '{print $1 == "nan" ? "-" : sprintf("%.2f", $1)}')" \
			"$(stat_of "$5" 2 | cut -d' ' -f1)" "$(mb "$(max_of "$2" 3)")" "$(mb "$(max_of "$5" 3)")"
	}
	row usr.tar tar tar+sync umoci cairn
	row usr3x.tar tar-usr3x tar+sync-usr3x - cairn-usr3x
	row rand1g.tar tar-rand1g tar+sync-rand1g - cairn-rand1g
	row usr.tar.gz tar-gz tar+sync-gz umoci-gz cairn-gz
	row usr.tar.zst tar-zst tar+sync-zst - cairn-zst
	say
	printf 'history, 1,000 layers: json %.1f ms (min %.1f), table %.1f ms (min %.1f), peak RSS %d MB; target < 50 ms: %s\n' \
		"$h_json" "$h_json_min" "$h_table" "$h_table_min" "$h_rss" \
		"$(awk -v a="$h_json" -v b="$h_table" 'BEGIN {print (a < 50 && b < 50) ? "met" : "MISSED"}')"
} | tee "$WORK/summary.txt"

hdr "cleanup"
cleanup
if ((CLEAN)); then
	# Only what this script made, in case WORKDIR holds anything else.
	rm -rf "$WORK"/{usr,usr3x,rand1g}.tar{,.list,.count,.sha256,.tmp} "$WORK"/usr.tar.{gz,zst}{,.count,.tmp} \
		"$WORK"/usr-oci{,-gz}{,.tmp} \
		"$WORK"/{chain-tars,bin,rand} \
		"$WORK"/{results.tsv,summary.txt}
	rmdir "$WORK" 2>/dev/null || true
	say "removed the source tars from $WORK"
else
	say "removed the fresh dirs; source tars kept in $WORK (--clean removes them)"
fi
