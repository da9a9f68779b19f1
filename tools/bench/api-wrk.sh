#!/bin/bash
# API requests/s and latency under wrk, 64 connections (docs/PERFORMANCE.md, "API under load").
# usage: tools/bench/api-wrk.sh [AIMS_DLL] [SECONDS]   (default: the Debug build of the CLI, 30 s per endpoint)
# The samples are ingested with the default mapper into a fresh db; one reader key; the per-key rate limiter is off
# (one wrk key would otherwise meet it within a second); the server listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
AIMS=${1:-src/Aims.Evidence.Cli/bin/Debug/net10.0/aims.dll}
SECONDS_PER_ENDPOINT=${2:-30}
WORK=$(mktemp -d -t aims-wrk-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
dotnet "$AIMS" ingest samples --db "$WORK/b.db" > /dev/null
KEY=$(dotnet "$AIMS" keys create --role reader --db "$WORK/b.db" | tail -1)
PORT=5481
AIMS__API__RATELIMIT__PERMITLIMIT=0 dotnet "$AIMS" serve --db "$WORK/b.db" --urls "http://127.0.0.1:$PORT" --inbox "$WORK/inbox" > "$WORK/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2> /dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 90); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" > /dev/null && break; sleep 1; done
for ENDPOINT in coverage gaps "search?q=risk" "controls/A.6.2.4" documents; do
  URL="http://127.0.0.1:$PORT/api/v1/$ENDPOINT"
  curl -sf -o /dev/null -H "X-Api-Key: $KEY" "$URL" || { echo "GET $ENDPOINT failed"; exit 1; }
  wrk -t2 -c16 -d3s -H "X-Api-Key: $KEY" "$URL" > /dev/null 2>&1
  echo "== /api/v1/$ENDPOINT  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  wrk -t2 -c64 -d"${SECONDS_PER_ENDPOINT}s" --timeout 10s --latency -H "X-Api-Key: $KEY" "$URL" | grep -E "Requests/sec|Non-2xx|50%|99%|requests in|Socket" || true
done
echo "server VmHWM: $(grep VmHWM /proc/$PID/status | tr -s ' ')"
