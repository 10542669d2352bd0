#!/bin/sh
# bench/run-bench.sh on a fake benchmark with known figures: medians, the
# ratio in both directions, the paired range, the summary of dipping rows and
# the alternating run order.
set -u
src=${top_srcdir:-.}
runner=$(cd "$src" && pwd)/bench/run-bench.sh
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 99
cat >fake <<'FAKE'
#!/bin/sh
# distro: always 10 ns and 100 ops/s; ours: 5 ns, and 90/110/90 ops/s
side=distro
[ -n "${LD_LIBRARY_PATH:-}" ] && side=ours
n=$(cat "count.$side" 2>/dev/null || echo 0)
echo $((n + 1)) >"count.$side"
echo $side >>order
echo "$side ${QB_BENCH_CPU:-unset}" >>cpus
if [ $side = distro ]; then
	printf 'fast_ns\t10\tns/op\tlower\nops\t100\tops/s\thigher\nmachine\t100\tMB/s\treference\n'
else
	printf 'fast_ns\t5\tns/op\tlower\nops\t%s\tops/s\thigher\nmachine\t90\tMB/s\treference\n' $((n % 2 ? 110 : 90))
fi
FAKE
chmod +x fake
QB_OUR_LIBDIR=/nonexistent QB_BENCH_RUNS=3 sh "$runner" fake >out 2>err || { cat out err; exit 1; }
cat out
status=0
expect() { # $1 = a regex the output must match (awk syntax)
	RE=$1 awk '$0 ~ ENVIRON["RE"] { found = 1 } END { exit !found }' out ||
		{ echo "missing: $1"; status=1; }
}
expect '^fast_ns +10 +5 +2\.00x +2\.00-2\.00x +ns/op$'
expect '^ops +100 +90 +0\.90x +0\.90-1\.10x +ops/s$'
expect '^machine +100 +90 +0\.90x +0\.90-0\.90x +MB/s \(reference, not libqb\)$'
expect '^rows below 1\.00x: 1 \(1 of them with a paired run at or above 1\.00x\): ops$'
[ "$(cat count.distro count.ours)" = "$(printf '3\n3')" ] || { echo "not 3 runs a side"; status=1; }
# neither side always runs first
[ "$(echo $(cat order))" = "distro ours ours distro distro ours" ] ||
	{ echo "run order: $(echo $(cat order))"; status=1; }
# both sides of run i on the same CPU, run i on CPU i modulo the CPUs
n=$(nproc 2>/dev/null || echo 1)
want="distro 0 ours 0 ours $((1 % n)) distro $((1 % n)) distro $((2 % n)) ours $((2 % n))"
[ "$(echo $(cat cpus))" = "$want" ] ||
	{ echo "QB_BENCH_CPU: $(echo $(cat cpus)), want $want"; status=1; }
exit $status
