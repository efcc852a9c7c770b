#!/bin/sh
# Differential test: neither the prefilter (whydenied/lite.h) nor worker
# threads (--jobs) may change any output. Every fixture, sample and trap
# file, and generated corpora, are scanned three ways - prefilter off and
# one thread; prefilter on and one thread; prefilter on and three threads
# with small batches - and the report (JSON, Markdown, cause CSV), the
# per-failure CSV and JSON, stderr and the exit code must be byte-identical.
# Usage: prefilter.sh WHYDENIED_BINARY
set -u
WD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export LC_ALL=C TZ=UTC WHYDENIED_NOW=2026-11-27T12:00:00Z
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 "$TOP/bench/gen.py" --size 4 --failures 0.2 --seed 7 "$T/gen.jsonl" 2>/dev/null
python3 "$TOP/bench/gen.py" --size 4 --failures 0.2 --seed 8 --format array "$T/gen.json" 2>/dev/null
pass=0; fail=0
for input in "$HERE"/traps.jsonl "$TOP"/tests/decode/*.json "$TOP"/tests/decode/containers \
	"$TOP"/tests/corpus/entries.jsonl "$TOP"/samples "$T/gen.jsonl" "$T/gen.json"; do
	for way in "0 1" "1 1" "1 3"; do
		set -- $way
		d="$T/pf$1-j$2"
		mkdir -p "$d"
		WHYDENIED_PREFILTER=$1 WHYDENIED_BATCH_ITEMS=7 "$WD" scan "$input" \
			--jobs "$2" --format json \
			--events-csv "$d/ev.csv" --events-json "$d/ev.json" \
			--csv "$d/c.csv" --markdown "$d/r.md" \
			--max-warnings 1000 >"$d/out.json" 2>"$d/err"
		echo $? >"$d/rc"
	done
	if diff -r "$T/pf0-j1" "$T/pf1-j1" >"$T/diff" &&
	   diff -r "$T/pf1-j1" "$T/pf1-j3" >>"$T/diff"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $input"
		head -30 "$T/diff"
	fi
	rm -rf "$T"/pf*
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
