#!/usr/bin/env bash
# kx-proxy-sync against a real kx-store: one pass with --server, then
# --watch following the store's watch streams. The table lives in a network
# namespace of the test's own; the store listens on loopback.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
command -v nft >/dev/null || skip_all "needs nft"
command -v kx-store >/dev/null || skip_all "needs kx-store"
N=kxs-node$$
ip netns add $N 2>/dev/null || skip_all "cannot create network namespaces"
cleanup() { ip netns del $N 2>/dev/null; }
at_exit cleanup

# The store runs in the namespace too, on its loopback, where the program is.
ip netns exec $N ip link set lo up
mkdir -p "$T/store"
bg ip netns exec $N kx-store --listen 127.0.0.1:0 --data "$T/store" 2>"$T/store.log"
wait_for 10 grep -q 'listening on http://' "$T/store.log" || { sed 's/^/# /' "$T/store.log"; skip_all "kx-store did not start"; }
KX_SERVER=$(grep -o 'http://[0-9.:]*' "$T/store.log" | head -1)
export KX_SERVER
curl() { ip netns exec $N curl "$@"; } # api() talks to the store in the namespace
svc() { # NAME IP
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default"},"spec":{"clusterIP":"%s","ports":[{"name":"http","port":80}]}}' "$1" "$2"
}
slice() { # NAME ADDR
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"%s-x","namespace":"default","labels":{"kubernetes.io/service-name":"%s"}},"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[{"addresses":["%s"]}]}' "$1" "$1" "$2"
}
SVCS=/api/v1/namespaces/default/services
SLICES=/apis/discovery.k8s.io/v1/namespaces/default/endpointslices
api POST $SVCS "$(svc web 10.96.2.1)" >/dev/null
is "$API_CODE" 201 "a service is created in the store"
api POST $SLICES "$(slice web 10.244.2.1)" >/dev/null
is "$API_CODE" 201 "and its endpoint slice"

in_ns() { ip netns exec $N "$@"; }
ok "one pass from the store" in_ns kx-proxy-sync --server "$KX_SERVER" --lock "$T/lock"
like "$(in_ns nft list table ip kx)" "10.96.2.1 . tcp . 80 : goto svc-.*default/web/tcp/http" "builds the service's element"
like "$(in_ns nft list table ip kx)" ": 10.244.2.1 . 8080" "and its endpoint, in an endpoints map"
fails "an unreachable store exits 3" 3 in_ns kx-proxy-sync --server http://127.0.0.1:1 --lock "$T/lock"

# --- --watch ----------------------------------------------------------------------
has() { in_ns nft list table ip kx 2>/dev/null | grep -q -- "$1"; }
bg ip netns exec $N kx-proxy-sync --watch --server "$KX_SERVER" --sync-period 1h -v 2>"$T/watch.log"
api POST $SVCS "$(svc api 10.96.2.2)" >/dev/null
api POST $SLICES "$(slice api 10.244.2.2)" >/dev/null
ok "--watch: a new service appears" wait_for 10 has "10.96.2.2 . tcp . 80"
ok "with its endpoint" wait_for 10 has ": 10.244.2.2 . 8080"
rv=$(api GET $SLICES/api-x | jq -r .metadata.resourceVersion)
body=$(slice api 10.244.2.9 | jq -c --arg rv "$rv" '.metadata.resourceVersion = $rv')
api PUT $SLICES/api-x "$body" >/dev/null
is "$API_CODE" 200 "the endpoint slice is updated in the store"
ok "--watch: the changed endpoint is applied" wait_for 10 has ": 10.244.2.9 . 8080"
fails "and the old one is gone" 1 has ": 10.244.2.2 . 8080"
api DELETE $SVCS/api >/dev/null
ok "--watch: a deleted service goes" wait_for 10 sh -c "! ip netns exec $N nft list table ip kx | grep -q '10.96.2.2 '"
like "$(cat "$T/watch.log")" "incremental pass: 1 services changed" "changes are applied incrementally"
like "$(in_ns nft list table ip kx)" "10.96.2.1 . tcp . 80" "the other service stays"

done_testing
