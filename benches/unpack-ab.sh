#!/usr/bin/env bash
# layer-unpack A/B: two (or more) cairn-layer-unpack binaries and `tar -x`
# + `sync -f` on the same tar, alternating, each run into a fresh
# directory after a cache drop. See benches/README.md.
#
#   bash benches/unpack-ab.sh OLD_BIN NEW_BIN TAR [ROUNDS [MORE_BIN...]]
#
# ROUNDS default 7. A TAR that does not exist is made first, from /usr, as
# bench.sh makes usr.tar (300 MB, 20,000 entries at least). MORE_BINs run
# beside old and new, labelled by their file names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
(($# >= 3)) || die "usage: unpack-ab.sh OLD_BIN NEW_BIN TAR [ROUNDS [MORE_BIN...]]"
OLD=$1 NEW=$2 TAR=$3 ROUNDS=${4:-7}
MORE=("${@:5}")
[[ $(id -u) == 0 ]] || die "run as root (tar must keep owners, as cairn does)"
if [[ ! -e $TAR ]]; then
	WORK=$(dirname "$TAR")
	make_usr_tar "$(basename "$TAR")" $((300 * 1000 * 1000)) 20000
fi
WORK=$(mktemp -d /var/tmp/cairn-unpack-ab.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp "$OLD" "$WORK/old" && cp "$NEW" "$WORK/new"
labels=(tar old new)
for b in "${MORE[@]}"; do
	l=$(basename "$b")
	[[ ! -e $WORK/$l && $l != tar ]] || die "$b: another binary has that name"
	cp "$b" "$WORK/$l" && labels+=("$l")
done

one() { # LABEL CMD...: microseconds and CPU steal (%) of one run, appended to WORK/times
	local t0 t1 m
	sync
	echo 1 >/proc/sys/vm/drop_caches
	cat "$TAR" >/dev/null
	m=$(cpu_mark)
	t0=$(date +%s%N)
	"${@:2}" >/dev/null
	t1=$(date +%s%N)
	echo "$1 $(((t1 - t0) / 1000)) $(steal_pct "$m")" >>"$WORK/times"
}
tarsync() { mkdir "$1" && tar --no-xattrs --no-acls --no-selinux -xf "$TAR" -C "$1" && sync -f "$1"; }

say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
mark=$(cpu_mark)
n=${#labels[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < n; k++)); do # the order rotates each round
		l=${labels[(k + r) % n]}
		case $l in
		tar) one tar+sync tarsync "$WORK/tar-$r" ;;
		*) one "$l" "$WORK/$l" --root "$WORK/$l-$r" "$TAR" ;;
		esac
	done
done
say "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
steal_since "$mark"
# table FILE: the median and minimum of each label's runs in FILE, and
# each one's ratio to tar+sync's
table() {
	awk '{t[$1] = t[$1] " " $2} END {for (l in t) print l, t[l]}' "$1" |
		while read -r label rest; do
			printf '%s %s %s\n' "$label" "$(tr ' ' '\n' <<<"$rest" | sort -n |
				awk '{a[NR] = $1} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m / 1e6, a[1] / 1e6}')" \
				"$(wc -w <<<"$rest")"
		done | sort >"$WORK/sum"
	read -r _ tm tmin _ < <(grep '^tar+sync ' "$WORK/sum")
	printf '%-9s %9s %9s %13s %5s\n' tool median_s min_s 'x tar+sync' runs
	while read -r l m mn k; do
		printf '%-9s %9.3f %9.3f %6.2f (%4.2f) %5s\n' "$l" "$m" "$mn" \
			"$(awk -v a="$m" -v b="$tm" 'BEGIN {print a / b}')" "$(awk -v a="$mn" -v b="$tmin" 'BEGIN {print a / b}')" "$k"
	done <"$WORK/sum"
}
table "$WORK/times"
# Steal comes and goes on a shared VM: the runs it spared, when each
# tool has three at least.
awk '$3 < 5' "$WORK/times" >"$WORK/calm"
if awk '{n[$1]++} END {for (l in n) if (n[l] < 3) exit 1; exit NR ? 0 : 1}' "$WORK/calm" &&
	(($(cut -d' ' -f1 "$WORK/calm" | sort -u | wc -l) == ${#labels[@]})); then
	say "only the runs with less than 5% steal:"
	table "$WORK/calm"
fi
