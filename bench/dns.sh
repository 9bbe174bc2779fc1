#!/usr/bin/env bash
# bench/dns.sh: kx-dns side by side with dnsmasq serving the same names (from
# a hosts file), both on loopback, measured with dnsperf in the same run.
#
#   1. queries per second for the N services' A records (dnsperf, L seconds
#      each, the query list shuffled), and the ratio
#   2. the resident memory of each with N services loaded; for kx-dns both
#      from a file (-f) and, with STORE=1, from a kx-store holding them
#   3. how long kx-dns takes to build its index of N services
#
# N=10000 L=10 by default; N=1000 L=3 bench/dns.sh for a quick run.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
N=${N:-10000}
L=${L:-10}
STORE=${STORE:-0}
for c in dnsperf dnsmasq dig kx-dns; do
	command -v $c >/dev/null || { echo "bench/dns.sh: needs $c (make deps)" >&2; exit 1; }
done

W=$(mktemp -d /tmp/kx-bench-dns.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
port() { # a free port for UDP and TCP on 127.0.0.1 (from kx-dns's own choice)
	sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -1
}

# the same names three ways: a List for kx-dns, a hosts file for dnsmasq,
# a query list for dnsperf
awk -v N="$N" -v W="$W" 'BEGIN {
	printf "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[\n" >W "/list.json"
	for (i = 0; i < N; i++) {
		ip = sprintf("10.96.%d.%d", int(i / 250), i % 250 + 1)
		printf "%s{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s%d\",\"namespace\":\"bench\"},\"spec\":{\"clusterIP\":\"%s\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}\n", (i ? "," : ""), i, ip >W "/list.json"
		printf "%s s%d.bench.svc.cluster.local\n", ip, i >W "/hosts"
		printf "s%d.bench.svc.cluster.local A\n", i >W "/queries.raw"
	}
	printf "]}\n" >W "/list.json"
}'
shuf "$W/queries.raw" >"$W/queries"

echo "kx-dns vs dnsmasq: $N services, dnsperf ${L}s each ($(nproc) cores, $(uname -r))"

# kx-dns from the file
bg_start() { "$@" & pids="$pids $!"; LAST=$!; }
t0=$(date +%s%N)
bg_start kx-dns -f "$W/list.json" --listen 127.0.0.1:0 --upstream none -v 2>"$W/kx.log"
KX=$LAST
for _ in $(seq 100); do grep -q 'listening on' "$W/kx.log" && break; sleep 0.1; done
KP=$(port "$W/kx.log")
[ -n "$KP" ] || { cat "$W/kx.log" >&2; exit 1; }
echo "kx-dns: ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(grep -o '[0-9]* names, [0-9]* records in [0-9]* ms' "$W/kx.log")"

# dnsmasq with the hosts file, no upstream, no cache limit in the way
for _ in 1 2 3 4 5; do
	DP=$((20000 + RANDOM % 30000))
	bg_start dnsmasq -k --port=$DP --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
		--addn-hosts="$W/hosts" --local=/cluster.local/ --pid-file= --user=root --log-facility=- 2>"$W/dm.log"
	DM=$LAST
	for _ in $(seq 50); do grep -q 'read .*hosts' "$W/dm.log" && break; sleep 0.1; done
	grep -q 'read .*hosts' "$W/dm.log" && break
	kill "$DM" 2>/dev/null
done
[ "$(dig @127.0.0.1 -p "$KP" +short s1.bench.svc.cluster.local)" = 10.96.0.2 ] || { echo "kx-dns does not answer" >&2; exit 1; }
[ "$(dig @127.0.0.1 -p "$DP" +short s1.bench.svc.cluster.local)" = 10.96.0.2 ] || { echo "dnsmasq does not answer" >&2; exit 1; }

qps() { # port
	dnsperf -s 127.0.0.1 -p "$1" -d "$W/queries" -l "$L" -c 4 -q 200 2>&1 |
		awk '/Queries per second/ {print int($4)} /Queries lost/ {lost = $3} END {}'
}
lost() { dnsperf -s 127.0.0.1 -p "$1" -d "$W/queries" -l 1 -c 4 -q 200 2>&1 | awk '/Queries lost/ {print $3}'; }
K=$(qps "$KP")
D=$(qps "$DP")
printf '%-34s %10s %10s %8s\n' "" kx-dns dnsmasq ratio
printf '%-34s %10s %10s %8s\n' "A queries per second (UDP)" "$K" "$D" "$(ratio "$K" "$D")"
printf '%-34s %10s %10s\n' "resident memory, $N services" "$(rss "$KX")" "$(rss "$DM")"
echo "(queries lost in a 1 s run: kx-dns $(lost "$KP"), dnsmasq $(lost "$DP"))"

if [ "$STORE" = 1 ]; then
	# the same services in a kx-store: kx-dns's memory when it follows the store
	mkdir -p "$W/store"
	bg_start kx-store --listen 127.0.0.1:0 --data "$W/store" 2>"$W/store.log"
	for _ in $(seq 100); do grep -q 'listening on http://' "$W/store.log" && break; sleep 0.1; done
	export KX_SERVER=$(grep -o 'http://[0-9.:]*' "$W/store.log" | head -1)
	echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}' | kx-apply -f - >/dev/null
	t0=$(date +%s%N)
	kx-apply -f "$W/list.json" >/dev/null || exit 1
	echo "kx-store: $N services applied in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	t0=$(date +%s%N)
	bg_start kx-dns --listen 127.0.0.1:0 --upstream none -v 2>"$W/kx2.log"
	for _ in $(seq 300); do grep -q 'listening on' "$W/kx2.log" && break; sleep 0.1; done
	echo "kx-dns --server: ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms (lists and index), resident memory $(rss "$LAST")"
	P2=$(port "$W/kx2.log")
	t0=$(date +%s%N)
	echo '{"apiVersion":"v1","kind":"Service","metadata":{"name":"new","namespace":"bench"},"spec":{"clusterIP":"10.99.0.1","ports":[{"port":80}]}}' | kx-apply -f - >/dev/null
	for _ in $(seq 100); do [ "$(dig @127.0.0.1 -p "$P2" +short new.bench.svc.cluster.local)" = 10.99.0.1 ] && break; sleep 0.02; done
	echo "kx-dns --server: a new service answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after kx-apply started (index rebuilt whole)"
fi
