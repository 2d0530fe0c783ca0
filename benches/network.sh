#!/usr/bin/env bash
# benches/network.sh [N] -- what a container's network costs at start, in one run:
#
#   cairn run --rm [--network none] busybox true
#       start to exit of /bin/true on the default bridge (a new network namespace, a
#       veth pair on cairn0, an address from the store's IPAM, a route) and on `none`
#       (a namespace with only lo); the difference is what the bridge adds;
#   cairn isolate --network bridge|none C -- /bin/true
#       the same, without the porcelain (no new container, no rm): the plumbing alone;
#   docker run --rm [--network none] busybox true
#       under a private dockerd 20.10 (tests/peers/dockerd.sh), here given a bridge of
#       its own (made by this script, deleted at the end: not the host's docker0) so
#       its default network is a bridge too; still no iptables rules and no forwarding
#       (the engine never touches the host's tables).
#
# N rounds (default 20), the commands interleaved within a round so that a drift of the
# machine hits them alike; prints the median and the fastest wall time of each, and
# bridge minus none for each pair. Also the CPU time (user + system, of the command and
# its children, from /usr/bin/time) of cairn's, which does not depend on the machine's
# load the way wall time does (docker's CPU is spent in dockerd, not in the client, so
# it has none). And, independent of the load too: how often each cairn command ran
# `nft` over the N rounds (an `nft` on PATH that counts, then runs the real one), how
# many changes others made to the host's ruleset meanwhile (`nft monitor`), and the
# syscalls of one more run of each cairn command (`strace -f -c`, when installed).
#
# Then where the difference goes, measured in ways the load does not set:
#   - phases: CAIRN_TRACE=1 marks (CLOCK_MONOTONIC) of cairn-isolate, bridge and
#     none, median per phase over N runs (wall time: on a quiet machine only);
#   - perf stat (when installed): task-clock and context switches of both, the
#     CPU the bridge costs whatever else runs;
#   - netlink requests per run (strace -e sendto), and how many deleted a link
#     (RTM_DELLINK: a synchronous delete waits for an RCU barrier, 15-20 ms);
#   - the floor: benches/netfloor.c (built with cc) makes the same objects with
#     no cairn around them, on a bridge of its own, and times each phase: the
#     namespace, the veth, the address and route, and the veth's end, deleted
#     by the caller or left to the namespace.
#
# PROFILE=debug uses the debug build (a quick check that the script works; its numbers
# say little); BIN=DIR runs the binaries in DIR (cairn, cairn-isolate, cairn-<verb>...)
# and builds nothing. Needs root, docker.io, busybox-static, nft, /usr/bin/time. Everything
# lives in a temp dir removed on exit; cairn's bridge cairn0 stays, as a run leaves it.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-20}
PROFILE=${PROFILE:-release}
[[ $(id -u) -eq 0 ]] || { echo "bench: must run as root" >&2; exit 1; }
for tool in /bin/busybox /usr/bin/docker /usr/sbin/dockerd nft /usr/bin/time ip cc; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done

if [[ -n ${BIN:-} ]]; then
    # binaries built elsewhere (BIN=/var/tmp/cairn-ab/NAME): no build
    BIN=$(cd "$BIN" && pwd)
    [[ -x $BIN/cairn-isolate ]] || { echo "bench: no cairn-isolate in $BIN" >&2; exit 1; }
elif [[ $PROFILE == release ]]; then
    echo "# building (release)" >&2
    cargo build --release -q
    BIN=$PWD/target/$PROFILE
else
    cargo build -q
    BIN=$PWD/target/$PROFILE
fi
# Short path: dockerd's containerd socket lives below it.
WORK=$(mktemp -d /tmp/cairn-netb.XXXXXX)
# cairn finds cairn-<verb> beside itself; the porcelain's tools too. An nft that notes
# which command ran it (BENCH_NAME, set by `timed`) before running the real one.
mkdir -p "$WORK/wrap"
printf '#!/bin/sh\necho "${BENCH_NAME:-setup}" >>"%s/nft.log"\nexec %s "$@"\n' \
    "$WORK" "$(command -v nft)" >"$WORK/wrap/nft"
chmod +x "$WORK/wrap/nft"
export PATH=$WORK/wrap:$BIN:$PATH
DBRIDGE=cbench$$
DBRIDGE=${DBRIDGE:0:15}
FBRIDGE=cfloor$$
FBRIDGE=${FBRIDGE:0:15}
# shellcheck source=../tests/peers/dockerd.sh
source tests/peers/dockerd.sh
cleanup() {
    local rc=$?
    set +e
    [[ -n ${C:-} ]] && "$BIN/cairn" rm -f "$C" >/dev/null 2>&1
    [[ -n ${MONITOR:-} ]] && kill "$MONITOR" 2>/dev/null
    dockerd_stop
    ip link del "$DBRIDGE" 2>/dev/null
    ip link del "$FBRIDGE" 2>/dev/null
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ busybox
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,dev,sys,run}
cp /bin/busybox "$ROOTFS/bin/"
for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$ROOTFS/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"
export CAIRN_ROOT=$WORK/store
tar -cf "$WORK/bb.tar" -C "$ROOTFS" .
layer=$("$BIN/cairn-layer-unpack" "$WORK/bb.tar" | sed -n 's/.*"layer":"\([^"]*\)".*/\1/p')
"$BIN/cairn-tag" "$layer" busybox >/dev/null
"$BIN/cairn-save" --tag busybox:latest -o "$WORK/busybox.tar" "$layer" >/dev/null
C=$("$BIN/cairn" create busybox true)

# ------------------------------------------------------------------ docker, with a bridge
# a subnet the host routes nothing into, for the engine's bridge
subnet=
for b in $(seq 200 250); do
    ip route show to match "10.$b.0.1" | grep -qv '^default' || { subnet=10.$b.0; break; }
done
[[ -n $subnet ]] || { echo "bench: no free 10.x.0.0/24 for docker's bridge" >&2; exit 1; }
ip link add "$DBRIDGE" type bridge
ip addr add "$subnet.1/24" dev "$DBRIDGE"
ip link set "$DBRIDGE" up
echo "# starting dockerd (bridge $DBRIDGE, $subnet.0/24)" >&2
dockerd_start "$WORK/d" --bridge "$DBRIDGE"
"$DOCKER" load -q -i "$WORK/busybox.tar" >/dev/null
net=$("$DOCKER" run --rm busybox:latest ip -4 -o addr show eth0 2>&1 || true)
[[ $net == *"inet $subnet."* ]] || { echo "bench: docker's default network is not its bridge: $net" >&2; exit 1; }

now() { echo "$EPOCHREALTIME"; }
declare -A TIMES CPU

# timed NAME CMD...: run CMD once (it must succeed), add its wall time to TIMES[NAME]
# and its CPU time (user + system, children included) to CPU[NAME].
timed() {
    local name=$1 s e
    shift
    s=$(now)
    BENCH_NAME=$name /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@" >/dev/null 2>"$WORK/err" ||
        { echo "bench: $name failed: $(cat "$WORK/err")" >&2; exit 1; }
    e=$(now)
    TIMES[$name]+="$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.6f", b - a }') "
    CPU[$name]+="$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/cpu") "
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -g |
    awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1] }'; }

NAMES=(cairn-run/bridge cairn-run/none cairn-isolate/bridge cairn-isolate/none docker-run/bridge docker-run/none)
round() {
    timed cairn-run/bridge "$BIN/cairn" run --rm busybox true
    timed cairn-run/none "$BIN/cairn" run --rm --network none busybox true
    timed cairn-isolate/bridge "$BIN/cairn-isolate" --network bridge "$C" -- /bin/true
    timed cairn-isolate/none "$BIN/cairn-isolate" --network none "$C" -- /bin/true
    timed docker-run/bridge "$DOCKER" run --rm busybox:latest true
    timed docker-run/none "$DOCKER" run --rm --network none busybox:latest true
}
echo "# warm-up" >&2
round
TIMES=() CPU=()
: >"$WORK/nft.log"
nft monitor ruleset >"$WORK/monitor" 2>&1 &
MONITOR=$!
echo "# $N rounds" >&2
for ((i = 0; i < N; i++)); do round; done
kill "$MONITOR" 2>/dev/null
wait "$MONITOR" 2>/dev/null || true
MONITOR=

printf '\n== start to exit of /bin/true (N=%s; load now %s)\n' "$N" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %10s %10s %12s\n' command median_ms best_ms cpu_median_ms
declare -A MED
for name in "${NAMES[@]}"; do
    read -r med best < <(median <<<"${TIMES[$name]}")
    read -r cpu _ < <(median <<<"${CPU[$name]}")
    MED[$name]=$med
    [[ $name == docker-* ]] && cpu=nan
    awk -v n="$name" -v m="$med" -v b="$best" -v c="$cpu" \
        'BEGIN { printf "%-22s %10.1f %10.1f %12s\n", n, m * 1000, b * 1000, (c == "nan") ? "-" : sprintf("%.1f", c * 1000) }'
done
printf '\n== what the bridge adds (median bridge - median none)\n'
for tool in cairn-run cairn-isolate docker-run; do
    awk -v n="$tool" -v a="${MED[$tool/bridge]}" -v b="${MED[$tool/none]}" \
        'BEGIN { printf "%-22s %+9.1f ms\n", n, (a - b) * 1000 }'
done

printf '\n== what does not depend on the load\n'
printf '%-22s %12s %16s\n' command nft_runs syscalls_one_run
for name in "${NAMES[@]}"; do
    [[ $name == docker-* ]] && continue
    runs=$(grep -cx "$name" "$WORK/nft.log" || true)
    calls=-
    if command -v strace >/dev/null; then
        case $name in
        cairn-run/bridge) cmd=("$BIN/cairn" run --rm busybox true) ;;
        cairn-run/none) cmd=("$BIN/cairn" run --rm --network none busybox true) ;;
        cairn-isolate/bridge) cmd=("$BIN/cairn-isolate" --network bridge "$C" -- /bin/true) ;;
        cairn-isolate/none) cmd=("$BIN/cairn-isolate" --network none "$C" -- /bin/true) ;;
        esac
        strace -f -c -o "$WORK/strace" "${cmd[@]}" >/dev/null 2>&1
        calls=$(awk '$NF == "total" { print $4 }' "$WORK/strace")
    fi
    printf '%-22s %12s %16s\n' "$name" "$runs/$N" "$calls"
done
# each change nft monitor reports is one line; cairn's own name its table
others=$(grep -v '^#' "$WORK/monitor" | grep -cv ' ip cairn ' || true)
printf 'changes to the ruleset by others during the rounds (nft monitor): %s\n' "$others"

# ------------------------------------------------------------------ where it goes
printf '\n== phases of cairn-isolate (CAIRN_TRACE marks; median ms over %s runs; wall time)\n' "$N"
for ((i = 0; i < N; i++)); do
    for m in bridge none; do
        CAIRN_TRACE=1 "$BIN/cairn-isolate" --network "$m" "$C" -- /bin/true 2>&1 >/dev/null |
            awk -v m="$m" '$2 == "trace:" { t = $3; if (p) printf "%s\t%s\t%.3f\n", m, l, (t - p) * 1000; p = t; l = $4; for (i = 5; i <= NF; i++) l = l " " $i }'
    done
done >"$WORK/phases"
awk -F'\t' '{ k = $2; if (!(k in seen)) { seen[k] = ++n; name[n] = k } v[$1, k] = v[$1, k] " " $3 }
    function med(s,   a, c, i, j, t) { c = split(s, a, " "); if (!c) return "-";
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return sprintf("%.2f", a[int((c + 1) / 2)]) }
    END { printf "%-22s %9s %9s\n", "phase", "bridge", "none";
          for (i = 1; i <= n; i++) printf "%-22s %9s %9s\n", name[i], med(v["bridge", name[i]]), med(v["none", name[i]]) }' "$WORK/phases"

if command -v perf >/dev/null; then
    printf '\n== perf stat of cairn-isolate, %s runs each (CPU, not wall)\n' "$N"
    for m in bridge none; do
        perf stat -x, -r "$N" -e task-clock,context-switches,cpu-migrations \
            "$BIN/cairn-isolate" --network "$m" "$C" -- /bin/true 2>"$WORK/perf" >/dev/null
        awk -F, -v m="$m" '{ printf "%-8s %-18s %12s %s\n", m, $3, $1, $2 }' "$WORK/perf"
    done
fi

if command -v strace >/dev/null; then
    printf '\n== netlink requests of one cairn-isolate --network bridge\n'
    strace -f -e trace=sendto,sendmsg -e signal=none -T -o "$WORK/nl" \
        "$BIN/cairn-isolate" --network bridge "$C" -- /bin/true >/dev/null 2>&1
    printf 'rtnetlink requests: %s   RTM_DELLINK: %s   longest request: %s s\n' \
        "$(grep -c 'RTM_\|NLMSG' "$WORK/nl")" "$(grep -c RTM_DELLINK "$WORK/nl")" \
        "$(grep -o '<[0-9.]*>$' "$WORK/nl" | tr -d '<>' | sort -g | tail -1)"
fi

printf '\n== the floor: the same objects made by benches/netfloor.c (%s rounds)\n' "$N"
cc -O2 -o "$WORK/netfloor" benches/netfloor.c
if ip route show to match 10.254.0.1 | grep -qv '^default'; then
    echo "bench: 10.254.0.0/16 is routed here: no floor measured" >&2
    exit 0
fi
ip link add "$FBRIDGE" type bridge
ip addr add 10.254.0.1/16 dev "$FBRIDGE"
ip link set "$FBRIDGE" up
for mode in none async del nodel; do
    echo "-- $mode"
    "$WORK/netfloor" "$N" "$FBRIDGE" 10.254.0.1 "$mode"
done
