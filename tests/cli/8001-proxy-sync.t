#!/usr/bin/env bash
# kx-proxy-sync end to end, in network namespaces this test makes itself:
# a "node" with a bridge, two pods serving HTTP (busybox httpd) on it, and a
# client routed through the node. Services are given with -f; every packet
# stays inside these namespaces.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
command -v busybox >/dev/null || skip_all "needs busybox (busybox-static)"
command -v nft >/dev/null || skip_all "needs nft"
ip netns add "kxp-probe$$" 2>/dev/null || skip_all "cannot create network namespaces"
ip netns del "kxp-probe$$"

N=kxp-node$$ P1=kxp-pod1-$$ P2=kxp-pod2-$$ C=kxp-cli$$ S=kxp-scratch$$
cleanup() {
	for ns in $N $P1 $P2 $C $S; do ip netns del "$ns" 2>/dev/null; done
}
at_exit cleanup
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- the network -------------------------------------------------------------
for ns in $N $P1 $P2 $C $S; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
nsx $N ip link add br0 type bridge
nsx $N ip addr add 10.244.0.1/24 dev br0
nsx $N ip link set br0 up
i=0
for p in $P1 $P2; do
	i=$((i + 1))
	nsx $N ip link add "v$i" type veth peer name eth0 netns "$p"
	nsx $N ip link set "v$i" master br0 up
	nsx $N ip link set "v$i" type bridge_slave hairpin on
	nsx "$p" ip addr add "10.244.0.$((i + 1))/24" dev eth0
	nsx "$p" ip link set eth0 up
	nsx "$p" ip route add default via 10.244.0.1
	mkdir -p "$T/www$i"
	echo "pod$i" >"$T/www$i/index.html"
	bg ip netns exec "$p" busybox httpd -f -p 80 -h "$T/www$i"
done
nsx $N ip link add vc type veth peer name eth0 netns $C
nsx $N ip addr add 192.168.77.1/24 dev vc
nsx $N ip link set vc up
nsx $C ip addr add 192.168.77.2/24 dev eth0
nsx $C ip link set eth0 up
nsx $C ip route add default via 192.168.77.1
nsx $N sysctl -qw net.ipv4.ip_forward=1
# the service range: routed somewhere, so that a packet to a service with no
# endpoints meets the reject rule instead of "no route"
nsx $N ip route add 10.96.0.0/16 dev br0

# a table that is not ours, which must be left alone
nsx $N nft -f - <<'EOF'
table ip other {
	chain c {
		type filter hook input priority 0; policy accept;
		tcp dport 9 counter accept
	}
}
EOF
other_before=$(nsx $N nft list table ip other)

# --- the services ------------------------------------------------------------
# ep ADDR... -> EndpointSlice endpoints
eps() {
	local sep="" a
	printf '['
	for a in "$@"; do printf '%s{"addresses":["%s"],"conditions":{"ready":true},"nodeName":"n1"}' "$sep" "$a"; sep=,; done
	printf ']'
}
# svc NAME IP LB EXTRA-SPEC ENDPOINTS-JSON
svc() {
	cat <<EOF
{"kind":"Service","apiVersion":"v1","metadata":{"name":"$1","namespace":"default","annotations":{"kx.io/lb":"$3"}},
 "spec":{"clusterIP":"$2","ports":[{"name":"http","port":80,"protocol":"TCP"${6-}}]${4-}}},
{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"$1-x","namespace":"default","labels":{"kubernetes.io/service-name":"$1"}},
 "addressType":"IPv4","ports":[{"name":"http","port":80,"protocol":"TCP"}],"endpoints":$5},
EOF
}
write_services() { # WEB-ENDPOINTS...
	{
		echo '{"kind":"List","apiVersion":"v1","items":['
		svc web 10.96.0.10 random ',"type":"NodePort"' "$(eps "$@")" ',"nodePort":30080'
		svc rr 10.96.0.11 rr '' "$(eps 10.244.0.2 10.244.0.3)"
		svc sh 10.96.0.12 sh '' "$(eps 10.244.0.2 10.244.0.3)"
		svc sticky 10.96.0.13 random ',"sessionAffinity":"ClientIP"' "$(eps 10.244.0.2 10.244.0.3)"
		svc self 10.96.0.14 random '' "$(eps 10.244.0.2)"
		svc empty 10.96.0.15 random '' '[]'
		echo '{"kind":"Service","apiVersion":"v1","metadata":{"name":"headless","namespace":"default"},"spec":{"clusterIP":"None","ports":[{"port":80}]}}'
		echo ']}'
	} >"$T/services.json"
}
write_services 10.244.0.2 10.244.0.3

sync() { nsx $N kx-proxy-sync --node n1 -f "$T/services.json" --lock "$T/lock" "$@"; }
get() { nsx "$1" busybox wget -q -O- "http://$2/" 2>&1; }
# N fetches from NS, answers joined by spaces
fetch() {
	local ns=$1 url=$2 n=$3 out=""
	for _ in $(seq "$n"); do out="$out$(get "$ns" "$url") "; done
	printf '%s' "${out% }"
}

ok "a sync builds the table" sync
like "$(nsx $N nft list table ip kx)" "10.96.0.10 . tcp . 80 : goto svc-" "the cluster IP is in the service-ips map"
table=$(nsx $N nft list table ip kx)
like "$table" "dnat ip to numgen random mod 1 offset [0-9]+ . numgen random mod 1 offset [0-9]+ . numgen random mod 2 map @endpoints" \
	"a service chain picks and DNATs in one rule, through the endpoints map"
fails "there is no chain per endpoint" 1 sh -c "ip netns exec $N nft list table ip kx | grep -q 'chain ep-'"
like "$table" "10.244.0.3 . 10.244.0.3" "the hairpin set holds the endpoints"

# --- nothing changed: nothing sent (before any traffic fills the affinity sets) ------------------------------------------------
before=$(nsx $N nft -a list ruleset)
ok "a second sync with nothing changed succeeds" sync
after=$(nsx $N nft -a list ruleset)
is "$after" "$before" "and leaves the ruleset byte for byte the same"
out=$(sync -v 2>&1)
like "$out" "table ip kx: 0 operations" "it found nothing to do"
like "$out" "nothing to change: nothing sent" "and sent nothing"


# --- ClusterIP -------------------------------------------------------------------
answers=$(fetch $C 10.96.0.10 30)
like "$answers" "pod1" "a ClusterIP answers from pod 1 (client namespace)"
like "$answers" "pod2" "and from pod 2"
like "$(fetch $N 10.96.0.10 1)" "^pod[12]$" "the node itself reaches the ClusterIP (output hook)"
like "$(fetch $P2 10.96.0.10 1)" "^pod[12]$" "a pod reaches the ClusterIP (prerouting)"

rr=$(fetch $C 10.96.0.11 4)
like "$rr" "^(pod1 pod2 pod1 pod2|pod2 pod1 pod2 pod1)$" "kx.io/lb: rr alternates"
sh=$(fetch $C 10.96.0.12 6)
like "$sh" "^(pod1( pod1){5}|pod2( pod2){5})$" "kx.io/lb: sh sticks to one pod for one client"
sticky=$(fetch $C 10.96.0.13 8)
like "$sticky" "^(pod1( pod1){7}|pod2( pod2){7})$" "sessionAffinity ClientIP sticks"
like "$(nsx $N nft list set ip kx aff-default/sticky/tcp/http__10.244.0.2/80; nsx $N nft list set ip kx aff-default/sticky/tcp/http__10.244.0.3/80)" \
	"192.168.77.2 expires" "the affinity set remembers the client with a timeout"

# --- NodePort, hairpin, no endpoints -----------------------------------------------
like "$(fetch $C 192.168.77.1:30080 1)" "^pod[12]$" "NodePort on the node's address"
is "$(fetch $P1 10.96.0.14 1)" "pod1" "hairpin: a pod reaches itself through its service"
out=$(timeout 10 ip netns exec $C busybox wget -q -O- http://10.96.0.15/ 2>&1)
like "$out" "refused" "a service without endpoints refuses at once (tcp reset)"
out=$(timeout 10 ip netns exec $N busybox wget -q -O- http://10.96.0.15/ 2>&1)
like "$out" "refused" "and from the node itself"
fails "headless services are not proxied" 1 sh -c "ip netns exec $N nft list table ip kx | grep -q headless"

# --- an endpoint goes -----------------------------------------------------------------
write_services 10.244.0.3
ok "a sync after an endpoint was removed" sync
is "$(fetch $C 10.96.0.10 10)" "pod2 pod2 pod2 pod2 pod2 pod2 pod2 pod2 pod2 pod2" "removing an endpoint takes effect"
is "$(nsx $N nft list table ip other)" "$other_before" "another table is left alone"

# --- an endpoint moves: an element changes, no chain or rule ------------------------------
write_services 10.244.0.2
out=$(sync -vv 2>&1)
like "$out" "add element endpoints-[0-9a-f]{2} [0-9]+ . [0-9]+ . 0 : 10.244.0.2 . 80" "an endpoint that moves changes its element in an endpoints map"
fails "and no chain or rule" 1 sh -c 'printf "%s" "$1" | grep -Eq "^(add|flush|replace|delete) (chain|rules)"' _ "$out"
is "$(fetch $C 10.96.0.10 4)" "pod1 pod1 pod1 pod1" "and traffic follows it"

# --- --dry-run -------------------------------------------------------------------------
sync --dry-run >"$T/dry.nft"
ok "--dry-run output is accepted by nft -c -f" ip netns exec $S nft -c -f "$T/dry.nft"
nsx $S nft -f "$T/dry.nft"
nsx $S nft list table ip kx >"$T/by-nft"
nsx $N kx-proxy-sync --cleanup
sync
nsx $N nft list table ip kx >"$T/by-sync"
ok "--dry-run | nft -f - builds the same table as the program" diff -u "$T/by-nft" "$T/by-sync"

# --- ipvs --------------------------------------------------------------------------------
like "$(sync --mode ipvs --dry-run 2>/dev/null)" "-A -t 10.96.0.11:80 -s rr" "--mode ipvs --dry-run prints ipvsadm-restore input"
err=$(sync --mode ipvs 2>&1)
if [ -e /proc/net/ip_vs ]; then
	diag "this kernel has IPVS: the fallback is not tested here"
else
	like "$err" "no IPVS.*falling back to nftables" "--mode ipvs without IPVS in the kernel says so and falls back"
	like "$(nsx $N nft list table ip kx)" "service-ips" "and the nftables table is there"
fi

# --- --cleanup -------------------------------------------------------------------------------
ok "--cleanup" nsx $N kx-proxy-sync --cleanup
fails "removes table ip kx" 1 nsx $N nft list table ip kx
is "$(nsx $N nft list table ip other)" "$other_before" "and leaves the other table alone"
ok "--cleanup with nothing to remove succeeds" nsx $N kx-proxy-sync --cleanup

done_testing
