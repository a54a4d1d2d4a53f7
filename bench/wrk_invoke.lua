-- wrk script of the benchmark (bench/wrk.py): POST one body over keep-alive connections, count
-- every response whose status is not 200, and print the figures as one JSON line.
--
--   wrk --latency -s bench/wrk_invoke.lua http://HOST:PORT/2015-03-31/functions/NAME/invocations -- BODY_FILE
--
-- The body is read from BODY_FILE (the same bytes the built-in generator sends). Latencies are
-- wrk's, in microseconds, over every response (wrk records them before the status is seen).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "rb"), "cannot read the body file " .. tostring(args[1]))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   file:close()
   wrk.headers["Content-Type"] = "application/json"
   not_200 = 0
   statuses = {}
end

function response(status, headers, body)
   if status ~= 200 then
      not_200 = not_200 + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

function done(summary, latency, requests)
   local bad, counts, kinds = 0, {}, {}
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("not_200")
      for status, n in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + n
      end
   end
   for status, n in pairs(counts) do
      kinds[#kinds + 1] = string.format('"%s": %d', status, n)
   end
   local e = summary.errors
   local p = {}
   for _, q in ipairs({50, 90, 95, 99, 99.9}) do
      p[#p + 1] = string.format('"p%s": %d', (tostring(q):gsub("%.", "_")), latency:percentile(q))
   end
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "not_200": %d, ' ..
      '"not_200_statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, ' ..
      '"timeout": %d}, "latency_us": {%s, "min": %d, "max": %d, "mean": %.1f, "stdev": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes, bad, table.concat(kinds, ", "),
      e.connect, e.read, e.write, e.timeout, table.concat(p, ", "),
      latency.min, latency.max, latency.mean, latency.stdev))
end
