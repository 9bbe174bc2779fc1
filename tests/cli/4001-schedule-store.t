#!/usr/bin/env bash
# kx-schedule-once against a real kx-store: capacity, selectors, taints and
# tolerations, cordoned nodes, the Unschedulable condition and Event,
# idempotence, -f equals store mode, --dry-run, --explain, exit statuses.
. "$(dirname "$0")/lib.sh"
command -v kx-store >/dev/null || skip_all "kx-store is not built"
store_start || exit 1

# mknode NAME CPU MEM [JSON merged into the Node]
mknode() {
	local body
	body=$(jq -nc --arg n "$1" --arg c "$2" --arg m "$3" --argjson x "${4:-{\}}" \
		'{apiVersion: "v1", kind: "Node",
		  metadata: {name: $n, labels: {"kubernetes.io/hostname": $n}},
		  status: {allocatable: {cpu: $c, memory: $m, pods: "110"},
			   conditions: [{type: "Ready", status: "True"}]}} * $x')
	api POST /api/v1/nodes "$body" >/dev/null
	# the status through its subresource too, as a kubelet writes it
	api PUT "/api/v1/nodes/$1/status" "$(api GET "/api/v1/nodes/$1" |
		jq -c --argjson s "$(printf '%s' "$body" | jq .status)" '.status = $s')" >/dev/null
}
# mkpod NAME CPU [JSON merged into the Pod]
mkpod() {
	api POST /api/v1/namespaces/default/pods "$(jq -nc --arg n "$1" --arg c "$2" --argjson x "${3:-{\}}" \
		'{apiVersion: "v1", kind: "Pod", metadata: {name: $n, namespace: "default"},
		  spec: {containers: [{name: "c", image: "busybox", resources: {requests: {cpu: $c}}}]}} * $x')" >/dev/null
	[ "$API_CODE" = 201 ] || echo "# creating pod $1: HTTP $API_CODE"
}
node_of() { api GET "/api/v1/namespaces/default/pods/$1" | jq -r '.spec.nodeName // "-"'; }
pods_rv() { api GET /api/v1/pods | jq -r '[.items[].metadata.resourceVersion] | sort | join(",")'; }
# state: the store's pods and nodes as one List, as kx-get pods,nodes -o json prints
state() {
	{ api GET /api/v1/pods; api GET /api/v1/nodes; } |
		jq -s '{apiVersion: "v1", kind: "List", items: ([.[0].items[] | .kind = "Pod"] + [.[1].items[] | .kind = "Node"])}'
}

# ---- capacity ---------------------------------------------------------------
mknode n1 2 4Gi
mknode n2 2 4Gi
for p in p1 p2 p3 p4 p5; do mkpod $p 900m; done
ok "a pass with an unplaceable pod exits 0" kx-schedule-once
n1=0 n2=0
for p in p1 p2 p3 p4 p5; do
	case $(node_of $p) in n1) n1=$((n1 + 1)) ;; n2) n2=$((n2 + 1)) ;; esac
done
is "$n1 $n2" "2 2" "capacity respected: two pods of 900m per 2-cpu node"
is "$(api GET /api/v1/namespaces/default/pods | jq -r '[.items[] | select(.spec.nodeName == null) | .metadata.name] | join(" ")')" \
	"p5" "the fifth pod, created last, waits"
cond=$(api GET /api/v1/namespaces/default/pods/p5 | jq -c '.status.conditions[] | select(.type == "PodScheduled")')
is "$(printf '%s' "$cond" | jq -r '[.status, .reason] | join(" ")')" "False Unschedulable" \
	"it has PodScheduled=False, reason Unschedulable"
is "$(printf '%s' "$cond" | jq -r .message)" "0/2 nodes are available: 2 Insufficient cpu." \
	"with kube-scheduler's message"
ev=$(api GET /api/v1/namespaces/default/events | jq -r '.items[] | select(.involvedObject.name == "p5") | [.type, .reason, .message] | join("|")')
is "$ev" "Warning|FailedScheduling|0/2 nodes are available: 2 Insufficient cpu." "and a FailedScheduling Event"
like "$(api GET /api/v1/namespaces/default/events | jq -r '.items[] | select(.involvedObject.name == "p1") | .reason + " " + .message')" \
	"^Scheduled Successfully assigned default/p1 to n[12]$" "bound pods get a Scheduled Event"

# ---- idempotence -----------------------------------------------------------
before=$(pods_rv)
nev=$(api GET /api/v1/namespaces/default/events | jq '[.items[].count] | add')
ok "a second pass" kx-schedule-once
is "$(pods_rv)" "$before" "a second pass with nothing new changes no pod"
is "$(api GET /api/v1/namespaces/default/events | jq '[.items[].count] | add')" "$nev" "and records no Event"
fails "--fail-unschedulable: exit 1 while p5 waits" 1 kx-schedule-once --fail-unschedulable
mknode n3 4 8Gi
ok "a new node: p5 fits now" kx-schedule-once --fail-unschedulable
is "$(node_of p5)" "n3" "p5 goes to the new node"

# ---- dry run, -f equals the store ------------------------------------------
mknode big 16 32Gi '{"metadata":{"labels":{"disk":"ssd"}}}'
mknode gpu 16 32Gi '{"spec":{"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]},"metadata":{"labels":{"gpu":"yes"}}}'
mknode cordoned 64 64Gi '{"spec":{"unschedulable":true}}'
mkpod s1 1 '{"spec":{"nodeSelector":{"disk":"ssd"}}}'
mkpod g1 1 '{"spec":{"nodeSelector":{"gpu":"yes"},"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}}'
mkpod g2 1 '{"spec":{"nodeSelector":{"gpu":"yes"}}}'
for i in 1 2 3 4 5 6; do mkpod w$i 2; done
store_mode=$(kx-schedule-once --dry-run --seed 3)
state >"$T/state.json"
is "$(kx-schedule-once -f "$T/state.json" --dry-run --seed 3)" "$store_mode" "-f with the store's state decides as the store mode does"
is "$(api GET /api/v1/pods | jq '[.items[] | select(.spec.nodeName == null)] | length')" "9" "--dry-run binds nothing"
like "$(kx-schedule-once --explain default/g2)" "untolerated taint \{dedicated: gpu\}" "--explain against the store"
like "$(kx-schedule-once --explain default/g2)" "cordoned +FAIL" "--explain shows the cordoned node failing"

ok "the pass" kx-schedule-once
is "$(node_of s1)" "big" "nodeSelector: the ssd node"
is "$(node_of g1)" "gpu" "a tolerating pod goes to the tainted node it selects"
is "$(node_of g2)" "-" "a pod without the toleration does not"
is "$(api GET /api/v1/namespaces/default/pods/g2 | jq -r '.status.conditions[] | select(.type == "PodScheduled") | .message')" \
	"0/6 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 4 node(s) didn't match Pod's node affinity/selector." \
	"its message counts every node's reason"
is "$(api GET /api/v1/pods | jq -r '[.items[] | select(.spec.nodeName == "cordoned")] | length')" "0" "nothing lands on the cordoned node"
is "$(api GET /api/v1/pods | jq -r '[.items[] | select(.spec.nodeName == "gpu") | .metadata.name] | join(" ")')" "g1" \
	"only the tolerating pod lands on the tainted node"

# ---- a stale view: the store says no ---------------------------------------
mkpod late 100m
state >"$T/stale.json"
ok "bind it" kx-schedule-once
ok "binding from a stale file: the store refuses, the pod is skipped, exit 0" kx-schedule-once -f "$T/stale.json"
like "$(kx-schedule-once -f "$T/stale.json" -v 2>&1)" "bound 0 pods, 1 skipped" "and says it skipped it"
like "$(node_of late)" "^[a-z0-9]+$" "and the pod keeps its node"

# ---- the store unreachable --------------------------------------------------
fails "unreachable store: exit 3" 3 kx-schedule-once --server http://127.0.0.1:1
done_testing
