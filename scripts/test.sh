#!/usr/bin/env bash
# Runs every test: Catch2 unit tests (ctest), Lua specs (busted under LuaJIT), and the end-to-end tests
# that start real nginx + the unchanged plugin (localgw), redis-server and echo upstreams on 127.0.0.1.
# Installs and builds first (scripts/setup.sh). Exit status is non-zero if any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

status=0

echo "== ctest (C++ unit tests)"
ctest --test-dir build --output-on-failure -j2 || status=1

echo "== busted (Lua specs)"
busted_out=$(busted --lua=luajit -o utfTerminal 2>&1)
busted_rc=$?
echo "$busted_out"
summary=$(echo "$busted_out" | grep -E '[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?' | tail -n1)
ok=$(echo "$summary" | grep -oE '^[0-9]+')
failed=$(echo "$summary" | grep -oE '[0-9]+ failures?' | grep -oE '^[0-9]+')
errors=$(echo "$summary" | grep -oE '[0-9]+ errors?' | grep -oE '^[0-9]+')
if [ -z "$summary" ]; then
  echo "busted: no summary line (did busted run at all?)"
  status=1
else
  echo "busted: ${ok} passed, $((failed + errors)) failed"
fi
[ "$busted_rc" = 0 ] || status=1

echo "== pytest (end-to-end through nginx)"
/usr/bin/python3 -m pytest -q tests/e2e || status=1

exit $status
