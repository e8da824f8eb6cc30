-- POST /api/auth/signin for the built-in accounts seed.py made (accounts.txt), each with the
-- same password: every request verifies an argon2id hash, in a worker thread.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local PASSWORD = "bench password 1234" -- seed.py's BENCH_PASSWORD

bench.run({
  name = "signin",
  build = function(dir)
    local requests = {}
    for _, email in ipairs(bench.share(bench.read_lines(dir .. "/accounts.txt"))) do
      local body = '{"email": "' .. email .. '", "password": "' .. PASSWORD .. '"}'
      requests[#requests + 1] =
        wrk.format("POST", "/api/auth/signin", { ["Content-Type"] = "application/json" }, body)
    end
    return requests
  end,
})
