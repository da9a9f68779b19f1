-- wrk script: sends the reader API key from the AIMS_KEY environment variable and counts non-2xx responses.
wrk.headers["X-Api-Key"] = os.getenv("AIMS_KEY")

local non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests=%d non2xx(per-thread counters, see note)=%s p50=%.1fms p99=%.1fms\n",
    summary.requests, "n/a", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
