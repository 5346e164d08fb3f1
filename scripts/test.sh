#!/usr/bin/env bash
# Runs every test suite of the repository and ends with one plain line:
#   N passed, N failed
# (CI does not read mocha's or node:test's own summaries.)
set -uo pipefail
cd "$(dirname "$0")/.."
export HARDHAT_DISABLE_TELEMETRY=true
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

passed=0
failed=0
status=0

sum() { grep -Eo "$1" "$2" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
# Hardhat ends with one unindented line per outcome over all its runners:
#   "75 passing (11 solidity, 64 mocha)"; the runners' own lines are indented.
hardhat_total() {
  sed 's/\x1b\[[0-9;]*m//g' "$2" | grep -E "^[0-9]+ $1" | tail -1 | grep -Eo '^[0-9]+' || echo 0
}

echo "== contracts (hardhat test: Solidity fuzz/invariant + mocha) =="
hardhat test 2>&1 | tee "$log/contracts.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(hardhat_total passing "$log/contracts.txt"); f=$(hardhat_total failing "$log/contracts.txt")
passed=$((passed + p)); failed=$((failed + f))

# Off-chain parts keep their tests next to them: <part>/test/*.test.ts (node:test).
offchain=()
for part in node gateway oracle-workers indexer sdk; do
  for f in "$part"/test/*.test.ts; do [ -e "$f" ] && offchain+=("$f"); done
done
if [ "${#offchain[@]}" -gt 0 ]; then
  echo "== off-chain parts (node:test) =="
  node --test --test-reporter=spec "${offchain[@]}" 2>&1 | tee "$log/offchain.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  p=$(sum 'ℹ pass [0-9]+' "$log/offchain.txt"); f=$(sum 'ℹ fail [0-9]+' "$log/offchain.txt")
  passed=$((passed + p)); failed=$((failed + f))
fi

echo "== typecheck (tsc, strict) =="
if ! tsc --noEmit -p .; then
  echo "typecheck failed"
  failed=$((failed + 1))
fi

# A suite that crashed before reporting counts as a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
