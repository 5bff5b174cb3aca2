-- Shared by every scenario of scripts/bench: counts non-2xx answers, keeps the first
-- few of their bodies, and prints one machine-readable line when the run ends.
--
-- Environment: BENCH_ERRORS, a file that receives "STATUS BODY" lines (at most three
-- per thread), when set.

local threads = {}

function setup(thread)
  -- wrk calls setup() and then init() for each thread in turn, so a thread cannot learn
  -- here how many will follow: scenarios that share work read BENCH_THREADS.
  thread:set("id", #threads) -- 0, 1, …
  table.insert(threads, thread)
end

non2xx = 0
exhausted = 0
local logged = 0
local errors_path = os.getenv("BENCH_ERRORS")

-- Scenarios that read their answers call this from their own response().
function count(status, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if logged < 3 and errors_path then
      logged = logged + 1
      local f = io.open(errors_path, "a")
      f:write(status, " ", (body or ""):gsub("[\r\n]+", " "), "\n")
      f:close()
    end
  end
end

function response(status, headers, body)
  count(status, body)
end

-- One line, tab-separated: BENCH requests non2xx duration_us p50_us p99_us
-- socket_errors exhausted_threads
function done(summary, latency, requests)
  local bad, out = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    out = out + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format("BENCH\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n",
    summary.requests, bad, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, out))
end

-- Reads a file of the caller's into a string (request bodies).
function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- A paced run (BENCH_DELAY_MS): each connection waits this long before each request,
-- so that the offered rate is a chosen share of the peak (scripts/bench's half-rate
-- runs); wrk's latencies still time each request from its send. wrk takes whole
-- milliseconds, so a fraction is made up on average: 1.7 is 2 ms seven times in ten
-- and 1 ms otherwise.
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace then
  local whole, fraction = math.floor(pace), pace - math.floor(pace)
  function delay()
    if math.random() < fraction then
      return whole + 1
    end
    return whole
  end
end
