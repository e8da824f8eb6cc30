-- GET /api/tasks as the big users with 1000 tasks each (tokens-1000.txt; seed.py --big-users).
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "list_1000",
  build = function(dir)
    local requests = {}
    for _, token in ipairs(bench.share(bench.read_lines(dir .. "/tokens-1000.txt"))) do
      requests[#requests + 1] = wrk.format("GET", "/api/tasks", bench.headers(token))
    end
    return requests
  end,
})
