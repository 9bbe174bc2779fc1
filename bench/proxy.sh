#!/usr/bin/env bash
# bench/proxy.sh: kx-proxy-sync side by side with `nft -f` loading the same
# ruleset (kx-proxy-sync --dry-run's text), in throwaway network namespaces.
#
#   1. full sync of N services x E endpoints into an empty table
#   2. a second sync with nothing changed
#   3. one endpoint of one service changed: kx-proxy-sync --watch (an
#      incremental pass) and a one-shot run, against nft -f of the new text
#   4. the data path: new connections per second through a ClusterIP with 10
#      services loaded and with N (wrk, Connection: close, busybox httpd)
#
# N=10000 E=10 by default; N=2000 bench/proxy.sh for a quicker run.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
N=${N:-10000}
E=${E:-10}
[ "$(id -u)" = 0 ] || { echo "bench/proxy.sh: needs root (network namespaces)" >&2; exit 1; }
command -v nft >/dev/null || { echo "bench/proxy.sh: needs nft" >&2; exit 1; }

W=$(mktemp -d /tmp/kx-bench-proxy.XXXXXX)
B=kxb-node$$ P=kxb-pod$$ C=kxb-cli$$ X=kxb-nft$$
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for ns in $B $P $C $X; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for ns in $B $P $C $X; do ip netns add "$ns"; ip netns exec "$ns" ip link set lo up; done
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

# gen N E [FIRST-ENDPOINT-OF-SERVICE-0]: a List of N services with E endpoints
# each, and the service "target" (10.97.0.1:80 -> 10.244.0.2:80)
gen() {
	awk -v N="$1" -v E="$2" -v FIRST="${3-}" 'BEGIN {
	printf "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[\n"
	for (i = 0; i < N; i++) {
		printf "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s%d\",\"namespace\":\"bench\"},\"spec\":{\"clusterIP\":\"10.96.%d.%d\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}},\n", i, int(i / 250), i % 250 + 1
		printf "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"s%d-x\",\"namespace\":\"bench\",\"labels\":{\"kubernetes.io/service-name\":\"s%d\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[", i, i
		for (j = 0; j < E; j++) {
			a = sprintf("10.%d.%d.%d", 128 + j, int(i / 250), i % 250 + 1)
			if (i == 0 && j == 0 && FIRST != "") a = FIRST
			printf "%s{\"addresses\":[\"%s\"]}", (j ? "," : ""), a
		}
		printf "]},\n"
	}
	printf "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"target\",\"namespace\":\"bench\"},\"spec\":{\"clusterIP\":\"10.97.0.1\",\"ports\":[{\"port\":80}]}},\n"
	printf "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"target-x\",\"namespace\":\"bench\",\"labels\":{\"kubernetes.io/service-name\":\"target\"}},\"addressType\":\"IPv4\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}],\"endpoints\":[{\"addresses\":[\"10.244.0.2\"]}]}\n"
	printf "]}\n"
	}'
}

echo "kx-proxy-sync vs nft -f: $N services x $E endpoints ($(nproc) cores, $(uname -r))"
gen "$N" "$E" >"$W/big.json"
gen "$N" "$E" 10.200.0.1 >"$W/big2.json"
gen 9 "$E" >"$W/small.json"
kx-proxy-sync -f "$W/big.json" --dry-run >"$W/big.nft"
kx-proxy-sync -f "$W/big2.json" --dry-run >"$W/big2.nft"
echo "ruleset: $(grep -c '^	chain ' "$W/big.nft") chains, $(grep -c 'goto\|jump\|dnat\|masquerade\|reject' "$W/big.nft") rules and elements, nft text $(( $(stat -c %s "$W/big.nft") / 1024 )) KiB"

sync() { nsx $B kx-proxy-sync --lock "$W/lock" "$@"; }
# "ip kx: N operations, sent one batch of B bytes in T ms" from a -v log
nlsum() { echo "$(grep -o 'ip kx: .*' "$1" | head -1), $(grep -o 'sent one batch.*\|nothing sent.*' "$1" | head -1)"; }

# --- 1. full sync -------------------------------------------------------------------
t0=$(now); sync -f "$W/big.json" -v 2>"$W/full.log"; t1=$(now)
kx_full=$(ms "$t0" "$t1")
kx_full_nl=$(nlsum "$W/full.log")
t0=$(now); nsx $X nft -f "$W/big.nft"; t1=$(now)
nft_full=$(ms "$t0" "$t1")
printf '%-46s %8s ms   (%s)\n' "full sync, kx-proxy-sync -f (all of it)" "$kx_full" "$kx_full_nl"
printf '%-46s %8s ms   ratio %sx\n' "full sync, nft -f of the --dry-run text" "$nft_full" "$(ratio "$nft_full" "$kx_full")"
if nsx $B nft list table ip kx | sed 's/ # handle [0-9]*//' >"$W/a" &&
	nsx $X nft list table ip kx >"$W/b" && cmp -s "$W/a" "$W/b"; then
	echo "  (both tables list the same)"
else
	echo "  (the two tables differ!)"
fi

# --- 2. nothing changed ---------------------------------------------------------------
t0=$(now); sync -f "$W/big.json" -v 2>"$W/same.log"; t1=$(now)
printf '%-46s %8s ms   (%s)\n' "second sync, nothing changed" "$(ms "$t0" "$t1")" "$(nlsum "$W/same.log")"

# --- 3. one endpoint changes ------------------------------------------------------------
t0=$(now); sync -f "$W/big2.json" -v 2>"$W/one.log"; t1=$(now)
printf '%-46s %8s ms   (%s)\n' "one endpoint changed, one-shot -f run" "$(ms "$t0" "$t1")" "$(nlsum "$W/one.log")"
t0=$(now); nsx $X nft -f "$W/big2.nft"; t1=$(now)
nft_one=$(ms "$t0" "$t1")

# --watch fed watch events: everything ADDED, then one MODIFIED slice
jq -c '.items[] | {type: "ADDED", object: .}' "$W/big.json" >"$W/events"
jq -c '.items[] | select(.kind == "EndpointSlice" and .metadata.name == "s0-x") | {type: "MODIFIED", object: .}' "$W/big2.json" >"$W/change"
sync --cleanup
mkfifo "$W/fifo"
exec 3<>"$W/fifo"
sh -c "exec ip netns exec $B kx-proxy-sync --watch -f - --sync-period 1h -v <'$W/fifo' 2>'$W/watch.log' 3>&-" &
pids="$pids $!"
t0=$(now)
cat "$W/events" >&3
# loaded when the last object (the target service) is in and the log is quiet
for _ in $(seq 1200); do
	nsx $B nft list map ip kx service-ips 2>/dev/null | grep -q '10.97.0.1 . tcp . 80' && break
	sleep 0.1
done
t1=$(now)
while :; do
	n=$(wc -l <"$W/watch.log"); sleep 1
	[ "$n" = "$(wc -l <"$W/watch.log")" ] && break
done
passes=$(grep -c 'pass:' "$W/watch.log")
cat "$W/change" >&3
for _ in $(seq 200); do [ "$(grep -c 'pass:' "$W/watch.log")" -gt "$passes" ] && break; sleep 0.05; done
watch_one=$(grep 'pass:' "$W/watch.log" | tail -1)
watch_one_nl="$(grep 'table ip kx' "$W/watch.log" | tail -1 | grep -o 'ip kx: .*'), $(grep -o 'sent one batch.*\|nothing sent.*' "$W/watch.log" | tail -1)"
watch_one_ms=$(echo "$watch_one" | grep -o '[0-9]* ms' | grep -o '[0-9]*')
exec 3>&-
printf '%-46s %8s ms   (%s passes while events streamed in)\n' "--watch: everything ADDED, until loaded" "$(ms "$t0" "$t1")" "$passes"
printf '%-46s %8s ms   (%s; %s)\n' "one endpoint changed, --watch incremental pass" "${watch_one_ms:-?}" "$watch_one_nl" "$(echo "$watch_one" | grep -o 'incremental.*changed')"
printf '%-46s %8s ms   ratio %sx\n' "one endpoint changed, nft -f of the new text" "$nft_one" "$(ratio "$nft_one" "${watch_one_ms:-0}")"

# --- 4. data path -------------------------------------------------------------------------
if command -v wrk >/dev/null && command -v busybox >/dev/null; then
	nsx $B ip link add br0 type bridge
	nsx $B ip addr add 10.244.0.1/24 dev br0
	nsx $B ip link set br0 up
	nsx $B ip link add vp type veth peer name eth0 netns $P
	nsx $B ip link set vp master br0 up
	nsx $P ip addr add 10.244.0.2/24 dev eth0
	nsx $P ip link set eth0 up
	nsx $P ip route add default via 10.244.0.1
	nsx $B ip link add vc type veth peer name eth0 netns $C
	nsx $B ip addr add 192.168.99.1/24 dev vc
	nsx $B ip link set vc up
	nsx $C ip addr add 192.168.99.2/24 dev eth0
	nsx $C ip link set eth0 up
	nsx $C ip route add default via 192.168.99.1
	nsx $B sysctl -qw net.ipv4.ip_forward=1
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	ip netns exec $P busybox httpd -f -p 80 -h "$W/www" &
	pids="$pids $!"
	sleep 0.3
	cps() {
		nsx $C wrk -t1 -c8 -d3s -H 'Connection: close' http://10.97.0.1/ 2>/dev/null |
			awk '/Requests\/sec/ { printf "%d", $2 }'
	}
	# interleaved, twice each, as the machine's load drifts
	sync --cleanup
	c10="" cN=""
	for round in 1 2; do
		sync -f "$W/small.json"
		c10="$c10 $(cps)"
		sync -f "$W/big.json"
		cN="$cN $(cps)"
	done
	printf '%-46s %14s conn/s\n' "data path, ClusterIP with 10 services" "$c10"
	printf '%-46s %14s conn/s\n' "data path, ClusterIP with $N services" "$cN"
else
	echo "data path: skipped (needs wrk and busybox)"
fi
