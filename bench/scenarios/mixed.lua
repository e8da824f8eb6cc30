-- 80% reads, 20% writes, in a fixed cycle of 20 requests:
--   10 list (GET /api/tasks, 100 tasks)  6 get_one       (reads: 16 = 80%)
--    2 toggle  1 update (If-Match: *)     1 create        (writes: 4 = 20%)
-- list, get_one, toggle and update act on the normal users (tasks.txt), create on the write
-- users (tokens-write.txt) so that the normal users keep 100 tasks each.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local KINDS = {
  "list", "get_one", "list", "toggle", "list", "get_one", "list", "update", "list", "get_one",
  "list", "create", "list", "get_one", "list", "toggle", "list", "get_one", "list", "get_one",
}
local CREATE = '{"title": "Created by wrk", "description": "bench/scenarios/mixed.lua", '
  .. '"completed": false}'
local UPDATE = '{"title": "Updated by wrk", "description": "bench/scenarios/mixed.lua", '
  .. '"completed": true}'

bench.run({
  name = "mixed",
  build = function(dir)
    local tasks = bench.share(bench.read_lines(dir .. "/tasks.txt"))
    local writers = bench.share(bench.read_lines(dir .. "/tokens-write.txt"))
    local requests, created = {}, 0
    -- whole cycles, and every task line used at least once
    for i = 1, math.ceil(#tasks / #KINDS) * #KINDS do
      local token, id = bench.split(tasks[(i - 1) % #tasks + 1])
      local kind = KINDS[(i - 1) % #KINDS + 1]
      local request
      if kind == "list" then
        request = wrk.format("GET", "/api/tasks", bench.headers(token))
      elseif kind == "get_one" then
        request = wrk.format("GET", "/api/tasks/" .. id, bench.headers(token))
      elseif kind == "toggle" then
        request = wrk.format("PATCH", "/api/tasks/" .. id .. "/toggle", bench.headers(token))
      elseif kind == "update" then
        local headers = bench.json_headers(token, { ["If-Match"] = "*" })
        request = wrk.format("PUT", "/api/tasks/" .. id, headers, UPDATE)
      else
        created = created + 1
        local writer = writers[(created - 1) % #writers + 1]
        request = wrk.format("POST", "/api/tasks", bench.json_headers(writer), CREATE)
      end
      requests[#requests + 1] = request
    end
    return requests
  end,
})
