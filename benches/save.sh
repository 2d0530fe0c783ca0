#!/usr/bin/env bash
# benches/save.sh [SIZE_MB] -- `cairn save` beside `docker save` and `skopeo copy` of the
# same image, in the same run.
#
# The image: one layer, a tar of about SIZE_MB (default 300) MB of files from /usr,
# unpacked with `cairn layer-unpack` (release build) and tagged bench:latest. Then, best of
# RUNS (default 3) wall-clock runs each:
#   cairn save -o FILE bench:latest                        (also --compress gzip and zstd)
#   pigz -6 -p NPROC, zstd -3 -T0 of the layer tar         (the compressors' own speed)
#   skopeo copy oci:$CAIRN_ROOT:bench:latest docker-archive:FILE:bench:latest
#                                                          (the cairn store is an OCI layout)
#   docker save -o FILE bench:latest                       (a private dockerd 20.10, vfs,
#                                                          after `docker load` of cairn's archive)
# and, once the archive exists, `cairn load` of it (into fresh stores) beside the
# `docker load` that had to happen anyway.
# Prints seconds, MB/s of archive written, and each time as a ratio of cairn's.
# Needs root, docker.io, skopeo, GNU tar, pigz, zstd. Everything lives in a temp dir removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${1:-300}
RUNS=${RUNS:-3}
[[ $(id -u) -eq 0 ]] || { echo "bench: must run as root (dockerd)" >&2; exit 1; }
for tool in skopeo tar pigz zstd /usr/bin/docker /usr/sbin/dockerd; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done

echo "# building (release)" >&2
cargo build --release -q
BIN=$PWD/target/release

# Short path: dockerd's containerd socket lives below it.
WORK=$(mktemp -d /tmp/cairn-bench.XXXXXX)
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

export CAIRN_ROOT=$WORK/store
MB=$((1024 * 1024))

# ------------------------------------------------------------------ the layer
# Regular files and symlinks of /usr in path order until SIZE_MB (parents are implied).
echo "# making a ${SIZE_MB} MB layer tar from /usr" >&2
# (awk stops reading early: no pipefail here, sort's SIGPIPE is expected)
set +o pipefail
find /usr -xdev \( -type f -o -type l \) -printf '%s\t%P\0' \
    | sort -z -t $'\t' -k2 \
    | awk -v RS='\0' -v ORS='\0' -v max=$((SIZE_MB * MB)) -F '\t' \
        '{ if (t + $1 > max) exit; t += $1; print "usr/" substr($0, index($0, "\t") + 1) }' \
    >"$WORK/list"
set -o pipefail
tar -C / --null -T "$WORK/list" -cf "$WORK/layer.tar"
layer_bytes=$(stat -c %s "$WORK/layer.tar")

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

faster() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# best NAME CMD...: run CMD RUNS times, keep the fastest wall time in BEST[NAME].
declare -A BEST SIZE
best() {
    local name=$1 s e t i
    shift
    for ((i = 0; i < RUNS; i++)); do
        rm -f "$WORK/out.tar"
        s=$(now)
        "$@" >/dev/null
        e=$(now)
        t=$(elapsed "$s" "$e")
        if [[ -z ${BEST[$name]:-} ]] || faster "$t" "${BEST[$name]}"; then
            BEST[$name]=$t
        fi
    done
    SIZE[$name]=$(stat -c %s "$WORK/out.tar")
    cp "$WORK/out.tar" "$WORK/$name.tar" 2>/dev/null || true
}

s=$(now)
top=$("$BIN/cairn-layer-unpack" "$WORK/layer.tar" | sed -n 's/.*"layer":"\([^"]*\)".*/\1/p')
unpack_t=$(elapsed "$s" "$(now)")
"$BIN/cairn-tag" "$top" bench:latest >/dev/null

echo "# timing, best of $RUNS" >&2
best cairn "$BIN/cairn-save" -o "$WORK/out.tar" bench:latest
best cairn-gzip "$BIN/cairn-save" -o "$WORK/out.tar" --compress gzip bench:latest
best cairn-zstd "$BIN/cairn-save" -o "$WORK/out.tar" --compress zstd bench:latest
best pigz sh -c 'pigz -6 -p "$(nproc)" -c "$1" >"$2"' sh "$WORK/layer.tar" "$WORK/out.tar"
best zstd sh -c 'zstd -3 -T0 -q -c "$1" >"$2"' sh "$WORK/layer.tar" "$WORK/out.tar"
best skopeo skopeo --insecure-policy copy -q \
    "oci:$CAIRN_ROOT:bench:latest" "docker-archive:$WORK/out.tar:bench:latest"

echo "# starting a private dockerd" >&2
dockerd_start "$WORK/d"
s=$(now)
/usr/bin/docker load -q -i "$WORK/cairn.tar" >/dev/null
load_t=$(elapsed "$s" "$(now)")
# cairn load of the same archive, each run into a fresh store (a second load
# into the same store finds every layer there and only checks digests).
cload_t=
for ((i = 0; i < RUNS; i++)); do
    sync
    s=$(now)
    "$BIN/cairn-load" --root "$WORK/load-$i" "$WORK/cairn.tar" >/dev/null
    t=$(elapsed "$s" "$(now)")
    if [[ -z $cload_t ]] || faster "$t" "$cload_t"; then cload_t=$t; fi
done
best docker /usr/bin/docker save -o "$WORK/out.tar" bench:latest
# The three archives hold the same layer (diff ID) and config.
docker_id=$(/usr/bin/docker image inspect --format '{{.Id}}' bench:latest)
cairn_id=$(tar -xOf "$WORK/cairn.tar" manifest.json | sed -n 's/.*"Config":"blobs\/sha256\/\([0-9a-f]*\)".*/sha256:\1/p')
[[ $docker_id == "$cairn_id" ]] || { echo "bench: docker's image ID $docker_id != cairn's $cairn_id" >&2; exit 1; }

echo
echo "image: 1 layer, $((layer_bytes / MB)) MB tar ($(tr -cd '\0' <"$WORK/list" | wc -c) files from /usr); $(nproc) CPUs"
echo "cairn layer-unpack: ${unpack_t}s"
echo "load of cairn's archive: cairn load ${cload_t}s (best of $RUNS), docker load ${load_t}s (once, vfs)"
printf '%-12s %9s %10s %9s %8s\n' tool seconds "MB out" "MB/s" "x cairn"
for name in cairn cairn-gzip cairn-zstd pigz zstd skopeo docker; do
    awk -v n="$name" -v t="${BEST[$name]}" -v sz="${SIZE[$name]}" -v c="${BEST[cairn]}" -v mb=$MB \
        'BEGIN { printf "%-12s %9.3f %10.1f %9.0f %8.2f\n", n, t, sz / mb, sz / mb / t, t / c }'
done
for pair in "cairn-gzip pigz" "cairn-zstd zstd"; do
    read -r ours theirs <<<"$pair"
    awk -v a="${BEST[$ours]}" -v b="${BEST[$theirs]}" -v sa="${SIZE[$ours]}" -v sb="${SIZE[$theirs]}" -v o="$ours" -v t="$theirs" \
        'BEGIN { printf "%s / %s: time %.2fx, size %.3fx\n", o, t, a / b, sa / sb }'
done
