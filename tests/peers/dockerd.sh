#!/usr/bin/env bash
# dockerd.sh -- a private Docker engine (Debian's docker.io 20.10) for tests and benches.
#
# Sourced (bash), it defines two functions, set up the way mkimages.sh runs its engine:
#   dockerd_start WORK [ARG...]
#                        start dockerd (with ARGs added) with all its state under WORK (keep the path short:
#                        containerd's socket lives below it, and unix socket paths are at
#                        most 108 bytes); export DOCKER_HOST and DOCKER_CONFIG; set
#                        DOCKERD_PID; wait until it answers (30 s at most).
#   dockerd_stop         stop it (TERM, then KILL), its containerd, and unmount whatever
#                        is left below WORK. Safe to call twice. WORK itself is kept.
# `docker` must then be /usr/bin/docker (the 20.10 client), never /usr/local/bin/docker.
#
# Executed, it serves an engine for as long as another process lives:
#   dockerd.sh serve WORK PID [ARG...]
# starts the engine, writes WORK/env (DOCKER_HOST=… and DOCKER_CONFIG=… lines) and then
# WORK/ready, waits until PID is gone, stops the engine and removes WORK. On failure it
# writes WORK/failed (with the end of dockerd's log) instead of WORK/ready. The test suite
# uses this so that one engine serves every test of a run and goes away with the run.
#
# The engine cannot touch the host: its own data-root, exec-root, pidfile and socket under
# WORK; vfs storage (DOCKERD_STORAGE=overlay2 for benches); its containers' cgroups under /<basename of WORK>, removed on stop;
# DOCKERD_SUBIDS="USER START COUNT" gives the engine alone subordinate ids for `--userns-remap USER`
# (its own /etc/subuid and /etc/subgid bound over the host's in its mount namespace);
# no bridge, no iptables, no forwarding (unless DOCKERD_NETNS="BRIDGE CIDR": then the
# engine has a network namespace of its own, with lo up and a bridge BRIDGE with address
# CIDR, and ARGs such as `--bridge BRIDGE --iptables=true` give it a bridge network as a
# stock engine has, its iptables rules and forwarding all inside that namespace, gone
# with it; the host's ruleset, links and sysctls are never touched); a private mount namespace with a tmpfs over /run
# (dockerd hardcodes /run/docker/plugins, and would attach to a system containerd if
# /run/containerd/containerd.sock existed); `deprecated-key-path`, else dockerd 20.10
# writes /etc/docker/key.json.

DOCKER=${DOCKER:-/usr/bin/docker}
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
DOCKERD_PID=
DOCKERD_WORK=

dockerd_start() {
    local work=$1 i
    shift
    DOCKERD_WORK=$work
    mkdir -p "$work/data" "$work/x" "$work/dcfg" "$work/tmp"
    printf '{"deprecated-key-path": "%s/key.json"}\n' "$work" >"$work/daemon.json"
    # unshare execs (no fork), so $! is dockerd itself. TMPDIR: dockerd SIGUSR1s its
    # containerd when killing it, and containerd then dumps a stacks log into $TMPDIR.
    local ns=(--mount --propagation private) setup='mount -t tmpfs -o mode=0755 cairn-run /run'
    if [[ -n ${DOCKERD_NETNS:-} ]]; then
        # a network namespace of its own, and in it lo and the bridge NAME with CIDR
        read -r bridge cidr <<<"$DOCKERD_NETNS"
        ns+=(--net)
        setup+=" && ip link set lo up && ip link add $bridge type bridge"
        setup+=" && ip addr add $cidr dev $bridge && ip link set $bridge up"
    fi
    if [[ -n ${DOCKERD_SUBIDS:-} ]]; then
        # subordinate ids for --userns-remap, seen by this engine alone: its own
        # /etc/subuid and /etc/subgid bound over the host's in its mount namespace
        # (docker 20.10 looks both up by the user's name)
        read -r user start count <<<"$DOCKERD_SUBIDS"
        printf '%s:%s:%s\n' "$user" "$start" "$count" >"$work/subuid"
        cp "$work/subuid" "$work/subgid"
        setup+=" && mount --bind $work/subuid /etc/subuid && mount --bind $work/subgid /etc/subgid"
    fi
    TMPDIR=$work/tmp unshare "${ns[@]}" -- \
        /bin/sh -c "$setup"' && exec "$@"' sh \
        "$DOCKERD" \
        --config-file "$work/daemon.json" \
        --data-root "$work/data" \
        --exec-root "$work/x" \
        --pidfile "$work/docker.pid" \
        --host "unix://$work/docker.sock" \
        --storage-driver "${DOCKERD_STORAGE:-vfs}" \
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$(basename "$work")" \
        --bridge none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
        --userland-proxy=false "$@" \
        >"$work/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    export DOCKER_HOST=unix://$work/docker.sock DOCKER_CONFIG=$work/dcfg
    unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
    for i in $(seq 1 300); do
        "$DOCKER" version >/dev/null 2>&1 && return 0
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            echo "dockerd.sh: dockerd exited; last log lines:" >&2
            tail -n 20 "$work/dockerd.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "dockerd.sh: dockerd did not answer in 30s; last log lines:" >&2
    tail -n 20 "$work/dockerd.log" >&2
    return 1
}

dockerd_stop() {
    local work=$DOCKERD_WORK cpid
    [[ -n $work ]] || return 0
    if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        kill -TERM "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DOCKERD_PID" 2>/dev/null || true
        wait "$DOCKERD_PID" 2>/dev/null || true
    fi
    DOCKERD_PID=
    # dockerd's managed containerd (normally stopped by dockerd itself).
    cpid=$(cat "$work/x/containerd/containerd.pid" 2>/dev/null || true)
    if [[ -n $cpid ]] && kill -0 "$cpid" 2>/dev/null; then
        kill -TERM "$cpid" 2>/dev/null; sleep 1; kill -KILL "$cpid" 2>/dev/null || true
    fi
    # Any mount left below WORK (netns files, graph driver), deepest first.
    awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo \
        | sort -r | while read -r m; do umount -l "$m" || true; done
    # The (empty, once containers are gone) cgroup parent of its containers.
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$(basename "$work")" -exec rmdir {} + 2>/dev/null || true
    return 0
}

dockerd_serve() {
    local work=$1 watch=$2
    shift 2
    mkdir -p "$work"
    DOCKERD_WORK=$work   # the EXIT trap runs after this function's locals are gone
    trap 'dockerd_stop; rm -rf "$DOCKERD_WORK"' EXIT
    trap 'exit 130' INT TERM
    if ! dockerd_start "$work" "$@" 2>"$work/start.err"; then
        cat "$work/start.err" >"$work/failed.tmp"
        mv "$work/failed.tmp" "$work/failed"
        # Leave the failure for the waiter to read, then go.
        sleep 5
        exit 1
    fi
    printf 'DOCKER_HOST=%s\nDOCKER_CONFIG=%s\n' "$DOCKER_HOST" "$DOCKER_CONFIG" >"$work/env"
    touch "$work/ready"
    while kill -0 "$watch" 2>/dev/null; do sleep 0.2; done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -uo pipefail
    if [[ $# -lt 3 || $1 != serve ]]; then
        echo "usage: $0 serve WORK PID [DOCKERD-ARG...]   (or source it for dockerd_start/dockerd_stop)" >&2
        exit 2
    fi
    [[ $(id -u) -eq 0 ]] || { echo "dockerd.sh: must run as root" >&2; exit 1; }
    for tool in "$DOCKERD" "$DOCKER" unshare; do
        command -v "$tool" >/dev/null || { echo "dockerd.sh: missing $tool" >&2; exit 1; }
    done
    shift
    dockerd_serve "$@"
fi
