-- Shared by the wrk scenarios in this folder. A scenario calls bench.run{...} with a `build`
-- function that turns the seeded files into this thread's list of ready-made requests (built
-- once, in init, so that wrk spends no time formatting during the run).
--
--   wrk -t T -c C -d 10s --latency -s bench/scenarios/list.lua http://127.0.0.1:8000 -- DIR T
--
-- DIR is where bench/seed.py wrote its files (default bench/results, relative to the current
-- directory); T must repeat wrk's -t (default 2): thread k of T takes lines k, k+T, k+2T, ...
-- of each file, round-robin, so threads never share a line (which matters for delete, whose
-- tasks can each be deleted only once). Each thread cycles through its lines in order.
--
-- done() prints one line
--   BENCH_RESULT {"requests": ..., "non2xx": ..., "latency_us": {"p50": ...}, ...}
-- that bench/run.py parses (wrk's own --latency table has no p95). "non2xx" is wrk's own count
-- of answers with a status of 400 or above. With BENCH_STATUSES=1 in the environment the script
-- also defines response(), which counts every status outside 200-299, each on its own: wrk then
-- copies every response's headers and body into Lua, which doubled its CPU per list request
-- (25 kB bodies) on two cores shared with the service, so it is off unless asked for.
local bench = {}

function bench.read_lines(path)
  local file = io.open(path, "r")
  if file == nil then
    error("cannot open " .. path .. ": run bench/seed.py first, or pass its folder after --")
  end
  local lines = {}
  for line in file:lines() do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  file:close()
  if #lines == 0 then
    error(path .. " is empty")
  end
  return lines
end

-- "token<TAB>task_id" -> token, task_id
function bench.split(line)
  local token, id = line:match("^([^\t]+)\t(%d+)$")
  if token == nil then
    error("expected token<TAB>task_id, got: " .. line:sub(1, 40))
  end
  return token, id
end

-- This thread's share of the lines: k, k+T, k+2T, ... (all of them when there are too few).
function bench.share(lines)
  if #lines < thread_count then
    return lines
  end
  local mine = {}
  for i = thread_index, #lines, thread_count do
    mine[#mine + 1] = lines[i]
  end
  return mine
end

function bench.headers(token, extra)
  local headers = { ["Authorization"] = "Bearer " .. token }
  for name, value in pairs(extra or {}) do
    headers[name] = value
  end
  return headers
end

function bench.json_headers(token, extra)
  local headers = bench.headers(token, extra)
  headers["Content-Type"] = "application/json"
  return headers
end

local function json_counts(counts)
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- scenario = { name = "...", build = function(dir) return {request, ...} end,
--              once = true: each request can succeed only once (delete); done() reports how many
--              were sent again after the thread ran through its share }
function bench.run(scenario)
  local threads = {}

  function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_index", #threads)
  end

  function init(args)
    local dir = args[1] or "bench/results"
    thread_count = tonumber(args[2] or "2")
    if thread_index > thread_count then
      error("wrk runs more threads than the T given after --: pass -- DIR T with T = -t")
    end
    requests = scenario.build(dir)
    if #requests == 0 then
      error(scenario.name .. ": nothing to send")
    end
    next_request = 0
    cycles = 0
    repeated = 0
    non2xx = 0
    statuses = {}
  end

  function request()
    next_request = next_request + 1
    if next_request > #requests then
      next_request = 1
      cycles = cycles + 1
    end
    if cycles > 0 then
      repeated = repeated + 1
    end
    return requests[next_request]
  end

  if os.getenv("BENCH_STATUSES") == "1" then
    function response(status, headers, body)
      if status < 200 or status > 299 then
        non2xx = non2xx + 1
        statuses[status] = (statuses[status] or 0) + 1
      end
    end
  end

  function done(summary, latency, _)
    local total, counts, reused = 0, {}, 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get("non2xx") or 0)
      for status, n in pairs(thread:get("statuses") or {}) do
        counts[status] = (counts[status] or 0) + n
      end
      reused = reused + (thread:get("repeated") or 0)
    end
    local errors = summary.errors
    if response == nil then  -- wrk's own count: statuses of 400 and above
      total = errors.status
    end
    io.write(string.format("%s: %d non-2xx responses %s\n", scenario.name, total, json_counts(counts)))
    if scenario.once and reused > 0 then
      io.write(string.format(
        "%s: the pool ran out, %d requests repeated an earlier one (refill it and run again)\n",
        scenario.name, reused))
    end
    io.write(string.format(
      'BENCH_RESULT {"scenario": "%s", "requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"non2xx": %d, "statuses": %s, "repeated": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      scenario.name, summary.requests, summary.duration, summary.bytes, total, json_counts(counts),
      reused, errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.max, latency.mean))
  end
end

return bench
