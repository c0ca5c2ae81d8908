-- Shared by the wrk scripts: print the latency distribution as requests per bucket (upper bounds in ms), so a
-- run's tail is seen whole, not only as three percentiles. wrk's `latency(i)` (1-based) gives the i-th
-- distinct recorded value (µs) and its count; `#latency` is how many distinct values it holds.
local edges = {5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000}

function histogram(kind, latency)
  local counts = {}
  for j = 1, #edges + 1 do counts[j] = 0 end
  for i = 1, #latency do
    local value, count = latency(i)
    local ms, j = value / 1000, 1
    while j <= #edges and ms > edges[j] do j = j + 1 end
    counts[j] = counts[j] + count
  end
  local parts = {}
  for j = 1, #edges do parts[#parts + 1] = string.format("%d:%d", edges[j], counts[j]) end
  parts[#parts + 1] = string.format("inf:%d", counts[#edges + 1])
  io.write("HISTOGRAM " .. kind .. " " .. table.concat(parts, " ") .. "\n")
end
