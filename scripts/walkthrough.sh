#!/usr/bin/env bash
# The docker model, seen through cairn: an image is a stack of read-only
# layers; a container is a read-write layer on top; a running container is
# that union view plus an isolated process space. Every docker command of
# the model, step by step, on a busybox base made from Debian's
# busybox-static, with no registry and no network, in a store of its own
# (kept afterwards so you can look around; its path is printed).
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
n=0
say() { n=$((n + 1)); printf '\n%s%d. %s%s\n' "$bold" "$n" "$*" "$off"; }
note() { printf '%s   %s%s\n' "$dim" "$*" "$off"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; eval "$@"; }
finish() {
    # leave nothing running or mounted behind
    cairn ps -q 2>/dev/null | while read -r c; do cairn rm -f "$c" >/dev/null 2>&1 || true; done
}
trap finish EXIT

say "An image: busybox-static as a root file system tar, brought in as a read-only layer"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/root"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$work/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$work/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/rootfs/etc/group"
chmod 1777 "$work/rootfs/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$work/rootfs" -cf "$work/busybox.tar" .
run "cairn layer-unpack --created-by 'ADD busybox.tar /' $work/busybox.tar | tee $work/base.json"
run "cairn tag \$(jq -r .layer $work/base.json) busybox"
note "A layer's ID is the digest of its metadata (parent, diff_id, history): unpack it again, same ID."
run "cairn layer-unpack --created-by 'ADD busybox.tar /' --format id $work/busybox.tar"

say "docker create: a read-write layer on the image. It is a container, and it is not running."
run "cairn create --name happy busybox touch /happiness.txt"
run "cairn ps -a --format table"

say "docker start: a process space around the union view of the container's layers"
run "cairn start -a happy"
note "The process is gone, yet the file it made is in the container's read-write layer, on the host:"
run "find $CAIRN_ROOT/containers -name happiness.txt"

say "docker run = create + start, as the plumbing composes it: union-mount | isolate"
run "cairn union-mount busybox | cairn isolate -- sh -c 'echo pid \$\$ in \$(hostname); touch /run.txt' | jq -c '{container, exit_code}'"
run "cairn run busybox sh -c 'cat /etc/passwd | wc -l'"

say "docker ps shows running containers; ps -a all of them, running or not"
run "cairn run -d --name counter busybox sh -c 'i=0; while :; do i=\$((i+1)); echo \$i > /count; sleep 0.1; done'"
run "cairn ps --format table"
run "cairn ps -a --format table"

say "docker images: tagged images; images -a: every read-only layer"
run "cairn images --format table"
run "cairn images -a --format table"

say "docker exec: a new process in the running container's process space"
run "cairn exec counter sh -c 'echo count: \$(cat /count); ps'"

say "docker pause: the cgroup freezer stops every process; unpause resumes them"
run "cairn pause counter >/dev/null; cairn ps --format table"
run "before=\$(cat $CAIRN_ROOT/containers/\$(cairn ps -q)*/upper/count); sleep 0.5; after=\$(cat $CAIRN_ROOT/containers/\$(cairn ps -q)*/upper/count); echo \"paused: \$before -> \$after\""
run "cairn unpause counter >/dev/null; sleep 0.5; echo \"running again: \$(cat $CAIRN_ROOT/containers/\$(cairn ps -q)*/upper/count)\""

say "docker commit: the read-write layer burnt into a new read-only layer on top of the image"
run "cairn commit -m 'a counter' --change 'CMD [\"cat\", \"/count\"]' counter counted:1 | jq -c '{layer, parent, tag}'"
run "cairn run counted:1"

say "docker stop: SIGTERM to every process, SIGKILL after the grace period; docker kill: SIGKILL now"
run "cairn stop -t 1 counter | jq -c '{container, status, exit_code}'"
run "cairn run -d --name sleeper busybox sleep 1000 >/dev/null; cairn kill sleeper | jq -c '{container, signal}'"
run "cairn ps -a --format table"

say "docker build: FROM, then for each step run (create + start), modify, commit"
mkdir -p "$work/ctx"
printf 'built by cairn\n' >"$work/ctx/motd"
cat >"$work/ctx/Dockerfile" <<'EOF'
FROM busybox
ENV GREETING=hello
COPY motd /etc/motd
RUN echo "$GREETING from a RUN step" > /etc/greeting
WORKDIR /etc
CMD ["cat", "motd", "greeting"]
EOF
run "cairn build -t built:1 $work/ctx | jq -c ."
run "cairn run built:1"
note "A rebuild reuses every step:"
run "cairn build -q $work/ctx | jq -c '{layer, cached}'"

say "docker inspect: the metadata of the top layer of an image, or of a container"
run "cairn inspect built:1 | jq '{layer, parent, created_by, config: .effective_config.Cmd}'"

say "docker history: the image's layers, top first (each is itself an image)"
run "cairn history --format table built:1"

say "docker save: every layer and its metadata in one archive that docker, podman and skopeo load"
run "cairn save -o $work/built.tar built:1 && tar -tf $work/built.tar | sed -n 1,8p"
run "CAIRN_ROOT=$work/elsewhere cairn load $work/built.tar | jq -c '{layer, tags}'"

say "docker export: the union view, flattened into one tar; no layers, no metadata"
run "cairn export -o $work/happy.tar happy && tar -tf $work/happy.tar | grep -c . && tar -tf $work/happy.tar | grep happiness"

say "The model drawn: read-only layers on their parents, containers on top, running ones with their process space"
run "cairn run -d --name web busybox sleep 1000 >/dev/null"
run "cairn images --tree"
note "Graphviz: cairn images --tree --format dot | dot -Tsvg > store.svg"

say "docker rm: the read-write layer goes; docker rmi: the tag, and every layer nothing else needs"
run "cairn rm -f web happy sleeper counter | jq -c '{container, removed}'"
run "cairn rm \$(cairn ps -aq) | jq -c '{container, removed}'"
run "cairn rmi counted:1 | jq -c ."
run "cairn images -a --format table"

printf '\n%sDone.%s The store is at %s (remove %s when finished).\n' "$bold" "$off" "$CAIRN_ROOT" "$work"
