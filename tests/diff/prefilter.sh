#!/bin/sh
# Differential test: the prefilter (whydenied/lite.h) must not change any
# output. Every fixture, sample and trap file, and a generated corpus, are
# scanned with WHYDENIED_PREFILTER=0 and =1; the report (JSON, Markdown,
# cause CSV), the per-failure CSV and JSON, stderr and the exit code must
# be byte-identical.
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
	for pf in 0 1; do
		mkdir -p "$T/$pf"
		WHYDENIED_PREFILTER=$pf "$WD" scan "$input" --format json \
			--events-csv "$T/$pf/ev.csv" --events-json "$T/$pf/ev.json" \
			--csv "$T/$pf/c.csv" --markdown "$T/$pf/r.md" \
			--max-warnings 1000 >"$T/$pf/out.json" 2>"$T/$pf/err"
		echo $? >"$T/$pf/rc"
	done
	if diff -r "$T/0" "$T/1" >"$T/diff"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $input"
		head -30 "$T/diff"
	fi
	rm -rf "$T/0" "$T/1"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
