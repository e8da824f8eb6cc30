-- DELETE /api/tasks/{id}, each task of delete-pool.txt (token<TAB>task_id, the write users'
-- tasks) once: threads take disjoint lines. bench/run.py refills the pool before every delete
-- run (seed.refill_delete_pool); size it above requests/s x duration (run.py --delete-pool).
-- Once a thread has used up its share it starts over, those deletes answer 404, and done()
-- says how many there were.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "delete",
  once = true,
  build = function(dir)
    local requests = {}
    for _, line in ipairs(bench.share(bench.read_lines(dir .. "/delete-pool.txt"))) do
      local token, id = bench.split(line)
      requests[#requests + 1] = wrk.format("DELETE", "/api/tasks/" .. id, bench.headers(token))
    end
    return requests
  end,
})
