-- wrk: ../shared/bench/checkout.lua at a set pace: each connection waits PAUSE_MS
-- before its next checkout, so the rate stays near connections × 1000 / PAUSE_MS.
dofile(os.getenv("CHECKOUT_LUA"))
local pause = tonumber(os.getenv("PAUSE_MS") or "0")
function delay() return pause end
