-- Mints codes for redeem.lua through Broker POST /v1/oauth/authorize (the body in
-- BENCH_BODY_FILE, the broker's Basic header given to wrk), appending each code to
-- BENCH_CODES.<thread>.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "") .. "common.lua")

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY_FILE"))
local out

function init(args)
  out = assert(io.open(os.getenv("BENCH_CODES") .. "." .. id, "a"))
  out:setvbuf("line")
end

function response(status, headers, body)
  count(status, body)
  local code = status == 200 and body:match('"code":"([^"]+)"')
  if code then out:write(code, "\n") end
end
