#!/bin/bash
# Rate limiter cost under wrk (docs/PERFORMANCE.md): one `aims serve` per setting, back to back.
# usage: tools/bench/rate-limit.sh [AIMS_DLL]   (default: the Debug build of the CLI)
set -euo pipefail
cd "$(dirname "$0")/../.."
AIMS=${1:-src/Aims.Evidence.Cli/bin/Debug/net10.0/aims.dll}
WORK=$(mktemp -d -t aims-rate-bench.XXXXXX)
dotnet "$AIMS" ingest samples --db "$WORK/b.db" --mapper lexical > /dev/null
KEY=$(dotnet "$AIMS" keys create --role reader --db "$WORK/b.db" | tail -1)
PORT=5391
for SETTING in 0 100000000 100000000 0 default; do
  PORT=$((PORT + 1))
  if [ "$SETTING" = "default" ]; then unset AIMS__API__RATELIMIT__PERMITLIMIT; else export AIMS__API__RATELIMIT__PERMITLIMIT=$SETTING; fi
  dotnet "$AIMS" serve --db "$WORK/b.db" --urls "http://127.0.0.1:$PORT" --inbox "$WORK/inbox-$PORT" --mapper lexical > "$WORK/serve-$PORT.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" > /dev/null && break; sleep 1; done
  wrk -t2 -c16 -d3s -H "X-Api-Key: $KEY" "http://127.0.0.1:$PORT/api/v1/coverage" > /dev/null 2>&1
  echo "== PERMITLIMIT=$SETTING load: $(cut -d' ' -f1-3 /proc/loadavg)"
  wrk -t2 -c64 -d15s --timeout 10s --latency -H "X-Api-Key: $KEY" "http://127.0.0.1:$PORT/api/v1/coverage" | grep -E "Requests/sec|Non-2xx|50%|99%|requests in|Socket" || true
  kill "$PID"; wait "$PID" 2> /dev/null || true
done
rm -rf "$WORK"
