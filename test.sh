#!/usr/bin/env bash
# Runs every test: restores NuGet packages (incl. the Bicep CLI), installs Azurite from npm, builds, runs all test
# projects, and prints the totals as one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

results="${TEST_RESULTS_DIR:-$PWD/TestResults}"
rm -rf "$results"
mkdir -p "$results"

echo "==> npm ci (Azurite for the blob integration tests)"
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "npm ci failed" >&2
  exit 1
fi

# apt packages some tests need, installed where apt-get can (each of those tests skips with a message otherwise):
# shellcheck (the Infra hook lint), python3-torch + libopenblas0-pthread (the training tests; OpenBLAS keeps torch fast),
# chromium + fonts-wqy-zenhei (the browser tests of the demo page; PSIM_CHROMIUM names another browser),
# libgomp1 (the OpenMP runtime of USearch's native library, for the HNSW tests; without it search stays exact).
missing=()
{ ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1' ; } || missing+=(libgomp1)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
/usr/bin/python3 -c "import torch" >/dev/null 2>&1 || missing+=(python3-torch libopenblas0-pthread)
[ -n "${PSIM_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> apt-get install ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >/dev/null \
    || echo "apt-get could not install ${missing[*]}; the tests that need them will be skipped" >&2
fi

echo "==> dotnet build"
if ! dotnet build Functions.sln -c Debug -nologo -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  echo "build failed" >&2
  exit 1
fi

# House style (.editorconfig): formatting, import order and the private-field naming rule. A violation counts as one
# failed check in the totals below; `dotnet format Functions.sln` fixes all but naming.
echo "==> dotnet format --verify-no-changes"
format_status=0
if ! dotnet format Functions.sln --verify-no-changes --no-restore -v q; then
  echo "dotnet format found style violations (run: dotnet format Functions.sln)" >&2
  format_status=1
fi

echo "==> dotnet test"
dotnet test Functions.sln -c Debug --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" \
  --results-directory "$results" \
  --blame-hang-timeout 10m "$@"
status=$?

# Sum the counters of every test run (one .trx per test project).
totals=$(cat "$results"/*.trx 2>/dev/null | tr '<' '\n' | grep '^Counters ' | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/[^0-9]/, "", kv[2]); c[kv[1]] += kv[2] } }
  END { printf "%d %d %d %d", c["total"], c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["total"] - c["executed"] }')
read -r total passed failed skipped <<<"${totals:-0 0 0 0}"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$format_status" -ne 0 ]; then failed=$((failed + 1)); status=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
