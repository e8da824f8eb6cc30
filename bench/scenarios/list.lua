-- GET /api/tasks as the normal users (100 tasks each), round-robin over tokens.txt.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "list",
  build = function(dir)
    local requests = {}
    for _, token in ipairs(bench.share(bench.read_lines(dir .. "/tokens.txt"))) do
      requests[#requests + 1] = wrk.format("GET", "/api/tasks", bench.headers(token))
    end
    return requests
  end,
})
