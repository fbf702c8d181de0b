-- wrk script: OP (GET or PUT) on a random key of bench/00000000 ..
-- bench/(KEYS-1) in the Workers KV namespace NS of account ACCOUNT, with
-- bearer TOKEN; a PUT sends VALUE_SIZE bytes. wrk counts answers other
-- than 2xx as "Non-2xx"; bench-wrk.sh prints that line. Used by
-- scripts/bench-wrk.sh.
local op = os.getenv("OP") or "GET"
local account = os.getenv("ACCOUNT")
local ns = os.getenv("NS")
local keys = tonumber(os.getenv("KEYS") or "10000")
local body = nil
if op == "PUT" then
  body = string.rep("v", tonumber(os.getenv("VALUE_SIZE") or "256"))
  wrk.headers["Content-Type"] = "application/octet-stream"
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local base = "/client/v4/accounts/" .. account .. "/storage/kv/namespaces/" .. ns .. "/values/bench/"

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init()
  math.randomseed(seed or os.time())
end

function request()
  return wrk.format(op, base .. string.format("%08d", math.random(0, keys - 1)), nil, body)
end
