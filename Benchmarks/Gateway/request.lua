-- wrk script: POSTs one chat completion (WRK_STREAM=1: streamed) per request, with the bearer
-- token in WRK_TOKEN if set; WRK_DELAY_MS paces each connection (requests/s ≈ connections ×
-- 1000 / (delay + latency)) for the fixed-rate runs.
local stream = os.getenv("WRK_STREAM") == "1"
local token = os.getenv("WRK_TOKEN")
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
if token and token ~= "" then wrk.headers["authorization"] = "Bearer " .. token end
wrk.body = '{"model": "gpt-4o-mini", "max_tokens": 50, "stream": ' .. tostring(stream) ..
    ', "messages": [{"role": "user", "content": "Say hello"}]}'

function delay()
    return pause
end

-- Any answer but 200 is an error for the report (wrk counts only socket errors by itself);
-- each thread counts its own, summed at the end.
local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

failures = 0
function response(status, headers, body)
    if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("failures") end
    io.write(string.format("non-200: %d\n", total))
end
