-- wrk script: each request is a scan by one of the seeded residents at one of the entrances,
-- chosen at random (each thread with its own seed), so that concurrent scans are of different
-- people, as at a real peak.
local pairs_file = os.getenv("PAIRS") or "bench/pairs.tsv"
-- MODE=repeat: every request is a real scan, but the same few thousand (person, entrance)
-- pairs repeat within a minute, so most answer with the earlier check-in (no new row).
-- MODE=fresh: each scan carries an offline time spread over the last 23 hours, so nearly
-- every request records new rows: the full insert path.
local mode = os.getenv("MODE") or "fresh"
-- ACKED=FILE: each thread appends the check-in id of every accepted scan to FILE.<thread>, so
-- that a crash test can check each acknowledged check-in is stored.
local acked_file = os.getenv("ACKED")
-- KEYED=1: every scan carries a new Idempotency-Key, as the mini-program kit sends.
local keyed = os.getenv("KEYED") == "1"
local sent = 0
local acked
local tokens, codes = {}, {}
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end

init = function(args)
  local i = 0
  for line in io.lines(pairs_file) do
    local token, code = line:match("([^\t]+)\t(.+)")
    if token then
      i = i + 1
      tokens[i], codes[i] = token, code
    end
  end
  math.randomseed(os.time() * 1000 + (id or 0))
  if acked_file then
    acked = assert(io.open(acked_file .. "." .. (id or 0), "a"))
    acked:setvbuf("line")
  end
end

request = function()
  local k = math.random(1, #tokens)
  local when = ""
  if mode == "fresh" then
    when = ',"scanned_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(60, 23 * 3600)) .. '"'
  end
  local headers = {
    ["content-type"] = "application/json",
    ["authorization"] = "Bearer " .. tokens[k],
  }
  if keyed then
    sent = sent + 1
    headers["idempotency-key"] = string.format("%d-%d-%d", id or 0, os.time(), sent)
  end
  return wrk.format("POST", "/api/v1/check-ins", headers, '{"code":"' .. codes[k] .. '","location":{"lat":25.2800,"lng":112.5630}' .. when .. '}')
end

local failures = 0
response = function(status, headers, body)
  if status == 201 and acked then
    acked:write(body:match('"check_in_id":(%d+)'), "\n")
  elseif status ~= 201 then
    failures = failures + 1
    if failures <= 3 then io.write("status ", status, ": ", body:sub(1, 200), "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
