-- Code redemption at POST /oauth/token: walks BENCH_CODES (one code a line, minted
-- beforehand), each of the BENCH_THREADS threads its own share, each code sent once.
-- A thread that runs out stops, and the run is marked as exhausted (its rate is then a
-- lower bound). BENCH_REDIRECT_URI is the redirect_uri the codes were minted for; the
-- client authenticates with the Authorization header given to wrk (client_secret_basic).
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "") .. "common.lua")

local codes, next_code = {}, 0
local redirect
-- The load generator shares the machine with the server, so requests are cheap to
-- make: the code is the only part that changes, and a code as long as the first one
-- goes between the two halves of a request formatted once (a wrk.format per request
-- cost wrk CPU that the fixed requests of the other scenarios do not).
local head, tail, width

function init(args)
  local k, nthreads = 0, tonumber(os.getenv("BENCH_THREADS"))
  for line in io.lines(os.getenv("BENCH_CODES")) do
    if line ~= "" then
      if k % nthreads == id then codes[#codes + 1] = line end
      k = k + 1
    end
  end
  redirect = "&redirect_uri=" .. os.getenv("BENCH_REDIRECT_URI"):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  local sample = codes[1]
  if sample then
    local template = formatted(sample)
    local at = template:find("&code=" .. sample, 1, true) + #"&code="
    head, tail, width = template:sub(1, at - 1), template:sub(at + #sample), #sample
  end
end

-- The whole request for `code`.
function formatted(code)
  return wrk.format(nil, nil, nil, "grant_type=authorization_code&code=" .. code .. redirect)
end

function request()
  next_code = next_code + 1
  local code = codes[next_code]
  if code == nil then
    exhausted = 1
    wrk.thread:stop()
    code = "pdk_ac_exhausted"
  end
  if #code == width then
    return head .. code .. tail
  end
  return formatted(code)
end
