-- serve_wrk.lua - wrk script for bench/serve.sh: LookupEvents pages of 50 events
-- (unsigned) the way paginating clients ask for them. Each connection picks a random
-- EndTime in [START, END] (StartTime = START, so every page is full), then follows the
-- NextToken of each response for up to FOLLOW pages before picking a new window.
-- Environment: BT_START, BT_END (epoch seconds), BT_FOLLOW (default 5).
-- wrk keeps one Lua state per thread, not per connection, so run it with as many
-- threads as connections (-t N -c N): each thread then has one request in flight and
-- its NextToken goes back with the window it was issued for.

local target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
local t0 = tonumber(os.getenv("BT_START"))
local t1 = tonumber(os.getenv("BT_END"))
local follow = tonumber(os.getenv("BT_FOLLOW") or "5")
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
  wrk.headers["X-Amz-Target"] = target
  window = nil
  token = nil
  followed = 0
  bad = 0
  full = 0
end

function request()
  if token == nil or followed >= follow then
    window = string.format('"StartTime":%d,"EndTime":%d,"MaxResults":50', t0,
                           math.random(t0 + 86400, t1))
    token = nil
    followed = 0
    return wrk.format(nil, "/", nil, "{" .. window .. "}")
  end
  followed = followed + 1
  return wrk.format(nil, "/", nil, "{" .. window .. ',"NextToken":"' .. token .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    token = nil
    return
  end
  -- the token is at the very end of the body: look only there (this script shares
  -- the CPU with the server)
  token = string.match(string.sub(body, -120), '"NextToken":"([^"]+)"}$')
  if token then full = full + 1 end
end

function done(summary, latency, requests)
  local b, f = 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    f = f + t:get("full")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT pages=%d seconds=%.2f pages_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%d with_next_token=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, b, f,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
