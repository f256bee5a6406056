-- Register batches as phones do: a fresh Idempotency-Key and client UUID per request.
-- BENCH_PRODUCT: product id, BENCH_TOKEN: farmer token, BENCH_PLOT (optional).
local counter = 0
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
  -- `thread_id` is the global that setup() gave this thread: threads must not share a random sequence
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000) + (thread_id or 0) * 7919)
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

local shown = 0
response = function(status, headers, body)
  if status >= 400 and shown < 3 then
    shown = shown + 1
    io.stderr:write("register_batch: HTTP " .. status .. " " .. body .. "\n")
  end
end
