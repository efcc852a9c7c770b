#!/bin/sh
# Golden CLI tests: every directory under cases/ is one test.
#   cmd           a shell snippet run in the case directory; $WD is the
#                 whydenied binary, $OUT a fresh scratch directory, $TOP the
#                 repository root
#   expected.out  expected stdout (optional)
#   expected.err  expected stderr (optional)
#   expected.rc   expected exit code (default 0)
#   expected.F    expected content of $OUT/F, for any other name F
# The environment is fixed: LC_ALL=C, TZ=UTC, WHYDENIED_NOW, no colour, no
# GitHub variables. UPDATE=1 rewrites the expected files from the output.
# Usage: run.sh WHYDENIED_BINARY [CASE...]
set -u
WD=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export WD TOP
export LC_ALL=C TZ=UTC WHYDENIED_NOW=2026-11-27T12:00:00Z
unset NO_COLOR GITHUB_ACTIONS GITHUB_STEP_SUMMARY TERM CI WHYDENIED_RULES
export XDG_CACHE_HOME="${TMPDIR:-/tmp}/wd-golden-cache-$$"
pass=0; fail=0
if [ $# -gt 0 ]; then cases="$*"; else cases=$(ls "$HERE/cases"); fi
for c in $cases; do
	dir="$HERE/cases/$c"
	[ -f "$dir/cmd" ] || continue
	OUT=$(mktemp -d); export OUT
	( cd "$dir" && sh ./cmd ) >"$OUT/.stdout" 2>"$OUT/.stderr" </dev/null
	rc=$?
	ok=1
	want_rc=0
	[ -f "$dir/expected.rc" ] && want_rc=$(cat "$dir/expected.rc")
	if [ "${UPDATE:-0}" = 1 ]; then
		[ -f "$dir/expected.out" ] && cp "$OUT/.stdout" "$dir/expected.out"
		[ -f "$dir/expected.err" ] && cp "$OUT/.stderr" "$dir/expected.err"
		echo "$rc" >"$dir/expected.rc"
		for f in "$dir"/expected.*; do
			n=${f##*/expected.}
			case $n in out|err|rc) continue;; esac
			[ -f "$OUT/$n" ] && cp "$OUT/$n" "$f"
		done
	fi
	if [ "$rc" != "$want_rc" ]; then
		echo "FAIL $c: exit code $rc, expected $want_rc"; ok=0
		sed 's/^/  stderr: /' "$OUT/.stderr" | head -20
	fi
	for f in "$dir"/expected.*; do
		[ -f "$f" ] || continue
		n=${f##*/expected.}
		case $n in
		rc) continue;;
		out) got="$OUT/.stdout";;
		err) got="$OUT/.stderr";;
		*) got="$OUT/$n";;
		esac
		if [ ! -f "$got" ]; then
			echo "FAIL $c: $n was not written"; ok=0; continue
		fi
		if ! diff -u "$f" "$got" >"$OUT/.diff"; then
			echo "FAIL $c: $n differs"; head -40 "$OUT/.diff"; ok=0
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	rm -rf "$OUT"
done
rm -rf "$XDG_CACHE_HOME"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
