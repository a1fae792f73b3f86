-- wrk script of benches/serve.sh: every request POSTs one call's envelope (README "The API")
-- with a call ID of its own, and every reply is read to its end: a reply counts as good only
-- when it is a 200 whose last line is "done" (a call that failed ends with {"error": ...}).
--
--   wrk -t2 -c50 -d10s -s serve_wrk.lua https://127.0.0.1:PORT/v1/user/enquire -- TOKEN NOW MEMBERS
--
-- TOKEN: the hex token of a session file; NOW: the test clock (DMS_NOW, RFC 3339); MEMBERS:
-- the call's own members as JSON object members, e.g. '"user_id":"B000012S"'. At the end it
-- prints one JSON line: the counts, wrk's errors and the latency percentiles in microseconds.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

function init(args)
    token, now, members = args[1], args[2], args[3]
    n, good, bad, sample = 0, 0, 0, ""
end

function request()
    n = n + 1
    local body = string.format('{"call_id":"%02x%012x","session":"%s","now":"%s","format":"json",%s}',
        tid, n, token, now, members)
    return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
    if status == 200 and body:sub(-7) == '"done"\n' then
        good = good + 1
    else
        bad = bad + 1
        if sample == "" then sample = status .. " " .. body:sub(-300) end
    end
end

function done(summary, latency, requests)
    local good, bad, sample = 0, 0, ""
    for _, t in ipairs(threads) do
        good = good + t:get("good")
        bad = bad + t:get("bad")
        if sample == "" then sample = t:get("sample") end
    end
    local e = summary.errors
    sample = sample:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end)
    io.write(string.format(
        '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, '
            .. '"non2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
            .. '"good": %d, "bad": %d, "bad_sample": "%s"}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, latency.mean, e.status, e.connect, e.read, e.write, e.timeout, good, bad, sample))
end
