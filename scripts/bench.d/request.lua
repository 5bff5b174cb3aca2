-- A fixed request: BENCH_METHOD (GET), BENCH_BODY_FILE (none), and the headers given
-- to wrk with -H. Every answer is read, so that non-2xx ones are counted and shown.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "") .. "common.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  wrk.body = slurp(body_file)
end
