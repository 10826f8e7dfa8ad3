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

# The Infra tests lint infra/hooks/postdeploy.sh with shellcheck; install it where apt-get can (the test skips otherwise).
if ! command -v shellcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "==> apt-get install shellcheck"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo -n true 2>/dev/null && sudo_cmd="sudo -n"
  { $sudo_cmd apt-get install -y -q shellcheck || { $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q shellcheck; }; } >/dev/null 2>&1 \
    || echo "shellcheck could not be installed; its test will be skipped" >&2
fi

echo "==> dotnet build"
if ! dotnet build Functions.sln -c Debug -nologo -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  echo "build failed" >&2
  exit 1
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
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
