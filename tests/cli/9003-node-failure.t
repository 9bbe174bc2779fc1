#!/usr/bin/env bash
# examples/node-failure.sh, in a network namespace of the test's own: two
# nodes, the app spread over both; one node's agent and pods are killed; the
# node goes Unknown and is tainted, its pods are evicted and recreated on the
# other node, the Service answers; the node comes back and cleans up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/9000-cluster-lib.sh"

D=$T/data
printf '%s\n' "$D/n1 n1" "$D/n2 n2" >"$T/roots"
drill() { exec nsenter --net=/run/netns/"$NS" env KX_DATA="$D" "$TOP/examples/node-failure.sh"; }
bg drill >"$T/drill.log" 2>&1
DRILL=$BG_PID
stop_drill() { kill -TERM "$DRILL" 2>/dev/null && for _ in $(seq 60); do kill -0 "$DRILL" 2>/dev/null || break; sleep 0.5; done; }
STOP=stop_drill
for _ in $(seq 600); do kill -0 "$DRILL" 2>/dev/null || break; sleep 0.5; done
wait "$DRILL"
rc=$?
is "$rc" 0 "node-failure.sh completes the drill" || diag "$(grep -v '^\[controllers\]' "$T/drill.log" | tail -40)"
log=$(grep '^\[drill\]' "$T/drill.log")
like "$log" 'the app runs on both nodes' "the app is spread over both nodes"
like "$log" 'n2 killed' "n2's agent and pods are killed"
like "$log" 'n2 is Unknown' "n2 goes Unknown"
like "$log" 'unreachable:NoExecute' "and is tainted unreachable"
like "$log" "n2's pods are evicted" "its pods are evicted"
like "$log" 'both replicas run on n1' "and recreated on n1"
like "$log" 'a pod on n1 reaches the pod on n2' "pods reach each other across the two pod networks"
like "$log" 'a pod on n1 reaches the Service' "a pod reaches the Service by its cluster IP"
like "$log" 'the Service answers \(10 of 10\)' "the Service answers after the move"
like "$log" 'while n2 was failing: [1-9][0-9]* answers' "and answered while n2 was failing"
like "$log" 'n2 is back and has removed its evicted pods' "n2 comes back and removes its evicted pods"
like "$log" 'n2 is Ready and untainted again' "and is Ready again"
ok "the controllers recorded the eviction" grep -q 'delete pods default/web-' "$T/drill.log"
is "$(pod_traces "$D/n1")$(pod_traces "$D/n2")" "" "nothing left of the pods"
is "$(test_processes)" "" "no process left"
is "$(inns nft list tables)" "" "no nft table left"

done_testing
