-- The original locustfile's UIUser (rr_backend §11): load the run list page, then think for 1–5 s.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "histogram.lua")
math.randomseed(os.time() + 1)

request = function()
  return wrk.format("GET", "/online/global")
end

delay = function()
  return math.random(1000, 5000)
end

done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.timeout + summary.errors.connect + summary.errors.read
  io.write(string.format("RESULT page requests=%d errors=%d rps=%.1f p50=%.1f p95=%.1f p99=%.1f\n",
    summary.requests, errors, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000))
  histogram("page", latency)
end
