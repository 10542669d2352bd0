#!/bin/sh
# Run each benchmark on the distro libqb and on ours, several times, and
# print medians and the ratio. Benchmarks never fail on a figure.
#
# A benchmark program prints lines:  METRIC <TAB> VALUE <TAB> UNIT <TAB> lower|higher
# ("lower" when smaller is better, e.g. ns/op; "higher" for ops/s, MB/s).
# QB_BENCH_RUNS (default 5) sets the number of runs per library.
set -u
runs=${QB_BENCH_RUNS:-5}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '%-46s %14s %14s %9s  %s\n' "benchmark" "distro" "ours" "ratio" "(ours/distro; >1 = ours better)"
for prog in "$@"; do
	: >"$tmp/distro"; : >"$tmp/ours"
	i=0
	while [ $i -lt "$runs" ]; do
		# alternate the order so neither side always runs warm
		env -u LD_LIBRARY_PATH "./$prog" >>"$tmp/distro" 2>/dev/null || echo "bench: $prog failed on distro" >&2
		LD_LIBRARY_PATH=$QB_OUR_LIBDIR "./$prog" >>"$tmp/ours" 2>/dev/null || echo "bench: $prog failed on ours" >&2
		i=$((i + 1))
	done
	cut -f1 "$tmp/ours" "$tmp/distro" | awk '!seen[$0]++' | while IFS= read -r metric; do
		med() { awk -F'\t' -v m="$metric" '$1 == m {print $2}' "$1" | sort -g |
			awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
		d=$(med "$tmp/distro"); o=$(med "$tmp/ours")
		unit=$(awk -F'\t' -v m="$metric" '$1 == m {print $3; exit}' "$tmp/ours" "$tmp/distro")
		dir=$(awk -F'\t' -v m="$metric" '$1 == m {print $4; exit}' "$tmp/ours" "$tmp/distro")
		ratio=$(awk -v d="$d" -v o="$o" -v dir="$dir" 'BEGIN {
			if (d == "nan" || o == "nan" || d + 0 == 0 || o + 0 == 0) { print "n/a"; exit }
			r = (dir == "lower") ? d / o : o / d; printf "%.2fx", r }')
		printf '%-46s %14s %14s %9s  %s\n' "$metric" "$d" "$o" "$ratio" "$unit"
	done
done
