-- POST /api/tasks as the write users (tokens-write.txt), so that the normal users' lists keep
-- their size; bench/run.py clears what this adds when it refills the delete pool.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local BODY = '{"title": "Created by wrk", "description": "bench/scenarios/create.lua", '
  .. '"completed": false}'

bench.run({
  name = "create",
  build = function(dir)
    local requests = {}
    for _, token in ipairs(bench.share(bench.read_lines(dir .. "/tokens-write.txt"))) do
      requests[#requests + 1] = wrk.format("POST", "/api/tasks", bench.json_headers(token), BODY)
    end
    return requests
  end,
})
