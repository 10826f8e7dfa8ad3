#!/usr/bin/env bash
# Load test: a benchmark, not part of ./test.sh.
#
# Builds psim (Release), writes a synthetic catalog of 50,000 products, ingests it, starts `psim serve` on 127.0.0.1,
# drives it for 30 s with wrk (a mix of similar-items, search and recommendation requests) while one `psim ingest`
# of 5,000 changed products writes the same index from another process, stops everything by PID, and prints
# requests/s, p50/p99 latency, non-2xx responses and socket errors.
#
# Needs wrk (Debian: apt-get install wrk). Settings (environment): LOADTEST_PRODUCTS (50000), LOADTEST_CHANGED (5000),
# LOADTEST_DURATION seconds (30), LOADTEST_CONNECTIONS (16), LOADTEST_THREADS (2), LOADTEST_PORT (5099),
# LOADTEST_DIR (a new temporary folder, removed at the end unless LOADTEST_KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."

products=${LOADTEST_PRODUCTS:-50000}
changed=${LOADTEST_CHANGED:-5000}
duration=${LOADTEST_DURATION:-30}
connections=${LOADTEST_CONNECTIONS:-16}
threads=${LOADTEST_THREADS:-2}
port=${LOADTEST_PORT:-5099}
work=${LOADTEST_DIR:-$(mktemp -d /tmp/psim-load-XXXXXX)}
mkdir -p "$work"

if ! command -v wrk >/dev/null; then
  echo "wrk is not installed (Debian: apt-get install wrk)" >&2
  exit 1
fi

serve_pid=""
ingest_pid=""
cleanup() {
  for pid in $ingest_pid $serve_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  if [ "${LOADTEST_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

echo "==> building psim (Release)"
dotnet build src/ProductSimilarity.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
psim=(dotnet "$PWD/src/ProductSimilarity.Cli/bin/Release/net10.0/psim.dll")
index="$work/index"

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

echo "==> ingesting $products products (this embeds every product once)"
start=$(date +%s)
"${psim[@]}" ingest "$work/catalog.csv" --index "$index" >"$work/ingest-full.log" 2>&1
echo "    done in $(( $(date +%s) - start )) s: $(tail -1 "$work/ingest-full.log")"

echo "==> starting psim serve on 127.0.0.1:$port"
"${psim[@]}" serve --index "$index" --urls "http://127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null

cat > "$work/mix.lua" <<LUA
-- 50% similar items, 30% search, 20% recommendations, over random products; seeded per thread.
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
  if r <= 50 then
    return wrk.format("GET", "/api/products/" .. pid() .. "/similar?top=10")
  elseif r <= 80 then
    local q = words[math.random(#words)]:gsub(" ", "%%20")
    return wrk.format("GET", "/api/search?q=" .. q .. "&top=10")
  else
    local body = '{"history":[{"id":"' .. pid() .. '","event":"view"},{"id":"' .. pid() .. '","event":"cart"},{"id":"' .. pid() .. '","event":"purchase"}],"top":10}'
    return wrk.format("POST", "/api/recommendations", {["Content-Type"] = "application/json"}, body)
  end
end
LUA

echo "==> in parallel: psim ingest of $changed changed products"
"${psim[@]}" ingest "$work/changed.csv" --index "$index" --json >"$work/ingest-changed.log" 2>"$work/ingest-changed.err" &
ingest_pid=$!

echo "==> wrk: ${duration} s, $connections connections, $threads threads"
wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/mix.lua" "http://127.0.0.1:$port" | tee "$work/wrk.txt"

ingest_status=0
wait "$ingest_pid" || ingest_status=$?
ingest_pid=""
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
serve_pid=""

rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/wrk.txt")
errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
echo
echo "==> results ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores)"
echo "requests: ${total:-0} in ${duration} s, ${rps:-0} requests/s; latency p50 ${p50:-?}, p99 ${p99:-?}"
echo "non-2xx: ${non2xx:-0}; socket errors: ${errors:-0}"
echo "parallel ingest of $changed changed products: exit $ingest_status; $(cat "$work/ingest-changed.log")"
