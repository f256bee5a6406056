-- Register batches as phones do: a fresh Idempotency-Key and client UUID per request.
-- BENCH_PRODUCT: product id, BENCH_TOKEN: farmer token, BENCH_PLOT (optional).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local function uuid()
  local template = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(template, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

request = function()
  counter = counter + 1
  local id = uuid()
  local body = string.format(
    '{"id":"%s","product_id":"%s","quantity":%d,"unit":"kg","harvest_date":"2026-11-20"%s}',
    id, os.getenv("BENCH_PRODUCT"), 10 + counter % 90,
    (os.getenv("BENCH_PLOT") and os.getenv("BENCH_PLOT") ~= "") and (',"plot_id":"' .. os.getenv("BENCH_PLOT") .. '"') or ""
  )
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["Idempotency-Key"] = id,
  }
  return wrk.format("POST", "/api/v1/batches", headers, body)
end
