-- wrk script: the request from the environment, and one machine-readable line for bench/run.py.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

-- A path spread over several URLs (BENCH_URLS_FILE, one a line) takes them in turn, and a
-- "{unique}" in its body becomes a value no other request of the run sends: a write that
-- changes something every time (a PATCH that sends what is stored records nothing).
local urls_file = os.getenv("BENCH_URLS_FILE")
if urls_file and urls_file ~= "" then
  local urls = {}
  for line in io.lines(urls_file) do
    urls[#urls + 1] = line
  end
  local counter = 0
  local run = tostring(os.time())
  local threads = 0
  setup = function(thread) -- in wrk's main state: each thread its own number
    threads = threads + 1
    thread:set("thread_number", threads)
  end
  request = function()
    counter = counter + 1
    local body = wrk.body
    if body then
      local unique = run .. "-" .. tostring(thread_number) .. "-" .. counter
      body = body:gsub("{unique}", unique)
    end
    return wrk.format(nil, urls[(counter % #urls) + 1], nil, body)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
