-- PUT /api/tasks/{id} with If-Match: * on one task of each normal user (tasks.txt).
--
-- Why *: every update bumps the task's version, so a version written down at seed time is stale
-- after the first run, and reading it first would make each update two requests and measure
-- the read too. If-Match: * still goes through the API's precondition path (the task must
-- exist) and the trigger still checks and bumps the version; only the compare is skipped.
-- completed alternates between lines, so consecutive updates change something.
local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

bench.run({
  name = "update",
  build = function(dir)
    local requests = {}
    for i, line in ipairs(bench.share(bench.read_lines(dir .. "/tasks.txt"))) do
      local token, id = bench.split(line)
      local body = string.format(
        '{"title": "Updated by wrk", "description": "bench/scenarios/update.lua", '
          .. '"completed": %s}',
        i % 2 == 0 and "true" or "false"
      )
      local headers = bench.json_headers(token, { ["If-Match"] = "*" })
      requests[#requests + 1] = wrk.format("PUT", "/api/tasks/" .. id, headers, body)
    end
    return requests
  end,
})
