#!/usr/bin/env bash
# kx-proxy-sync --watch fed watch events on stdin (-f -): each change touches
# only the changed service's chains and elements; the end of input ends it.
# Runs in a network namespace of its own.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
command -v nft >/dev/null || skip_all "needs nft"
N=kxw-node$$
ip netns add $N 2>/dev/null || skip_all "cannot create network namespaces"
cleanup() { ip netns del $N 2>/dev/null; }
at_exit cleanup

svc() { # TYPE NAME IP
	printf '{"type":"%s","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"%s","namespace":"default"},"spec":{"clusterIP":"%s","ports":[{"port":80}]}}}\n' "$1" "$2" "$3"
}
slice() { # TYPE NAME ADDR...
	local t=$1 n=$2 sep="" eps=""
	shift 2
	for a in "$@"; do eps="$eps$sep{\"addresses\":[\"$a\"]}"; sep=,; done
	printf '{"type":"%s","object":{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"%s-x","namespace":"default","labels":{"kubernetes.io/service-name":"%s"}},"addressType":"IPv4","ports":[{"port":80,"protocol":"TCP"}],"endpoints":[%s]}}\n' "$t" "$n" "$n" "$eps"
}
table() { ip netns exec $N nft -a list table ip kx 2>/dev/null; }
has() { table | grep -q -- "$1"; }
# b's chains and rules, with their handles
b_chains() { table | grep -- "default/b/" | grep -v "10.96.1.2 . tcp . 80"; }

mkfifo "$T/events"
exec 3<>"$T/events"
# (a background job's stdin is /dev/null unless the job itself redirects it)
bg sh -c "exec ip netns exec $N kx-proxy-sync --watch -f - --sync-period 1h -v <'$T/events' 2>'$T/log' 3>&-"
PID=$BG_PID

{ svc ADDED a 10.96.1.1; slice ADDED a 10.244.1.1; svc ADDED b 10.96.1.2; slice ADDED b 10.244.1.2; } >&3
ok "the first events build the table" wait_for 10 has "10.96.1.2 . tcp . 80"
like "$(cat "$T/log")" "full pass: 2 services changed" "the first pass is a full one"
b_before=$(b_chains)

slice MODIFIED a 10.244.1.1 10.244.1.3 >&3
ok "a new endpoint of a is applied" wait_for 10 has "numgen random mod 2 map @endpoints"
ok "in the endpoints map" has ": 10.244.1.3 . 80"
is "$(b_chains)" "$b_before" "b's chains and element are untouched (same handles)"
like "$(cat "$T/log")" "incremental pass: 1 services changed" "the pass was incremental, for one service"

slice MODIFIED a 10.244.1.3 >&3
ok "a removed endpoint of a is applied" wait_for 10 sh -c "! ip netns exec $N nft list table ip kx | grep -q '10.244.1.1 . 80'"
fails "and its hairpin pair" 1 has "10.244.1.1 . 10.244.1.1"
a_chain() { table | grep -A3 "chain svc-default/a/"; }
a_before=$(a_chain)

slice MODIFIED a 10.244.1.5 >&3
ok "an endpoint that moves is applied" wait_for 10 has ": 10.244.1.5 . 80"
is "$(a_chain)" "$a_before" "as an element: a's chain and rule are untouched (same handles)"

svc DELETED a 10.96.1.1 >&3
ok "a deleted service goes" wait_for 10 sh -c "! ip netns exec $N nft list table ip kx | grep -q '10.96.1.1 '"
fails "with its chains" 1 sh -c "ip netns exec $N nft list table ip kx | grep -q 'default/a/'"
is "$(b_chains)" "$b_before" "and b is still untouched"

echo 'not json' >&3
exec 3>&-
wait "$PID"
is "$?" 0 "the end of input ends the watch, successfully"
like "$(cat "$T/log")" "stdin: " "a line that is not JSON is reported"
like "$(ip netns exec $N nft list table ip kx)" "10.96.1.2 . tcp . 80" "and the table stays"

done_testing
