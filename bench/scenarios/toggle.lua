-- PATCH /api/tasks/{id}/toggle on one task of each normal user (tasks.txt), no If-Match: the
-- toggle is atomic in the database and needs no version.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "toggle",
  build = function(dir)
    local requests = {}
    for _, line in ipairs(bench.share(bench.read_lines(dir .. "/tasks.txt"))) do
      local token, id = bench.split(line)
      local path = "/api/tasks/" .. id .. "/toggle"
      requests[#requests + 1] = wrk.format("PATCH", path, bench.headers(token))
    end
    return requests
  end,
})
