#!/usr/bin/env bash
# bench/store.sh: kx-store against etcd 3.4, side by side in the same run.
#   1. durable writes/s and p50/p99 latency creating 1 KiB ConfigMaps with 1,
#      16 and 64 connections (wrk), against etcd's /v3/kv/put JSON gateway
#      with the same 1 KiB values; printed with the ratio;
#   2. watch fan-out: 1,000 watchers, time from a write to its delivery at
#      the last watcher (p50/p99 over the writes; the client is
#      bench/store-fanout.c, one epoll thread);
#   3. RSS of kx-store with 100,000 pods stored.
# Only loopback. Knobs: DUR (seconds per wrk run, default 3), ROUNDS (3),
# PODS (100000), WATCHERS (1000).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-3}
ROUNDS=${ROUNDS:-3}
PODS=${PODS:-100000}
WATCHERS=${WATCHERS:-1000}
for t in wrk etcd curl cc /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "bench/store.sh: needs $t" >&2; exit 1; }
done
[ -x "$TOP/bin/kx-store" ] || { echo "bench/store.sh: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/kx-bench-store.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_store() {
	rm -rf "$W/store"
	"$TOP/bin/kx-store" --listen 127.0.0.1:0 --data "$W/store" 2>"$W/store.log" &
	STORE_PID=$!
	pids="$pids $STORE_PID"
	for _ in $(seq 100); do grep -q 'listening on' "$W/store.log" 2>/dev/null && break; sleep 0.1; done
	STORE=$(grep -o 'http://[0-9.:]*' "$W/store.log" | head -1)
}
stop_store() { kill "$STORE_PID"; wait "$STORE_PID" 2>/dev/null || true; }

start_etcd() {
	local cp pp
	cp=$(freeport); pp=$(freeport)
	rm -rf "$W/etcd"
	etcd --data-dir "$W/etcd" --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
		--listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
		--initial-cluster "default=http://127.0.0.1:$pp" --log-level error >"$W/etcd.log" 2>&1 &
	ETCD_PID=$!
	pids="$pids $ETCD_PID"
	ETCD="http://127.0.0.1:$cp"
	for _ in $(seq 100); do curl -s "$ETCD/health" 2>/dev/null | grep -q true && break; sleep 0.1; done
}
stop_etcd() { kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true; }

# 1 KiB of data, and the two wrk scripts: each request a new name.
VAL=$(head -c 768 /dev/urandom | base64 -w0 | head -c 1024)
cat >"$W/store.lua" <<LUA
local n, id, t = 0, 0, 0
function setup(thread) t = t + 1; thread:set("id", t) end
function init(args) id = args[1] .. "-" .. wrk.thread:get("id") end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/namespaces/default/configmaps", nil,
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c' .. id .. '-' .. n .. '"},"data":{"v":"$VAL"}}')
end
LUA
cat >"$W/etcd.lua" <<LUA
local n, id, t = 0, 0, 0
function setup(thread) t = t + 1; thread:set("id", t) end
function init(args) id = args[1] .. "-" .. wrk.thread:get("id") end
local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function enc(s)
  return ((s:gsub('.', function(x)
    local r, b = '', x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b64:sub(c + 1, c + 1) end) .. ({ '', '==', '=' })[#s % 3 + 1])
end
local val = enc("$VAL")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v3/kv/put", nil,
    '{"key":"' .. enc("/registry/configmaps/default/c" .. id .. "-" .. n) .. '","value":"' .. val .. '"}')
end
LUA

# run URL SCRIPT CONNS -> "rps p50_ms p99_ms non2xx"
run_wrk() {
	local t=$3
	[ "$t" -gt 2 ] && t=2
	RUN=$((${RUN:-0} + 1))
	wrk -t"$t" -c"$3" -d"${DUR}s" --latency -s "$2" "$1" -- "r$RUN" >"$W/wrk.out" 2>&1 || true
	awk '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$W/wrk.out"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== durable writes: 1 KiB ConfigMaps (kx-store) vs 1 KiB puts (etcd 3.4 JSON gateway)"
echo "   ($ROUNDS rounds of ${DUR}s each, kx-store and etcd alternating so both see the same machine; medians)"
printf '%-6s %12s %9s %9s   %12s %9s %9s   %s\n' conns "kx writes/s" "p50 ms" "p99 ms" "etcd puts/s" "p50 ms" "p99 ms" "ratio"
start_store
start_etcd
for c in 1 16 64; do
	: >"$W/k"; : >"$W/e"
	for _ in $(seq "$ROUNDS"); do
		run_wrk "$STORE" "$W/store.lua" "$c" >>"$W/k"
		run_wrk "$ETCD" "$W/etcd.lua" "$c" >>"$W/e"
	done
	krps=$(cut -d' ' -f1 "$W/k" | median); kp50=$(cut -d' ' -f2 "$W/k" | median); kp99=$(cut -d' ' -f3 "$W/k" | median)
	erps=$(cut -d' ' -f1 "$W/e" | median); ep50=$(cut -d' ' -f2 "$W/e" | median); ep99=$(cut -d' ' -f3 "$W/e" | median)
	ratio=$(awk -v a="$krps" -v b="$erps" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
	printf '%-6s %12s %9s %9s   %12s %9s %9s   %s\n' "$c" "$krps" "$kp50" "$kp99" "$erps" "$ep50" "$ep99" "$ratio"
	kbad=$(awk '{s+=$4} END {print s+0}' "$W/k"); ebad=$(awk '{s+=$4} END {print s+0}' "$W/e")
	[ "$kbad" = 0 ] || echo "   (kx-store answered $kbad non-2xx)"
	[ "$ebad" = 0 ] || echo "   (etcd answered $ebad non-2xx)"
done
stop_store
stop_etcd

echo "== watch fan-out: $WATCHERS watchers, write -> delivery at the last watcher"
start_store
cc -O2 -o "$W/fanout" "$TOP/bench/store-fanout.c"
"$W/fanout" 127.0.0.1 "${STORE##*:}" "$WATCHERS" 30
stop_store

echo "== memory: kx-store RSS with $PODS pods stored"
start_store
cat >"$W/pods.lua" <<LUA
local n, id, t = 0, 0, 0
function setup(thread) t = t + 1; thread:set("id", t) end
function init(args) id = args[1] .. "-" .. wrk.thread:get("id") end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/namespaces/default/pods", nil,
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p' .. id .. '-' .. n .. '","labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}')
end
LUA
# wrk has no request count: run until the store holds PODS pods
wrk -t2 -c64 -d600s -s "$W/pods.lua" "$STORE" -- pods >/dev/null 2>&1 &
wpid=$!
pids="$pids $wpid"
start=$(date +%s)
while :; do
	rev=$(curl -s "$STORE/metrics" | awk '/^kx_store_revision /{print $2}')
	[ "${rev:-0}" -ge $((PODS + 4)) ] && break
	sleep 0.5
done
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null || true
count=$(curl -s "$STORE/api/v1/pods?limit=1" >/dev/null; curl -s "$STORE/metrics" | awk '/^kx_store_writes_total /{print $2}')
t_list=$( { /usr/bin/time -f %e curl -s -o /dev/null "$STORE/api/v1/pods"; } 2>&1 )
rss=$(awk '/VmRSS/{print $2}' /proc/"$STORE_PID"/status)
echo "$count writes (>= $PODS pods) in $(( $(date +%s) - start ))s; RSS $((rss / 1024)) MB; listing every pod took ${t_list}s"
stop_store
