# Shared by the bench scripts: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`.
# The caller sets WORK (where source tars are kept).

say() { printf '%s\n' "$*"; }
hdr() { printf '\n== %s\n' "$*"; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# choose MIN_BYTES MIN_FILES: the entries (relative to /) whose cumulative
# apparent size and entry count first reach both minimums, in a fixed order:
# usr/include, then the subdirectories of usr/share, then those of usr/lib,
# each sorted by name. An entry bigger than half the byte target is skipped
# so no single tree (say a 2 GB SDK) dominates.
choose() {
	local want_b=$1 want_n=$2 b=0 n=0 d db
	for d in usr/include $(cd / && ls -d usr/share/*) $(cd / && ls -d usr/lib/*); do
		((b >= want_b && n >= want_n)) && break
		[[ -e /$d ]] || continue
		db=$(du -sb "/$d" | cut -f1)
		((db <= want_b / 2)) || continue
		b=$((b + db))
		n=$((n + $(find "/$d" | wc -l)))
		printf '%s\n' "$d"
	done
}

# make_usr_tar NAME MIN_BYTES MIN_FILES: $WORK/NAME from the machine's /usr
# (see choose), unless it is there already; renamed into place when complete.
make_usr_tar() {
	local tarf=$WORK/$1 list=$WORK/$1.list rc=0
	[[ -s $tarf && -s $list ]] && return
	choose "$2" "$3" >"$list"
	say "making $1 from $(wc -l <"$list") entries of /usr ($(head -1 "$list") .. $(tail -1 "$list"))"
	# Parent directories as entries of their own, as in a real layer; sorted
	# so the same /usr gives the same tar.
	tar -C / --sort=name --format=gnu -cf "$tarf.tmp" \
		--no-recursion usr usr/share usr/lib --recursion -T "$list" || rc=$?
	((rc <= 1)) || die "tar failed making $1" # 1: a file changed while read
	mv "$tarf.tmp" "$tarf"
}

# cpu_mark: the time all CPUs wanted to run so far (/proc/stat's cpu line,
# in jiffies: user, nice, system, irq, softirq and steal; not idle or
# iowait) and the part of it stolen, for steal_since.
cpu_mark() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $9; exit }' /proc/stat; }

# steal_since MARK: a line saying how much of the time the CPUs wanted to
# run since MARK (from cpu_mark) the hypervisor gave to other guests. On a
# shared VM this varies by the hour; a tool that keeps both cores busy
# loses more to it than one that uses one, so ratios measured under steal
# say little about the tools.
steal_since() {
	local p
	p=$(steal_pct "$1")
	printf 'steal: %s%% of the CPU time wanted went to other guests%s\n' "$p" \
		"$( ((p < 5)) || echo ' (5% or more: the timings measure the host, not the tools)')"
}

# steal_pct MARK: that share as a whole percentage.
steal_pct() {
	local t0 s0 t1 s1
	read -r t0 s0 <<<"$1"
	read -r t1 s1 <<<"$(cpu_mark)"
	echo $(((t1 - t0) > 0 ? 100 * (s1 - s0) / (t1 - t0) : 0))
}
