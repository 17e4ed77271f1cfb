#!/bin/sh
# Run every suite and end with one line over all of them: "N passed, N failed".
# Usage: tests/run_all.sh BUILD_DIR
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
LOG=$(mktemp -d)
total_p=0; total_f=0; status=0

add() { # name passed failed
	printf '%-22s %4s passed, %s failed\n' "$1" "$2" "$3" >> "$LOG/summary"
	total_p=$((total_p + $2)); total_f=$((total_f + $3))
}

# cmocka suites: "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"
for t in "$BUILD"/tests/test_* "$BUILD"/tests-san/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$(dirname "$t")")/$(basename "$t")
	echo "== $name"
	timeout 600 "$t" > "$LOG/out" 2>&1
	rc=$?
	cat "$LOG/out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG/out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG/out" | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed
	[ "$f" -ne 0 ] && status=1
	add "$name" "$p" "$f"
done

# the command-grammar fuzzer (libFuzzer; docs/control.md "Fuzzing"): a short
# run from the seed corpus, one suite: 1 passed if it finds nothing. A crash
# input is kept under $BUILD/fuzz/artifacts/ to replay: fuzz_cmd FILE
if [ -x "$BUILD/fuzz/fuzz_cmd" ]; then
	echo "== fuzz/fuzz_cmd"
	mkdir -p "$LOG/corpus" "$BUILD/fuzz/artifacts"
	timeout 120 "$BUILD/fuzz/fuzz_cmd" -runs=200000 -max_total_time=20 \
		-dict=tests/fuzz/cmd.dict -artifact_prefix="$BUILD/fuzz/artifacts/" \
		"$LOG/corpus" tests/fuzz/corpus > "$LOG/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		grep -E '^Done [0-9]+ runs' "$LOG/out"
		add fuzz/fuzz_cmd 1 0
	else
		tail -40 "$LOG/out"
		status=1
		add fuzz/fuzz_cmd 0 1
	fi
fi

# the rx-path fuzzer (libFuzzer + ASan/UBSan; docs/reliability.md "Fuzzing
# the rx path"): parsers and es_process_burst on ring ports, every input
# accounted for; a short run from the seed corpus, one suite. A crash
# input is kept under $BUILD/fuzz/artifacts/ to replay: fuzz_rx FILE
if [ -x "$BUILD/fuzz/fuzz_rx" ]; then
	echo "== fuzz/fuzz_rx"
	mkdir -p "$LOG/corpus_rx" "$BUILD/fuzz/artifacts"
	timeout 120 "$BUILD/fuzz/fuzz_rx" -runs=300000 \
		-max_total_time=20 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/artifacts/" \
		"$LOG/corpus_rx" tests/fuzz/corpus_rx > "$LOG/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|average_exec_per_sec' "$LOG/out"
		add fuzz/fuzz_rx 1 0
	else
		tail -40 "$LOG/out"
		status=1
		add fuzz/fuzz_rx 0 1
	fi
fi

# rule update benchmark: a tiny smoke run (the real run: see docs/architecture.md)
if [ -x "$BUILD/rules-bench" ]; then
	echo "== rules-bench (smoke)"
	if timeout 300 "$BUILD/rules-bench" --no-huge -m 256 --no-shconf --no-pci \
		--log-level=error -l 0 -- --sizes 200 --ops 30 --stream 300 --stream-s 2 \
		> "$LOG/out" 2>&1 && grep -q '^ *200 |' "$LOG/out"; then
		cat "$LOG/out"; add rules-bench 1 0
	else
		cat "$LOG/out"; add rules-bench 0 1; status=1
	fi
fi

# rte_acl step benchmark (perf/acl_steps.c): one run, every row a figure
# (scalar and SSE run on every x86-64 machine DPDK supports)
if [ -x "$BUILD/acl-bench" ]; then
	echo "== acl-bench (smoke)"
	if timeout 120 "$BUILD/acl-bench" --no-huge -m 256 --no-shconf --no-pci \
		--log-level=error -l 0 > "$LOG/out" 2>&1 &&
	   [ "$(grep -cE '^first byte \+ 2 groups +[0-9.]+ +[0-9.]+ ' "$LOG/out")" = 1 ]; then
		cat "$LOG/out"; add acl-bench 1 0
	else
		cat "$LOG/out"; add acl-bench 0 1; status=1
	fi
fi

# the eBPF hooks' cost (perf/hook_bench.c): a tiny smoke run that must
# print every row of both tables (direct, pipeline) and write its JSON
# with the same rows; speed not judged
if [ -x "$BUILD/hook-bench" ]; then
	echo "== hook-bench (smoke)"
	rows="base off other empty empty/interp dscp_steer dscp_steer/interp drop_ports
	      drop_ports/interp qfi_bytes qfi_bytes/interp qfi_dscp qfi_dscp/interp
	      pkt_read pkt_read/interp empty_x4 samples_x4"
	ok=1
	timeout 120 "$BUILD/hook-bench" --no-huge -m 256 --no-shconf --no-pci \
		--log-level=error -l 0 -- --iters 2000 --rounds 3 \
		--json "$LOG/hook.json" > "$LOG/out" 2>&1 || ok=0
	n=0
	for r in $rows; do
		n=$((n + 1))
		[ "$(grep -cE "^$r +.* [0-9]+\.[0-9] " "$LOG/out")" = 2 ] || { echo "row $r missing"; ok=0; }
	done
	[ "$(grep -cx "rows: $n" "$LOG/out")" = 2 ] || ok=0
	grep -q "^hook cost, mode pipeline" "$LOG/out" || { echo "no pipeline table"; ok=0; }
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=int(sys.argv[2]); t=d["tables"]; sys.exit(0 if len(d["rows"]) == n and [x["mode"] for x in t] == ["direct", "pipeline"] and all(len(x["rows"]) == n and all(r["runs"] > 0 for r in x["rows"] if r["programs"] and r["id"] != "other") for x in t) else 1)' \
		"$LOG/hook.json" "$n" || { echo "hook.json: rows or runs wrong"; ok=0; }
	cat "$LOG/out"
	if [ "$ok" = 1 ]; then add hook-bench 1 0; else add hook-bench 0 1; status=1; fi
fi

# the tree's layout (scripts/check_layout.py): dataplane/ includes nothing
# from control/, no import cycle between .c files; one suite
echo "== layout"
if /usr/bin/python3 scripts/check_layout.py > "$LOG/out" 2>&1; then
	cat "$LOG/out"; add layout 1 0
else
	cat "$LOG/out"; add layout 0 1; status=1
fi

# end-to-end suites on the real binary
echo "== e2e"
ES_BUILD="$PWD/$BUILD" timeout 1800 /usr/bin/python3 tests/e2e/run.py > "$LOG/out" 2>&1
rc=$?
cat "$LOG/out"
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$LOG/out" | tail -1)
p=$(echo "$line" | sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p'); p=${p:-0}
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p'); f=${f:-0}
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
[ "$f" -ne 0 ] && status=1
add e2e "$p" "$f"

echo
echo "== summary"
cat "$LOG/summary"
rm -rf "$LOG"
echo "$total_p passed, $total_f failed"
exit $status
