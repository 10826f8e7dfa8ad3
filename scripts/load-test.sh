#!/usr/bin/env bash
# Load test: a benchmark, not part of ./test.sh.
#
# Builds psim (Release), writes a synthetic catalog of 50,000 products, ingests it once, and then, for each connection
# count asked for: copies that index, starts `psim serve` on 127.0.0.1, drives it for 30 s with wrk (a mix of
# similar-items, search and recommendation requests) while one `psim ingest` of 5,000 changed products writes the same
# index from another process, stops everything by PID, and prints requests/s, p50/p99 latency, non-2xx responses and
# socket errors (connect, read, write, timeout), and how many requests the server itself logged as slow, by route and
# with the time each spent per stage (embed, refresh, vector, keyword...).
#
# "The load two cores sustain" is the highest connection count at which p99 stays under 50 ms with zero errors and zero
# non-2xx responses while the 5,000-product ingestion runs beside the server. Find it with a sweep, e.g.
#   LOADTEST_CONNECTIONS="1 2 4 8 16" bash scripts/load-test.sh
# (each count is a separate 30 s run on a fresh copy of the index, with its own concurrent ingestion), and read the
# table at the end. wrk keeps every connection busy (closed loop), so requests/s at that count is the throughput the
# machine sustains within the latency target. One kind of request alone: LOADTEST_MIX="search=100".
#
# Needs wrk (Debian: apt-get install wrk). Settings (environment):
#   LOADTEST_PRODUCTS (50000), LOADTEST_CHANGED (5000; 0 runs no concurrent ingestion), LOADTEST_DURATION seconds (30),
#   LOADTEST_CONNECTIONS (16; a space-separated list runs a sweep), LOADTEST_THREADS (2, at most the connections),
#   LOADTEST_MIX (similar=50,search=30,recommend=20: percentages of each request kind),
#   LOADTEST_SLOW_MS (50: the server logs requests slower than this, with their stages), LOADTEST_PORT (5099),
#   LOADTEST_DIR (a new temporary folder, removed at the end unless LOADTEST_KEEP=1; an existing LOADTEST_DIR's
#   base-index is reused), LOADTEST_PSIM (a built psim.dll to run instead of building this checkout: to compare two
#   builds on the same index, back to back).
# The server and the ingestion run with the product's defaults (background index refresh, query-embedding cache, the
# ingestion at low CPU priority); pass ProductSimilarity__... variables to change them, as for any psim command.
set -euo pipefail
cd "$(dirname "$0")/.."

products=${LOADTEST_PRODUCTS:-50000}
changed=${LOADTEST_CHANGED:-5000}
duration=${LOADTEST_DURATION:-30}
connection_list=${LOADTEST_CONNECTIONS:-16}
threads_max=${LOADTEST_THREADS:-2}
mix=${LOADTEST_MIX:-similar=50,search=30,recommend=20}
slow_ms=${LOADTEST_SLOW_MS:-50}
port=${LOADTEST_PORT:-5099}
work=${LOADTEST_DIR:-$(mktemp -d /tmp/psim-load-XXXXXX)}
mkdir -p "$work"

if ! command -v wrk >/dev/null; then
  echo "wrk is not installed (Debian: apt-get install wrk)" >&2
  exit 1
fi

pct() { # pct KIND: the percentage LOADTEST_MIX gives KIND (0 when absent)
  local value
  value=$(tr ',' '\n' <<<"$mix" | awk -F= -v k="$1" '$1 == k {print $2}')
  echo "${value:-0}"
}
p_similar=$(pct similar); p_search=$(pct search); p_recommend=$(pct recommend)
if [ $((p_similar + p_search + p_recommend)) -ne 100 ]; then
  echo "LOADTEST_MIX must give similar, search and recommend percentages that add up to 100 (got '$mix')" >&2
  exit 1
fi

serve_pid=""
ingest_pid=""
stop() { # stop PID: TERM, then wait for it
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  stop "$ingest_pid"
  stop "$serve_pid"
  if [ "${LOADTEST_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

if [ -n "${LOADTEST_PSIM:-}" ]; then
  echo "==> using $LOADTEST_PSIM"
  psim=(dotnet "$LOADTEST_PSIM")
else
  echo "==> building psim (Release)"
  dotnet build src/ProductSimilarity.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
  psim=(dotnet "$PWD/src/ProductSimilarity.Cli/bin/Release/net10.0/psim.dll")
fi
base="$work/base-index"

echo "==> writing a synthetic catalog of $products products and $changed changed ones"
gen() { # gen COUNT VERSION: deterministic products; VERSION 2 changes title words and prices
  awk -v n="$1" -v v="$2" 'BEGIN {
    split("kettle toaster blender lamp mug backpack speaker charger jacket headphones rice-cooker knife pan wok bottle", kinds, " ");
    split("compact deluxe portable smart classic ergonomic wireless stainless foldable heavy-duty", adjs, " ");
    split("Acme Zenith Nova Orbit Pioneer Summit Vertex Lumen Atlas Borealis", brands, " ");
    print "id,title,brand,category,price,in_stock";
    for (i = 0; i < n; i++) {
      k = kinds[i % 15 + 1]; a = adjs[int(i / 15) % 10 + 1]; b = brands[i % 10 + 1];
      extra = (v == 2) ? " v2 edition" : "";
      price = (v == 2) ? 7 + (i % 200) : 5 + (i % 200);
      printf "P%06d,%s %s %s model %d%s,%s,%s,%d.99,%s\n", i, a, k, b, i, extra, b, k, price, (i % 7 == 0) ? "false" : "true";
    }
  }'
}
gen "$products" 1 > "$work/catalog.csv"
gen "$changed" 2 > "$work/changed.csv"

if [ -d "$base" ]; then
  echo "==> reusing the ingested index in $base"
else
  echo "==> ingesting $products products (this embeds every product once)"
  start=$(date +%s)
  "${psim[@]}" ingest "$work/catalog.csv" --index "$base" >"$work/ingest-full.log" 2>&1
  echo "    done in $(( $(date +%s) - start )) s: $(tail -1 "$work/ingest-full.log")"
fi

cat > "$work/mix.lua" <<LUA
-- similar $p_similar%, search $p_search%, recommendations $p_recommend%, over random products; seeded per thread.
local products = $products
local words = {"kettle", "wireless speaker", "rice cooker", "stainless pan", "portable lamp", "smart charger", "headphones", "foldable backpack"}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(1000 + id)
end
local function pid() return string.format("P%06d", math.random(0, products - 1)) end
function request()
  local r = math.random(100)
  if r <= $p_similar then
    return wrk.format("GET", "/api/products/" .. pid() .. "/similar?top=10")
  elseif r <= $((p_similar + p_search)) then
    local q = words[math.random(#words)]:gsub(" ", "%%20")
    return wrk.format("GET", "/api/search?q=" .. q .. "&top=10")
  else
    local body = '{"history":[{"id":"' .. pid() .. '","event":"view"},{"id":"' .. pid() .. '","event":"cart"},{"id":"' .. pid() .. '","event":"purchase"}],"top":10}'
    return wrk.format("POST", "/api/recommendations", {["Content-Type"] = "application/json"}, body)
  end
end
LUA

cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
summary="$work/summary.txt"
: > "$summary"

run_one() { # run_one CONNECTIONS
  local connections=$1 threads=$threads_max run="$work/c$1" index
  [ "$threads" -gt "$connections" ] && threads=$connections
  mkdir -p "$run"
  index="$run/index"
  rm -rf "$index"
  cp -r "$base" "$index"

  echo "==> [$connections connections] starting psim serve on 127.0.0.1:$port"
  ProductSimilarity__Serving__SlowQueryMilliseconds=$slow_ms \
    "${psim[@]}" serve --index "$index" --urls "http://127.0.0.1:$port" >"$run/serve.log" 2>&1 &
  serve_pid=$!
  # The server warms up (index, vectors, graph, model) before it listens.
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null

  if [ "$changed" -gt 0 ]; then
    echo "==> [$connections connections] in parallel: psim ingest of $changed changed products"
    "${psim[@]}" ingest "$work/changed.csv" --index "$index" --json >"$run/ingest-changed.log" 2>"$run/ingest-changed.err" &
    ingest_pid=$!
  fi

  echo "==> [$connections connections] wrk: ${duration} s, $threads threads, mix $mix"
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/mix.lua" "http://127.0.0.1:$port" | tee "$run/wrk.txt"

  local ingest_status=0 ingest_note="none"
  if [ -n "$ingest_pid" ]; then
    wait "$ingest_pid" || ingest_status=$?
    ingest_pid=""
    ingest_note="exit $ingest_status: $(tr -d '\n' < "$run/ingest-changed.log" | cut -c1-200)"
  fi
  stop "$serve_pid"
  serve_pid=""
  if [ "${LOADTEST_KEEP:-0}" != 1 ]; then rm -rf "$index"; fi

  local rps p50 p99 non2xx errors total slow
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$run/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$run/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$run/wrk.txt")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$run/wrk.txt")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); print "connect " $4 ", read " $6 ", write " $8 ", timeout " $10}' "$run/wrk.txt")
  total=$(awk '/requests in/ {print $1}' "$run/wrk.txt")
  slow=$(grep -c "Slow .* query" "$run/serve.log" || true)
  echo
  echo "--- $connections connections: ${total:-0} requests, ${rps:-0} requests/s, p50 ${p50:-?}, p99 ${p99:-?}, non-2xx ${non2xx:-0}, socket errors: ${errors:-none}"
  echo "    server: $slow requests over ${slow_ms} ms: similar $(grep -c 'Slow similar' "$run/serve.log" || true), search $(grep -c 'Slow search' "$run/serve.log" || true), recommendations $(grep -c 'Slow recommendations' "$run/serve.log" || true); the slowest:"
  grep -o "Slow [a-z]* query: [0-9.]* ms.*" "$run/serve.log" | sort -t' ' -k4 -g -r | head -3 | sed 's/^/      /' || true
  echo "    concurrent ingestion: $ingest_note"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$connections" "${total:-0}" "${rps:-0}" "${p50:-?}" "${p99:-?}" "${non2xx:-0}" "${errors:-none}" "$slow" >> "$summary"
}

for c in $connection_list; do
  run_one "$c"
done

echo
echo "==> results ($cpu, $(nproc) cores, load average$(uptime | awk -F'load average' '{print $2}'); mix $mix; concurrent ingestion of $changed changed products)"
printf '%-12s %-9s %-11s %-9s %-9s %-8s %-44s %s\n' connections requests requests/s p50 p99 non-2xx "socket errors" "slow (>${slow_ms} ms, server)"
while IFS=$'\t' read -r c total rps p50 p99 non2xx errors slow; do
  printf '%-12s %-9s %-11s %-9s %-9s %-8s %-44s %s\n' "$c" "$total" "$rps" "$p50" "$p99" "$non2xx" "$errors" "$slow"
done < "$summary"
