#!/usr/bin/env bash
# cairn benchmark: commit of a one-file change on a 300 MB image, against
# umoci repack; export of the container's view, against GNU tar.
# See benches/README-commit.md.
#
#   bash benches/commit.sh [--no-build] [WORKDIR]
#
# Environment: RUNS (30) hyperfine runs of cairn-commit; FRESH (10) fresh
# containers committed once each; UMOCI_RUNS (5); ROUNDS (5) export rounds.
set -euo pipefail

usage() {
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

BUILD=1 WORK=
for arg; do
	case $arg in
	--no-build) BUILD=0 ;;
	-h | --help) usage 0 ;;
	-*) echo "commit.sh: unknown option $arg" >&2; usage 2 >&2 ;;
	*) WORK=$arg ;;
	esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/benches/lib.sh"
WORK=${WORK:-/var/tmp/cairn-commit-bench}
RUNS=${RUNS:-30} FRESH=${FRESH:-10} UMOCI_RUNS=${UMOCI_RUNS:-5} ROUNDS=${ROUNDS:-5}
CHANGE=usr/share/bench-change # the one file; its parents exist in the image
MIN_BYTES=$((300 * 1000 * 1000)) MIN_FILES=20000
BENCH_TAR=/var/tmp/cairn-bench/usr.tar # made by benches/bench.sh; reused if there
export LC_ALL=C
unset CAIRN_ROOT SOURCE_DATE_EPOCH

load() { cut -d' ' -f1-3 /proc/loadavg; }
dirty() { awk '/^Dirty:/ {printf "%.0f MB", $2 / 1024}' /proc/meminfo; }

[[ $(id -u) == 0 ]] || die "run as root (overlay mounts; tar and umoci keep owners)"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# Every tree this run makes lives in a fresh directory of its own. Trees left
# by an interrupted run are deleted at the end, never before measuring: file
# creation right after a large delete is several times slower on this fs.
RUN=$(mktemp -d "$WORK/run.XXXXXX")
STALE=()
for d in "$WORK"/run.*; do [[ $d == "$RUN" || ! -d $d ]] || STALE+=("$d"); done
STORE=$RUN/store BIN=$RUN/bin RES=$RUN/results.tsv
: >"$RES"

# --- prerequisites -----------------------------------------------------------
need_pkg() { # COMMAND PACKAGE
	command -v "$1" >/dev/null && return
	say "installing the Debian package $2"
	apt-get install -y -qq "$2" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}
need_pkg hyperfine hyperfine
need_pkg umoci umoci
[[ -x /usr/bin/time ]] || need_pkg /usr/bin/time time
command -v python3 >/dev/null || die "python3 is needed to read JSON"

TOOLS=(cairn-layer-unpack cairn-tag cairn-union-mount cairn-commit cairn-export cairn-rm)
if ((BUILD)); then
	hdr "build"
	bargs=()
	for b in "${TOOLS[@]}"; do bargs+=(--bin "$b"); done
	# Others may be editing the tree: one retry after a minute.
	(cd "$REPO" && cargo build --release --quiet "${bargs[@]}") ||
		{ say "build failed; retrying in 60 s"; sleep 60; (cd "$REPO" && cargo build --release --quiet "${bargs[@]}"); }
fi
# Copies, so a concurrent rebuild cannot swap them mid-run.
mkdir -p "$BIN"
for b in "${TOOLS[@]}"; do
	[[ -x $REPO/target/release/$b ]] || die "$REPO/target/release/$b missing (drop --no-build)"
	cp -f "$REPO/target/release/$b" "$BIN/$b"
done
c() { local t=$1; shift; "$BIN/cairn-$t" --root "$STORE" "$@"; }
jget() { python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

CONTAINERS=()
cleanup() {
	set +e
	local id m d n
	for id in "${CONTAINERS[@]}"; do c rm -f "$id" >/dev/null 2>&1 || say "warning: cairn-rm -f $id failed"; done
	# What cairn itself left behind once every container is gone.
	for d in containers tmp trash; do
		[[ -d $STORE/$d ]] || continue
		n=$(find "$STORE/$d" -mindepth 1 -maxdepth 1 | wc -l)
		((n == 0)) || say "warning: $n entries left in the store's $d/ after cairn-rm: $(ls "$STORE/$d" | head -3 | paste -sd' ')"
	done
	# Anything still mounted under the workdir (an interrupted run, or a
	# container rm did not unmount) is reported, then taken down.
	while read -r m; do
		say "warning: still mounted after cairn-rm: $m"
		umount "$m" 2>/dev/null || umount -l "$m"
	done < <(findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r)
	rm -rf --one-file-system "$RUN" "${STALE[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hdr "machine"
say "kernel   $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
say "workdir  $RUN ($(findmnt -n -o FSTYPE,SOURCE -T "$WORK"))"
say "versions $(tar --version | head -1); umoci $(umoci --version | awk '{print $3}'); $(hyperfine --version)"
say "cairn    $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')"
say "load     $(load) at start; dirty pages $(dirty)"
LOAD_START=$(load)

# --- 1. the image ------------------------------------------------------------
# The same usr.tar as benches/bench.sh (make_usr_tar in benches/lib.sh).
hdr "image"
if [[ -s $WORK/usr.tar ]]; then
	TAR=$WORK/usr.tar
elif [[ -s $BENCH_TAR ]]; then # bench.sh renames it into place only when complete
	TAR=$BENCH_TAR
else
	make_usr_tar usr.tar "$MIN_BYTES" "$MIN_FILES"
	TAR=$WORK/usr.tar
fi
TAR_BYTES=$(stat -c %s "$TAR") TAR_FILES=$(tar -tf "$TAR" | wc -l)
say "source   $TAR: $(awk -v b="$TAR_BYTES" 'BEGIN {printf "%.1f MB", b / 1e6}'), $TAR_FILES entries"
((TAR_BYTES >= MIN_BYTES && TAR_FILES >= MIN_FILES)) || die "$TAR is below 300 MB / 20,000 entries"
cat "$TAR" >/dev/null # into the page cache, for every tool alike

sync
t0=$EPOCHREALTIME
BASE=$(c layer-unpack --format id "$TAR")
say "imported in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f s", b - a}'): $BASE"
c tag "$BASE" bench:base >/dev/null

# mount_container: a new container on bench:base, mounted, with the change
# written into its view. Sets CID and ROOTFS.
mount_container() {
	local out
	out=$(c union-mount bench:base)
	CID=$(jget container <<<"$out") ROOTFS=$(jget rootfs <<<"$out")
	CONTAINERS+=("$CID")
	printf 'bench change\n' >"$ROOTFS/$CHANGE"
}

# hf NAME CMD...: hyperfine -N; appends "NAME median_ms min_ms runs" to $RES
hf() {
	local name=$1 runs=$2 warm=$3
	shift 3
	sync
	hyperfine -N --style none --warmup "$warm" --runs "$runs" \
		--export-json "$RUN/hf-$name.json" "$(printf '%q ' "$@")" >/dev/null
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(sys.argv[2], "%.1f %.1f %d" % (r["median"] * 1e3, r["min"] * 1e3, len(r["times"])))' \
		"$RUN/hf-$name.json" "$name" | tee -a "$RES"
}
# loop_ms NAME: reads ms values on stdin; appends "NAME median min n" to $RES
loop_stats() {
	sort -g | awk -v n="$1" '{a[NR] = $1} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%s %.1f %.1f %d\n", n, m, a[1], NR}' | tee -a "$RES"
}
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f\n", (b - a) * 1000}'; }
get() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' "$RES"; }

# --- 2. cairn commit of a one-file change ------------------------------------
hdr "cairn-commit of /$CHANGE"
mount_container
C1=$CID RF1=$ROOTFS
out=$(c commit "$C1")
blob=$STORE/blobs/sha256/$(jget diff_id <<<"$out" | cut -d: -f2)
say " the committed layer: $(tar -tvf "$blob" | awk '{print $1, $6}' | paste -sd' ')"
say " a: the same container committed $RUNS times (hyperfine -N; each makes a new layer)"
say "    dirty pages before: $(dirty)"
hf commit-same "$RUNS" 3 "$BIN/cairn-commit" --root "$STORE" "$C1"
say " b: $FRESH fresh containers, each with the change, each committed once"
for ((i = 0; i < FRESH; i++)); do
	mount_container
	sync
	t0=$EPOCHREALTIME
	c commit "$CID" >/dev/null
	ms_since "$t0"
done | loop_stats commit-fresh
# The loop ran in a subshell: find its containers for the cleanup.
mapfile -t CONTAINERS < <(ls "$STORE/containers")
say " where the time goes (one commit under strace -f -c -w: wall time in syscalls, top 6):"
if command -v strace >/dev/null; then
	strace -f -c -w -o "$RUN/strace.txt" "$BIN/cairn-commit" --root "$STORE" "$C1" >/dev/null
	sed -n '3,8p' "$RUN/strace.txt" | awk '{printf "    %-12s %6s%%  %9s s  %6s calls\n", $NF, $1, $2, $4}'
else
	say "    (strace not installed)"
fi

# --- 3. umoci repack of the same change --------------------------------------
hdr "umoci repack of /$CHANGE"
L=$RUN/oci B=$RUN/bundle
umoci init --layout "$L"
umoci new --image "$L:base"
umoci unpack --image "$L:base" "$B" >/dev/null
tar --no-xattrs --no-acls --no-selinux -xf "$TAR" -C "$B/rootfs"
sync
t0=$EPOCHREALTIME
umoci repack --refresh-bundle --image "$L:base" "$B"
say " base: repack --refresh-bundle of the whole tree (gzip) took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f s", b - a}')"
printf 'bench change\n' >"$B/rootfs/$CHANGE"
say " repack --image L:v1 of the same bundle $UMOCI_RUNS times (its mtree stays the base's)"
hf umoci "$UMOCI_RUNS" 1 umoci repack --image "$L:v1" "$B"
top=$(python3 - "$L" <<-'EOF'
	import json, sys
	L = sys.argv[1]
	def blob(d): return "%s/blobs/%s" % (L, d.replace(":", "/"))
	idx = json.load(open(L + "/index.json"))
	m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1"][0]
	print(blob(json.load(open(blob(m["digest"])))["layers"][-1]["digest"]))
EOF
)
say " umoci's layer: $(tar -tvzf "$top" | awk '{print $1, $6}' | paste -sd' ')"

# --- 4. export of the container's view ---------------------------------------
hdr "export of container ${C1:0:12} ($ROUNDS rounds, order rotated, fresh output file each run)"
OUT=$RUN/out
mkdir "$OUT"
EXPORTS=(cairn-export-o cairn-export-stdout tar tar+fsync tar-sort)
run_export() { # NAME ROUND
	local f=$OUT/$1.tar t=$RUN/time.out
	rm -f "$f"
	sync
	case $1 in
	cairn-export-o) set -- "$1" "$BIN/cairn-export" --root "$STORE" "$C1" -o "$f" ;;
	cairn-export-stdout) set -- "$1" bash -c '"$1" --root "$2" "$3" >"$4"' _ "$BIN/cairn-export" "$STORE" "$C1" "$f" ;;
	tar) set -- "$1" tar -cf "$f" -C "$RF1" . ;;
	tar+fsync) set -- "$1" bash -c 'tar -cf "$1" -C "$2" . && sync "$1"' _ "$f" "$RF1" ;;
	tar-sort) set -- "$1" tar --sort=name -cf "$f" -C "$RF1" . ;;
	esac
	/usr/bin/time -f '%e %M %U %S' -o "$t" "${@:2}" 2>"$RUN/err" || { cat "$RUN/err" >&2; die "$1 failed"; }
	printf '%s-run %s\n' "$1" "$(tail -1 "$t")" >>"$RES"
}
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#EXPORTS[@]}; k++)); do
		run_export "${EXPORTS[(k + r) % ${#EXPORTS[@]}]}"
	done
	say " round $((r + 1)): $(awk -v r=$((r + 1)) '$1 ~ /-run$/ && ++n[$1] == r {sub(/-run$/, "", $1); printf "%s %.2f s  ", $1, $2}' "$RES")"
done
for e in "${EXPORTS[@]}"; do
	awk -v n="$e-run" '$1 == n {print $2 * 1000}' "$RES" | loop_stats "$e" >/dev/null
done
names() { tar -tf "$1" | sed 's|^\./||; s|/$||' | grep -v '^\.\?$' | sort; }
names "$OUT/cairn-export-o.tar" >"$RUN/n1"
names "$OUT/tar.tar" >"$RUN/n2"
if cmp -s "$RUN/n1" "$RUN/n2"; then
	say " check ok: cairn-export and tar hold the same $(wc -l <"$RUN/n1") paths"
else
	say " CHECK FAILED: paths differ: $(diff "$RUN/n1" "$RUN/n2" | grep -c '^[<>]') lines, e.g. $(diff "$RUN/n1" "$RUN/n2" | grep '^[<>]' | head -3 | paste -sd' ')"
fi
say " sizes: $(for e in "${EXPORTS[@]}"; do printf '%s %.1f MB  ' "$e" "$(stat -c %s "$OUT/$e.tar" | awk '{print $1 / 1e6}')"; done)"
grep -q "bench change" < <(tar -xOf "$OUT/cairn-export-o.tar" "$CHANGE") &&
	say " check ok: the export holds /$CHANGE" || say " CHECK FAILED: /$CHANGE missing from the export"

# --- 5. summary --------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}'; }
{
	hdr "summary ($(date -u +%Y-%m-%dT%H:%MZ); load $LOAD_START at start, $(load) at end; $(nproc) CPUs)"
	say "image: $(awk -v b="$TAR_BYTES" 'BEGIN {printf "%.0f MB", b / 1e6}'), $TAR_FILES entries; change: one 13-byte file /$CHANGE"
	printf '%-34s %10s %10s %5s\n' "one-file commit" median_ms min_ms runs
	printf '%-34s %10s %10s %5s\n' "cairn-commit, same container" $(get commit-same 2) $(get commit-same 3) $(get commit-same 4)
	printf '%-34s %10s %10s %5s\n' "cairn-commit, fresh containers" $(get commit-fresh 2) $(get commit-fresh 3) $(get commit-fresh 4)
	printf '%-34s %10s %10s %5s\n' "umoci repack" $(get umoci 2) $(get umoci 3) $(get umoci 4)
	say "umoci/cairn (median, same container): $(ratio "$(get umoci 2)" "$(get commit-same 2)")x;" \
		"min: $(ratio "$(get umoci 3)" "$(get commit-same 3)")x; cairn target < 20 ms:" \
		"$(awk -v m="$(get commit-same 2)" 'BEGIN {print (m < 20) ? "met" : "MISSED"}')"
	say
	printf '%-34s %10s %10s %5s %12s\n' "export of the view" median_s min_s runs "tool/cairn-o"
	for e in "${EXPORTS[@]}"; do
		printf '%-34s %10.2f %10.2f %5s %12s\n' "$e" "$(get "$e" 2 | awk '{print $1 / 1000}')" \
			"$(get "$e" 3 | awk '{print $1 / 1000}')" "$(get "$e" 4)" "$(ratio "$(get "$e" 2)" "$(get cairn-export-o 2)")"
	done
	say "(cairn-export -o fsyncs its file; tar+fsync is tar then sync FILE)"
} | tee "$RUN/summary.txt"
cp "$RUN/summary.txt" "$RUN/results.tsv" "$RUN"/hf-*.json "$WORK/" # kept beside the source tar

hdr "cleanup"
cleanup
trap - EXIT
say "removed the containers and $RUN${STALE[*]:+ and ${STALE[*]}}; kept $TAR, $WORK/summary.txt, $WORK/results.tsv"
