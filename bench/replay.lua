-- Replays prepared requests round-robin: every request carries its own user's
-- session cookie and CSRF token, which the Python side fetched through the real
-- sign-in and comment form before the run. The server does not care which TCP
-- connection carries which user, so a per-request cookie is all that
-- per-user state needs.
--
-- Arguments (after --): requests file, request budget for each thread.
-- The file has one request a line: METHOD <tab> PATH <tab> COOKIE <tab> BODY. A body holding
-- __N__ has it replaced by a number of its own on each send.
--
-- wrk itself stops only at -d; each thread also stops after its budget, and
-- because wrk then still reports the full -d as the duration, the active
-- window (first request sent to last response read) is measured here.
-- done() prints one JSON line that bench/load.py parses.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local UNIQUE = "__N__"
local prepared = {}
local sent = 0
local run_id = ""
local position = 0
local budget = 0
responses = 0
first_sent = -1
last_read = -1
statuses = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local path = args[1]
  budget = tonumber(args[2])
  for line in io.lines(path) do
    local method, target, cookie, body = unpack(split(line))
    local headers = { ["Host"] = wrk.host .. ":" .. wrk.port, ["User-Agent"] = "consult-bench/1" }
    if cookie ~= "" then
      headers["Cookie"] = "session=" .. cookie
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
    if body ~= nil and body:find(UNIQUE, 1, true) then
      -- Formatted on each send: see request().
      table.insert(prepared, { method, target, headers, body })
    else
      table.insert(prepared, wrk.format(method, target, headers, body))
    end
  end
  -- The warm-up is a run of its own: its sends are numbered apart from the measured run's.
  run_id = string.format("%.0f", now_us())
  -- Threads start at different users so that none of them replays another's order.
  position = (thread_index * 7919) % #prepared
end

function request()
  if first_sent < 0 then
    first_sent = now_us()
  end
  position = position % #prepared + 1
  local entry = prepared[position]
  if type(entry) == "table" then
    -- A body holding the marker gets words of its own on every send (run, thread and count), so that a
    -- replayed save is a new comment, as a person's next comment is, and not the same form sent again.
    sent = sent + 1
    local body = (entry[4]:gsub(UNIQUE, run_id .. "-" .. thread_index .. "-" .. sent))
    return wrk.format(entry[1], entry[2], entry[3], body)
  end
  return entry
end

function response(status, headers, body)
  responses = responses + 1
  last_read = now_us()
  statuses[status] = (statuses[status] or 0) + 1
  if responses >= budget then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local first, last = -1, -1
  local merged = {}
  for _, thread in ipairs(threads) do
    local sent, read = thread:get("first_sent"), thread:get("last_read")
    if sent >= 0 and (first < 0 or sent < first) then first = sent end
    if read > last then last = read end
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "wrk_duration_us": %d, "active_us": %.0f, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, (first >= 0 and last >= first) and (last - first) or 0,
    table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
