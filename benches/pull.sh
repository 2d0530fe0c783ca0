#!/usr/bin/env bash
# benches/pull.sh [SIZE_MB] [LAYERS] -- `cairn pull` from a registry on the loopback beside
# `skopeo copy` + unpack (the same work in two steps) and `docker pull`, in the same run.
#
# The image: LAYERS (default 3) layers cut from a tar of about SIZE_MB (default 400) MB of
# files from /usr in path order (FILES=N instead: one layer of at least SIZE_MB MB and N
# entries, many small files, as benches/bench.sh makes them), unpacked with `cairn layer-unpack --parent` (release
# build), tagged and pushed with `cairn push` (gzip, OCI manifest) to Debian's
# docker-registry (distribution 2.8) on 127.0.0.1 with its storage in the work dir. Then,
# RUNS (default 3) times each, every run into a fresh destination, `sync` before each:
#   cairn pull REF                       download, verify, decompress, unpack, syncfs
#   skopeo copy docker://REF oci:DIR     download and verify only, then one of
#     umoci raw unpack --image DIR ROOT  unpack every layer into one tree (no sync)
#     cairn layer-unpack --parent …      each layer blob of DIR in order, into a store
#   docker pull REF                      a private engine (20.10, overlay2: docker's default
#                                        driver; DOCKERD_STORAGE=vfs to compare with the
#                                        tests' engine), a fresh one for each run
# Then push, each run into a registry with fresh storage (restarted between runs, so
# nothing is skipped or mounted), the same gzip blobs either way:
#   cairn push IMAGE REF2                the image as pulled (its blobs sent as they came)
#   skopeo copy oci:DIR docker://REF2    the same image from skopeo's download
# Prints the best time of each, the two-step sums, and each as a ratio of cairn's.
# Needs root, docker.io, docker-registry, skopeo, umoci, jq, GNU tar. Everything lives in
# a temp dir removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${1:-400}
LAYERS=${2:-3}
RUNS=${RUNS:-3}
[[ $(id -u) -eq 0 ]] || { echo "bench: must run as root (dockerd)" >&2; exit 1; }
for tool in skopeo umoci jq tar docker-registry /usr/bin/docker /usr/sbin/dockerd; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done

echo "# building (release)" >&2
cargo build --release -q --bin cairn-pull --bin cairn-push --bin cairn-layer-unpack --bin cairn-tag
BIN=$PWD/target/release

# Short path: dockerd's containerd socket lives below it.
WORK=$(mktemp -d /tmp/cairn-pull.XXXXXX)
# shellcheck source=../tests/peers/dockerd.sh
source tests/peers/dockerd.sh
REG_PID=
REG2_PID=
cleanup() {
    local rc=$?
    set +e
    dockerd_stop
    [[ -n $REG_PID ]] && kill "$REG_PID" && wait "$REG_PID"
    [[ -n $REG2_PID ]] && kill "$REG2_PID" && wait "$REG2_PID"
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CAIRN_ROOT=$WORK/store
MB=$((1024 * 1024))
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
faster() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# ------------------------------------------------------------------ the image
parent=()
files=0
if [[ -n ${FILES:-} ]]; then
    # One layer of at least SIZE_MB MB and FILES entries (/usr/include, then
    # /usr/share and /usr/lib: many small files), as benches/bench.sh makes its tars.
    echo "# making 1 layer, at least $SIZE_MB MB and $FILES entries, from /usr" >&2
    # shellcheck source=lib.sh
    source benches/lib.sh
    make_usr_tar layer.tar $((SIZE_MB * MB)) "$FILES" >&2
    files=$(tar -tf "$WORK/layer.tar" | wc -l)
    top=$("$BIN/cairn-layer-unpack" "$WORK/layer.tar" | jq -r .layer)
    rm "$WORK/layer.tar"
    LAYERS=1
else
    echo "# making $LAYERS layers, $SIZE_MB MB in all, from /usr" >&2
    set +o pipefail
    find /usr -xdev \( -type f -o -type l \) -printf '%s\t%P\0' \
        | sort -z -t $'\t' -k2 \
        | awk -v RS='\0' -v ORS='\0' -v max=$((SIZE_MB * MB)) -v n="$LAYERS" -v dir="$WORK" -F '\t' \
            '{ if (t + $1 > max) next; t += $1; i = int(t * n / (max + 1));
               print "usr/" substr($0, index($0, "\t") + 1) > (dir "/list." i) }'
    set -o pipefail
    for ((i = 0; i < LAYERS; i++)); do
        tar -C / --null -T "$WORK/list.$i" -cf "$WORK/layer.tar"
        files=$((files + $(tr -cd '\0' <"$WORK/list.$i" | wc -c)))
        top=$("$BIN/cairn-layer-unpack" "${parent[@]}" "$WORK/layer.tar" | jq -r .layer)
        parent=(--parent "$top")
        rm "$WORK/layer.tar"
    done
fi
"$BIN/cairn-tag" "$top" bench:latest >/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# registry NAME HOST:PORT: serve a registry with its storage in $WORK/NAME; its pid in $!.
registry() {
    local port=${2##*:}
    rm -rf "${WORK:?}/$1"
    mkdir -p "$WORK/$1"
    printf '{"version": 0.1, "log": {"level": "warn"}, "http": {"addr": "%s"},
  "storage": {"filesystem": {"rootdirectory": "%s"}}}\n' "$2" "$WORK/$1" >"$WORK/$1.yml"
    docker-registry serve "$WORK/$1.yml" >"$WORK/$1.log" 2>&1 &
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
}
REG=127.0.0.1:$(free_port)
registry registry "$REG"
REG_PID=$!
REF=$REG/bench:latest
echo "# pushing to $REF" >&2
"$BIN/cairn-push" bench:latest "$REF" >/dev/null 2>&1
blob_mb=$(du -sm "$WORK/registry" | cut -f1)

# best NAME CMD...: run CMD RUNS times (CMD sees the run number in $RUN), keep the
# fastest wall time in BEST[NAME]. Every run unpacks into a directory of its own and
# nothing unpacked is deleted before the end: on ext4 without a journal, creating many
# files right after deleting a large tree is 5-10x slower, for every tool.
declare -A BEST
best() {
    local name=$1 s t
    shift
    for ((RUN = 0; RUN < RUNS; RUN++)); do
        before_run
        sync
        s=$(now)
        "$@" >/dev/null
        t=$(elapsed "$s" "$(now)")
        if [[ -z ${BEST[$name]:-} ]] || faster "$t" "${BEST[$name]}"; then BEST[$name]=$t; fi
        after_run
    done
}
before_run() { :; }
after_run() { :; }

cairn_pull() { "$BIN/cairn-pull" --root "$WORK/pull$RUN/store" "$REF"; }
skopeo_copy() { skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "oci:$WORK/oci:bench"; }
umoci_unpack() { mkdir -p "$WORK/umoci$RUN" && umoci raw unpack --image "$WORK/oci:bench" "$WORK/umoci$RUN/rootfs"; }
cairn_unpack() {
    local m p=() l
    m=$(jq -r '.manifests[0].digest' "$WORK/oci/index.json")
    for l in $(jq -r '.layers[].digest' "$WORK/oci/blobs/sha256/${m#sha256:}"); do
        l=$("$BIN/cairn-layer-unpack" --root "$WORK/unpack$RUN/store" "${p[@]}" "$WORK/oci/blobs/sha256/${l#sha256:}" | jq -r .layer)
        p=(--parent "$l")
    done
}
docker_pull() { /usr/bin/docker pull -q "$REF"; }

echo "# timing, best of $RUNS" >&2
best cairn cairn_pull
after_run() { rm -rf "$WORK/oci"; }
best skopeo skopeo_copy
skopeo_copy >/dev/null
after_run() { :; }
best umoci umoci_unpack
best layer-unpack cairn_unpack
rm -rf "$WORK/oci"
# a private engine with a data-root of its own for each run
DOCKERD_STORAGE=${DOCKERD_STORAGE:-overlay2}
echo "# docker pull: a private dockerd ($DOCKERD_STORAGE) for each run" >&2
before_run() { DOCKERD_STORAGE=$DOCKERD_STORAGE dockerd_start "$WORK/d$RUN"; }
after_run() { dockerd_stop; }
best docker docker_pull
before_run() { :; }

echo "# push into a fresh registry each run" >&2
"$BIN/cairn-pull" --root "$WORK/pstore" "$REF" >/dev/null
skopeo_copy >/dev/null
REG2=127.0.0.1:$(free_port)
registry2() {
    [[ -z $REG2_PID ]] || { kill "$REG2_PID"; wait "$REG2_PID" || true; }
    registry registry2 "$REG2"
    REG2_PID=$!
}
registry2
after_run() { registry2; }
cairn_push() { "$BIN/cairn-push" --root "$WORK/pstore" "$REF" "$REG2/bench:latest"; }
skopeo_push() { skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$WORK/oci:bench" "docker://$REG2/bench:latest"; }
best cairn-push cairn_push
best skopeo-push skopeo_push

echo
echo "image: $LAYERS layers, $SIZE_MB MB of files ($files from /usr), $blob_mb MB gzip in the registry; $(nproc) CPUs"
printf '%-34s %9s %8s\n' step seconds "x cairn"
row() { awk -v n="$1" -v t="$2" -v c="${BEST[cairn]}" 'BEGIN { printf "%-34s %9.3f %8.2f\n", n, t, t / c }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
row "cairn pull" "${BEST[cairn]}"
row "skopeo copy (download only)" "${BEST[skopeo]}"
row "  + umoci raw unpack" "$(sum "${BEST[skopeo]}" "${BEST[umoci]}")"
row "  + cairn layer-unpack" "$(sum "${BEST[skopeo]}" "${BEST[layer-unpack]}")"
row "docker pull ($DOCKERD_STORAGE)" "${BEST[docker]}"
echo "(unpack alone: umoci ${BEST[umoci]} s, cairn layer-unpack ${BEST[layer-unpack]} s)"
echo
printf '%-34s %9s %8s\n' push seconds "x cairn"
awk -v c="${BEST[cairn-push]}" -v k="${BEST[skopeo-push]}" 'BEGIN {
    printf "%-34s %9.3f %8.2f\n", "cairn push", c, 1
    printf "%-34s %9.3f %8.2f\n", "skopeo copy oci: docker://", k, k / c }'
