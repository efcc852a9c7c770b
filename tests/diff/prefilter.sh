#!/bin/sh
# Differential test: neither the prefilter (whydenied/lite.h) nor worker
# threads (--jobs) may change any output. Every fixture, sample and trap
# file, and generated corpora, are scanned five ways - prefilter off and
# one thread; prefilter on and one thread; three threads cutting the input
# into small blocks (src/input/scan.c), with the prefilter on and off;
# three threads with small batches of entries framed by the reading
# thread - and the report (JSON, Markdown, cause CSV), the per-failure CSV
# and JSON, stderr and the exit code must be byte-identical.
#
# Generated inputs in shapes that defeat the block cutter's guesses are
# among them: pretty-printed objects one after another (a '{' in column 0
# only at the top), json.dumps(indent=0) arrays (every nested "},\n{"
# looks like a top-level one), compact arrays, a page bigger than a block.
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
python3 "$TOP/bench/gen.py" --size 1 --failures 0.2 --seed 9 "$T/small.jsonl" 2>/dev/null
python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
es = [json.loads(l) for l in open(t + "/small.jsonl")]
with open(t + "/pretty-stream.json", "w") as f:
    for e in es:
        f.write(json.dumps(e, indent=2) + "\n")
with open(t + "/indent0.json", "w") as f:
    json.dump(es, f, indent=0)
with open(t + "/compact.json", "w") as f:
    json.dump(es, f, separators=(",", ":"))
with open(t + "/page.json", "w") as f:
    json.dump({"entries": es[:300], "nextPageToken": "tok"}, f, indent=1)
# A directory of small inputs of every kind: with several threads their
# blocks are in flight together, and messages must keep one thread's order.
import gzip, os
d = t + "/tree"
os.makedirs(d + "/sub")
for k in range(12):
    part = es[k * 40:(k + 1) * 40]
    name = "%s/%s%02d" % (d, "sub/" if k % 3 == 0 else "", k)
    if k % 4 == 1:
        json.dump(part, open(name + ".json", "w"), indent=2)
    elif k % 4 == 2:
        with gzip.open(name + ".json.gz", "wt") as g:
            g.write("".join(json.dumps(e) + "\n" for e in part))
    else:
        body = "".join(json.dumps(e) + "\n" for e in part)
        if k == 7:
            body = body[:len(body) // 2]   # ends inside an entry
        open(name + ".jsonl", "w").write(body)
open(d + "/empty.json", "w").close()
open(d + "/notes.txt", "w").write("not json at all\n")
open(d + "/bad.json", "w").write('{"insertId": "x", \x01}\n')
with open(t + "/mixed.jsonl", "w") as f:
    for i, e in enumerate(es[:400]):
        if i % 50 == 7:
            f.write(json.dumps(e, indent=0) + "\n")     # '{' in column 0 inside
        elif i % 50 == 19:
            f.write(json.dumps(e)[:300] + "\n")         # a line cut short
        elif i % 50 == 31:
            f.write(json.dumps(e) + " " + json.dumps(e) + "\n")
        else:
            f.write(json.dumps(e) + "\n")
PY
pass=0; fail=0
for input in "$HERE"/traps.jsonl "$TOP"/tests/decode/*.json "$TOP"/tests/decode/containers \
	"$TOP"/tests/corpus/entries.jsonl "$TOP"/samples "$T/gen.jsonl" "$T/gen.json" \
	"$T/pretty-stream.json" "$T/indent0.json" "$T/compact.json" "$T/page.json" \
	"$T/mixed.jsonl" "$T/tree"; do
	for way in "0 1 1" "1 1 1" "1 3 1" "0 3 1" "1 3 0"; do
		set -- $way
		d="$T/pf$1-j$2-b$3"
		mkdir -p "$d"
		WHYDENIED_PREFILTER=$1 WHYDENIED_BATCH_ITEMS=7 WHYDENIED_BLOCKS=$3 \
		WHYDENIED_BLOCK_BYTES=2000 "$WD" scan "$input" \
			--jobs "$2" --format json \
			--events-csv "$d/ev.csv" --events-json "$d/ev.json" \
			--csv "$d/c.csv" --markdown "$d/r.md" \
			--max-warnings 1000 >"$d/out.json" 2>"$d/err"
		echo $? >"$d/rc"
	done
	if diff -r "$T/pf0-j1-b1" "$T/pf1-j1-b1" >"$T/diff" &&
	   diff -r "$T/pf1-j1-b1" "$T/pf1-j3-b1" >>"$T/diff" &&
	   diff -r "$T/pf1-j1-b1" "$T/pf0-j3-b1" >>"$T/diff" &&
	   diff -r "$T/pf1-j1-b1" "$T/pf1-j3-b0" >>"$T/diff"; then
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
