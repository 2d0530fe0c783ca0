#!/usr/bin/env bash
# benches/runtime.sh [N] -- cairn-runtime beside runc and crun, in the same run:
#
#   docker run --rm --network none --runtime R busybox true
#       under a private dockerd 20.10 (tests/peers/dockerd.sh, overlay2 unless
#       DOCKERD_STORAGE says otherwise) with cairn-runtime and
#       crun added as runtimes; docker's own seccomp profile, so each runtime compiles
#       it (cairn-runtime too: docker's differs from the one cairn carries compiled);
#   R run --bundle B ID
#       start to exit of `true` from one busybox bundle (config.json from
#       `cairn-runtime spec`, cairn's default seccomp profile, which cairn-runtime
#       takes precompiled and runc and crun compile).
#
# N rounds (default 20), the runtimes interleaved within a round so that a drift of the
# machine hits them alike; prints the median and the fastest wall time of each, the
# median as a ratio of cairn's (runc 1.40: runc takes 1.4 times cairn's time), and for
# the bundle runs the median CPU time (user+sys of the runtime and the container, which
# load hardly changes; docker's CPU is spent in its daemons, not measured). Times from
# bash's `time` of each call (its children waited for). The last lines say whether the
# issue's targets are met: docker run with cairn faster than with runc and within 10%
# of crun.
#
# crun refuses the hybrid cgroup layout (v1 controllers beside a v2 mount that has
# some): where /sys/fs/cgroup/unified exists, crun runs through a wrapper that unshares
# a mount namespace and unmounts it first (as tests/runtime.rs does), which adds an
# unshare and a sh to each of its calls; the bundle runs of all three happen in one
# such namespace, so there they are alike.
#
# PROFILE=debug uses the debug build (a quick check that the script works; its numbers
# say little). Needs root, docker.io, runc, crun, busybox-static. Everything lives in a
# temp dir removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-20}
PROFILE=${PROFILE:-release}
[[ $(id -u) -eq 0 ]] || { echo "bench: must run as root" >&2; exit 1; }
for tool in runc crun /bin/busybox /usr/bin/docker /usr/sbin/dockerd; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done

if [[ $PROFILE == release ]]; then
    echo "# building (release)" >&2
    cargo build --release -q
else
    cargo build -q
fi
BIN=$PWD/target/$PROFILE

# Short path: dockerd's containerd socket lives below it.
WORK=$(mktemp -d /tmp/cairn-rtb.XXXXXX)
# shellcheck source=../tests/peers/dockerd.sh
source tests/peers/dockerd.sh
cleanup() {
    local rc=$?
    set +e
    dockerd_stop
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ busybox
ROOTFS=$WORK/bundle/rootfs
mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,dev,sys,run}
cp /bin/busybox "$ROOTFS/bin/"
for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$ROOTFS/bin/$a"
done
# a docker archive of it, made by cairn (its own store under WORK)
export CAIRN_ROOT=$WORK/store
tar -cf "$WORK/bb.tar" -C "$ROOTFS" .
layer=$("$BIN/cairn-layer-unpack" "$WORK/bb.tar" | sed -n 's/.*"layer":"\([^"]*\)".*/\1/p')
"$BIN/cairn-save" --tag busybox:bench -o "$WORK/busybox.tar" "$layer" >/dev/null
"$BIN/cairn-runtime" spec --bundle "$WORK/bundle"
sed -i 's/"args":\["sh"\]/"args":["true"]/' \
    "$WORK/bundle/config.json"
grep -q '"true"' "$WORK/bundle/config.json" || { echo "bench: could not set args" >&2; exit 1; }

CRUN=/usr/bin/crun
if [[ -d /sys/fs/cgroup/unified ]]; then
    CRUN=$WORK/crun
    printf '#!/bin/sh\nexec unshare -m sh -c %s sh "$@"\n' \
        "'umount /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun \"\$@\"'" >"$CRUN"
    chmod +x "$CRUN"
fi

echo "# starting dockerd" >&2
# docker's default storage driver, as a user's engine has it (the tests' engine uses vfs)
export DOCKERD_STORAGE=${DOCKERD_STORAGE:-overlay2}
dockerd_start "$WORK/d" --add-runtime "cairn=$BIN/cairn-runtime" --add-runtime "crun=$CRUN"
"$DOCKER" load -q -i "$WORK/busybox.tar" >/dev/null

declare -A TIMES CPU

# timed NAME CMD...: run CMD once (it must succeed), add its wall time to TIMES[NAME]
# and its CPU time (user+sys, children included) to CPU[NAME].
timed() {
    local name=$1 t real user sys
    shift
    t=$({ TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>"$WORK/err"; } 2>&1) ||
        { echo "bench: $name failed: $(cat "$WORK/err")" >&2; exit 1; }
    read -r real user sys <<<"$t"
    TIMES[$name]+="$real "
    CPU[$name]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }') "
}

# stats LIST: the median and the smallest of the numbers in LIST.
stats() {
    tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
        awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1] }'
}

# report TITLE BASE NAME...: median and fastest of each NAME, median ratio to BASE's,
# median CPU where measured.
report() {
    local title=$1 base=$2 name med best cpu base_med _
    shift 2
    printf '\n== %s (N=%s)\n%-12s %10s %10s %8s %10s\n' "$title" "$N" runtime median_ms best_ms "/$base" cpu_ms
    read -r base_med _ < <(stats "${TIMES[$title/$base]}")
    for name in "$@"; do
        read -r med best < <(stats "${TIMES[$title/$name]}")
        cpu=-
        [[ -n ${CPU[$title/$name]:-} ]] && read -r cpu _ < <(stats "${CPU[$title/$name]}")
        awk -v n="$name" -v m="$med" -v b="$best" -v c="$base_med" -v u="$cpu" \
            'BEGIN { printf "%-12s %10.1f %10.1f %8.2f %10s\n", n, m * 1000, b * 1000, m / c,
                     (u == "-") ? "-" : sprintf("%.1f", u * 1000) }'
    done
}

# verdict: the issue's targets for docker run, from the medians.
verdict() {
    local cairn runc crun _
    read -r cairn _ < <(stats "${TIMES[docker/cairn]}")
    read -r runc _ < <(stats "${TIMES[docker/runc]}")
    read -r crun _ < <(stats "${TIMES[docker/crun]}")
    awk -v a="$cairn" -v r="$runc" -v c="$crun" 'BEGIN {
        printf "\ntarget: docker run with cairn faster than with runc: %s (cairn/runc %.2f)\n",
            (a < r) ? "met" : "NOT met", a / r
        printf "target: docker run with cairn within 10%% of crun: %s (cairn/crun %.2f)\n",
            (a <= c * 1.10) ? "met" : "NOT met", a / c }'
}

RUNTIMES=(cairn runc crun)
echo "# docker run, $N rounds" >&2
for r in "${RUNTIMES[@]}"; do # warm-up: the first run of each loads caches
    "$DOCKER" run --rm --network none --runtime "$r" busybox:bench true
done
for ((i = 0; i < N; i++)); do
    for r in "${RUNTIMES[@]}"; do
        timed "docker/$r" "$DOCKER" run --rm --network none --runtime "$r" busybox:bench true
    done
done

CPU=() # the docker client's alone: the work is in dockerd and containerd
echo "# bundle run, $N rounds" >&2
# in a mount namespace without the v2 mount where the layout is hybrid (crun's limit),
# for all three alike
bundle_round() {
    timed "bundle/cairn" "$BIN/cairn-runtime" --root "$WORK/st-cairn" run --bundle "$WORK/bundle" "b$1"
    timed "bundle/runc" runc --root "$WORK/st-runc" run --bundle "$WORK/bundle" "b$1"
    timed "bundle/crun" /usr/bin/crun --root "$WORK/st-crun" run --bundle "$WORK/bundle" "b$1"
}
export -f bundle_round timed
export BIN WORK N
OUT=$(unshare -m bash -c '
    set -euo pipefail
    umount /sys/fs/cgroup/unified 2>/dev/null || true
    declare -A TIMES CPU
    bundle_round warm >/dev/null; TIMES=(); CPU=()
    for ((i = 0; i < N; i++)); do bundle_round "$i"; done
    for k in "${!TIMES[@]}"; do printf "T %s=%s\n" "$k" "${TIMES[$k]}"; done
    for k in "${!CPU[@]}"; do printf "C %s=%s\n" "$k" "${CPU[$k]}"; done
')
while IFS='=' read -r k v; do
    case $k in
    "T "*) TIMES[${k#T }]=$v ;;
    "C "*) CPU[${k#C }]=$v ;;
    esac
done <<<"$OUT"

report docker cairn "${RUNTIMES[@]}"
report bundle cairn "${RUNTIMES[@]}"
verdict
