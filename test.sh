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

echo "==> Chromium (browser tests of the demo page; skipped without it)"
if [ -z "${PSIM_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium fonts-wqy-zenhei; } >/dev/null \
      || echo "apt-get could not install chromium: the browser tests will be skipped" >&2
  else
    echo "no chromium and no apt-get: the browser tests will be skipped" >&2
  fi
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
