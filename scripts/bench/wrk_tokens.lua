-- wrk script for scripts/bench/run.sh: rotates `Authorization: Bearer <token>` over the
-- tokens in the file named by $BENCH_TOKENS_FILE (one per line; unset or empty file = no
-- header), pre-formatting one request per token, and prints exact figures in done().
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
local reqs = {}
local counter = 0
local thread_no = 0

function setup(thread)
   thread:set("thread_id", thread_no)
   thread_no = thread_no + 1
end

function init(args)
   if tokens_file and tokens_file ~= "" then
      for line in io.lines(tokens_file) do
         if #line > 0 then
            reqs[#reqs + 1] = wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. line })
         end
      end
   end
   if #reqs == 0 then
      reqs[1] = wrk.format("GET", wrk.path)
   end
   -- Threads start on different tenants.
   counter = (thread_id or 0) * 17
end

function request()
   counter = counter + 1
   return reqs[(counter % #reqs) + 1]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRKRESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
