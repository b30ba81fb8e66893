-- wrk script: each request is a scan by one of the seeded residents at one of the entrances.
local pairs_file = os.getenv("PAIRS") or "bench/pairs.tsv"
-- MODE=repeat: every request is a real scan, but the same few thousand (person, entrance)
-- pairs repeat within a minute, so most answer with the earlier check-in (no new row).
-- MODE=fresh: each scan carries an offline time spread over the last 23 hours, so nearly
-- every request records new rows: the full insert path.
local mode = os.getenv("MODE") or "fresh"
local tokens, codes = {}, {}

init = function(args)
  local i = 0
  for line in io.lines(pairs_file) do
    local token, code = line:match("([^\t]+)\t(.+)")
    if token then
      i = i + 1
      tokens[i], codes[i] = token, code
    end
  end
  math.randomseed(os.time() + (args and #args or 0))
  counter = math.random(1, #tokens)
end

request = function()
  counter = counter % #tokens + 1
  local when = ""
  if mode == "fresh" then
    when = ',"scanned_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(60, 23 * 3600)) .. '"'
  end
  return wrk.format("POST", "/api/v1/check-ins", {
    ["content-type"] = "application/json",
    ["authorization"] = "Bearer " .. tokens[counter],
  }, '{"code":"' .. codes[counter] .. '","location":{"lat":25.2800,"lng":112.5630}' .. when .. '}')
end

local failures = 0
response = function(status, headers, body)
  if status ~= 201 then
    failures = failures + 1
    if failures <= 3 then io.write("status ", status, ": ", body:sub(1, 200), "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
