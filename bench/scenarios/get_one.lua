-- GET /api/tasks/{id}: one task of each normal user (tasks.txt: token<TAB>task_id).
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "get_one",
  build = function(dir)
    local requests = {}
    for _, line in ipairs(bench.share(bench.read_lines(dir .. "/tasks.txt"))) do
      local token, id = bench.split(line)
      requests[#requests + 1] = wrk.format("GET", "/api/tasks/" .. id, bench.headers(token))
    end
    return requests
  end,
})
