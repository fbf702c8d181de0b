-- wrk script: PUT VALUE_SIZE bytes to a random key of
-- bench/00000000..bench/(KEYS-1) in the Workers KV namespace NS of account
-- ACCOUNT, with bearer TOKEN. Used by scripts/bench-wrk.sh.
local account = os.getenv("ACCOUNT")
local ns = os.getenv("NS")
local keys = tonumber(os.getenv("KEYS") or "10000")
local body = string.rep("v", tonumber(os.getenv("VALUE_SIZE") or "256"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/octet-stream"
local base = "/client/v4/accounts/" .. account .. "/storage/kv/namespaces/" .. ns .. "/values/bench/"

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init()
  math.randomseed(seed or os.time())
end

function request()
  return wrk.format("PUT", base .. string.format("%08d", math.random(0, keys - 1)), nil, body)
end

function response(status)
  if status ~= 200 then
    error("PUT answered " .. status)
  end
end
