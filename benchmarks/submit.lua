-- wrk script for benchmarks/submit_load.py: each request is one respondent pressing
-- "Send response" with their own session, CSRF token and idempotency key.
-- The run is timed (-d); the list is made long enough that it is not used up.
local lines = {}
local file = os.getenv("BENCH_REQUESTS")
for line in io.lines(file) do lines[#lines + 1] = line end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end

function init(args)
  acked = 0
  other = 0
  step = tonumber(os.getenv("BENCH_THREADS_WRK"))
  idx = id
end

function request()
  -- Past the end of the list the same people press again: idempotent replays.
  local line = lines[((idx - 1) % #lines) + 1]
  idx = idx + step
  local session, csrf, key, path = line:match("([^;]+);([^;]+);([^;]+);([^;]+)")
  local body = "csrfmiddlewaretoken=" .. csrf .. "&idempotency_key=" .. key
  local headers = {
    ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 302 then acked = acked + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    o = o + t:get("other")
  end
  io.write(string.format("RESULT acked=%d other=%d requests=%d seconds=%.3f p50=%.1f p95=%.1f p99=%.1f max=%.1f\n",
    a, o, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
