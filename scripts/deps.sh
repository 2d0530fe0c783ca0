#!/usr/bin/env bash
# Install what cairn's walkthrough and tests need on Debian (as root):
# busybox-static (the test images), skopeo, umoci, docker.io, runc, crun and
# podman (the peers), docker-registry, apache2-utils (htpasswd) and openssl
# (the registry tests),
# nftables (bridge networks: cairn NATs with nft), jq, python3, zstd, iproute2,
# time, graphviz, uidmap (newuidmap and newgidmap: rootless stores) and
# slirp4netns (rootless networking), zsh and fish (the completion tests
# type into them on a pty), and gcc with libc6-dev (the
# containment tests build static attack programs). Installs only what is missing.
set -euo pipefail

want=(busybox-static skopeo umoci docker.io runc crun podman docker-registry apache2-utils openssl nftables jq python3 zstd iproute2 time graphviz gcc libc6-dev libseccomp-dev pkg-config uidmap slirp4netns zsh fish)
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "deps: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The OCI JSON schema checks of the tests use Python's jsonschema (>= 4.18,
# for its `referencing` registry).
if ! python3 -c 'import jsonschema, referencing' 2>/dev/null; then
    echo "deps: installing jsonschema (pip)" >&2
    python3 -m pip install --quiet 'jsonschema>=4.18' >&2
fi
command -v cargo >/dev/null || { echo "deps: cargo is not installed (install Rust with rustup)" >&2; exit 1; }
