-- The original locustfile's ApiUser (rr_backend §11): POST /runs_filtered_ordered, page_size 5, a filter on
-- run_number and rr_attributes.significant, no think time. Run numbers as seeded by benchmarks/http_load.py.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "histogram.lua")
math.randomseed(os.time())

request = function()
  local run = 300000 + math.random(0, 99) * 1000 + math.random(0, 499)
  local body = string.format(
    '{"page":0,"page_size":5,"sortings":[],"filter":{"and":[{"run_number":{"=":%d}}],"rr_attributes.significant":true}}',
    run)
  return wrk.format("POST", "/runs_filtered_ordered", {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.timeout + summary.errors.connect + summary.errors.read
  io.write(string.format("RESULT api requests=%d errors=%d rps=%.1f p50=%.1f p95=%.1f p99=%.1f\n",
    summary.requests, errors, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000))
  histogram("api", latency)
end
