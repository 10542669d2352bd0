#!/bin/sh
# Run each benchmark on the distro libqb and on ours, several times, and
# print medians and the ratio. Benchmarks never fail on a figure.
#
# A benchmark program prints lines:  METRIC <TAB> VALUE <TAB> UNIT <TAB> lower|higher
# ("lower" when smaller is better, e.g. ns/op; "higher" for ops/s, MB/s;
# "reference" for a figure of the machine that runs no libqb code, such as
# a plain memcpy: printed, left out of the summary of rows below 1.00x).
# QB_BENCH_RUNS (default 5) sets the number of runs per library.
#
# Run i of both libraries gets QB_BENCH_CPU=i modulo the CPUs this shell
# may use: single-threaded rows run on that CPU (bench/bench_pin.h), so
# the two sides of a pair run on the same one and the runs cover them all.
#
# The runs alternate between the libraries, so run i of one and run i of
# the other saw nearly the same machine. "paired" is the lowest and the
# highest of those per-run ratios: on a shared or virtual machine a row
# whose median ratio is below 1.00x while its best pair is above may be
# noise, and is worth a rerun before it is called a loss.
set -u
runs=${QB_BENCH_RUNS:-5}
cpus=$(nproc 2>/dev/null || echo 1)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# run_side distro|ours PROG RUN: one run, its lines prefixed with RUN
run_side() {
	if [ "$1" = distro ]; then
		env -u LD_LIBRARY_PATH "./$2" 2>/dev/null | sed "s/^/$3\t/" >>"$tmp/distro"
	else
		LD_LIBRARY_PATH=$QB_OUR_LIBDIR "./$2" 2>/dev/null | sed "s/^/$3\t/" >>"$tmp/ours"
	fi || echo "bench: $2 failed on $1" >&2
}
printf '%-46s %14s %14s %9s  %-13s %s\n' "benchmark" "distro" "ours" "ratio" "paired" \
	"(ours/distro; >1 = ours better)"
: >"$tmp/rows"
for prog in "$@"; do
	: >"$tmp/distro"; : >"$tmp/ours"
	i=0
	while [ $i -lt "$runs" ]; do
		QB_BENCH_CPU=$((i % cpus))
		export QB_BENCH_CPU
		# alternate the order so neither side always runs first
		if [ $((i % 2)) = 0 ]; then
			run_side distro "$prog" $i
			run_side ours "$prog" $i
		else
			run_side ours "$prog" $i
			run_side distro "$prog" $i
		fi
		i=$((i + 1))
	done
	# both files: RUN METRIC VALUE UNIT DIR; one output row per metric
	awk -F'\t' '
		FNR == 1 { side++ }
		{ key = $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		  unit[key] = $4; dir[key] = $5; val[side, key, $1] = $3
		  list[side, key] = list[side, key] " " $3 }
		function median(s, k,    a, m, i, j, t) {
			m = split(substr(list[s, k], 2), a, " ")
			if (m == 0) return "nan"
			for (i = 2; i <= m; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		function ratio(d, o, lower) {
			if (d == "nan" || o == "nan" || d + 0 == 0 || o + 0 == 0) return ""
			return lower ? d / o : o / d
		}
		END {
			for (x = 1; x <= n; x++) {
				k = order[x]; lower = dir[k] == "lower"
				d = median(1, k); o = median(2, k); r = ratio(d, o, lower)
				lo = ""; hi = ""
				for (i = 0; i < '"$runs"'; i++) {
					if (!((1, k, i) in val) || !((2, k, i) in val)) continue
					p = ratio(val[1, k, i], val[2, k, i], lower)
					if (p == "") continue
					if (lo == "" || p < lo) lo = p
					if (hi == "" || p > hi) hi = p
				}
				rs = (r == "") ? "n/a" : sprintf("%.2fx", r)
				ps = (lo == "") ? "" : sprintf("%.2f-%.2fx", lo, hi)
				printf "%-46s %14s %14s %9s  %-13s %s%s\n", k, d, o, rs, ps, unit[k],
					dir[k] == "reference" ? " (reference, not libqb)" : ""
				# for the summary: ratio, best pair (reference rows measure
				# the machine, the same code on both sides)
				if (r != "" && dir[k] != "reference") printf "%s\t%s\t%s\n", k, r, hi >> "'"$tmp/rows"'"
			}
		}' "$tmp/distro" "$tmp/ours"
done
awk -F'\t' '
	$2 < 1 { below++; names = names " " $1; if ($3 >= 1) noisy++ }
	END {
		printf "\nrows below 1.00x: %d", below + 0
		if (below) printf " (%d of them with a paired run at or above 1.00x):%s", noisy + 0, names
		printf "\n"
	}' "$tmp/rows"
