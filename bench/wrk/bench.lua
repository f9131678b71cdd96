-- wrk script for every bench run. Without arguments it sends wrk's own request (GET, -H headers);
-- with `-- TOKENS_FILE BODY` it POSTs BODY as JSON, rotating the bearer tokens in TOKENS_FILE (one a
-- line), so that a thousand accounts are spread over the connections; with `-- TOKENS_FILE BODY N RUN`
-- the body is a batch of N events with reference ids unique to the run, the thread and the request;
-- with `-- TOKENS_FILE BODY N RUN ACCOUNTS_FILE SPAN` (a platform key's batch across accounts) each event
-- also names an account of ACCOUNTS_FILE (one id a line): a request's events go round its SPAN accounts,
-- and the window of SPAN accounts moves on by SPAN each request, from a random start per thread.
-- done() prints one line the bench parses: requests, duration and latency percentiles in microseconds.

local tokens = nil
local body = nil
local next_token = 0
local batch = nil
local run = ""
local sent = 0
local threads = 0
local accounts = nil
local span = 0
local next_account = 0

-- In the main state, once per thread: a number that makes this thread's reference ids its own.
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

init = function(args)
  if args[1] == nil then
    return
  end
  tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  body = args[2]
  batch = tonumber(args[3])
  run = args[4] or ""
  if args[5] ~= nil then
    accounts = {}
    for line in io.lines(args[5]) do
      accounts[#accounts + 1] = line
    end
    span = tonumber(args[6]) or #accounts
  end
  -- Threads start at different tokens, so two threads do not hit the same account in lockstep.
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  next_token = math.random(#tokens)
  if accounts ~= nil then
    next_account = math.random(#accounts) - 1
  end
end

request = function()
  if tokens == nil then
    return wrk.request()
  end
  next_token = next_token % #tokens + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[next_token],
    ["Content-Type"] = "application/json",
  }
  if batch == nil then
    return wrk.format("POST", nil, headers, body)
  end
  local events = {}
  for i = 1, batch do
    sent = sent + 1
    local account = ""
    if accounts ~= nil then
      account = ', "account": "' .. accounts[(next_account + (i - 1) % span) % #accounts + 1] .. '"'
    end
    events[i] = '{"operation_type": "clustering", "reference_id": "' .. run .. '-' .. thread_id .. '-' .. sent .. '"' .. account .. '}'
  end
  if accounts ~= nil then
    next_account = (next_account + span) % #accounts
  end
  return wrk.format("POST", nil, headers, '{"events": [' .. table.concat(events, ", ") .. ']}')
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
