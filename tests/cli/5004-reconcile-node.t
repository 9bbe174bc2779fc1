#!/usr/bin/env bash
# kx-reconcile's node lifecycle against kx-store: a silent node goes
# Unknown, is tainted and its pods evicted; with the heartbeat back the
# taints go. All the timing is in the store: separate runs (and --now)
# decide as one long-running controller would.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
for ns in default kube-node-lease; do
	api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
done
NS=/api/v1/namespaces/default
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
t0=$(($(date +%s) - 120))

api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}' >/dev/null
heartbeat() { # time status
	curl -s "$KX_SERVER/api/v1/nodes/n1" | jq -c --arg t "$(iso "$1")" --arg s "$2" \
		'.status.conditions = [{type: "Ready", status: $s, reason: "KubeletReady", message: "ok",
		  lastHeartbeatTime: $t, lastTransitionTime: $t}]' >"$T/n.json"
	curl -s -o /dev/null -X PUT -H 'Content-Type: application/json' --data-binary @"$T/n.json" \
		"$KX_SERVER/api/v1/nodes/n1/status"
}
heartbeat "$t0" True
api POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases "{\"apiVersion\":\"coordination.k8s.io/v1\",
 \"kind\":\"Lease\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,
 \"renewTime\":\"$(iso "$t0" | sed 's/Z$/.000000Z/')\"}}" >/dev/null
is "$API_CODE" 201 "the node's Lease"
for p in plain patient; do
	tol=""
	[ $p = patient ] && tol=',"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":600}]'
	api POST $NS/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$p\"},
	 \"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]$tol}}" >/dev/null
done
node() { curl -s "$KX_SERVER/api/v1/nodes/n1" | jq -r "$1"; }
live() { curl -s "$KX_SERVER$NS/pods" | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name] | sort | join(",")'; }

# a heartbeat 2 minutes old, within a 5 minute grace period: nothing
ok "a pass with a long grace period" kx-reconcile -c node --node-monitor-grace-period 5m
is "$(node '.status.conditions[0].status')" True "the node stays Ready"
is "$(node '.spec.taints')" null "untainted"

# a 40s grace period: Unknown and tainted now; the default 5m eviction waits
ok "a pass with the default grace period" kx-reconcile -c node
is "$(node '.status.conditions[0].status')" Unknown "the silent node is Unknown"
is "$(node '.status.conditions[0].reason')" NodeStatusUnknown "reason NodeStatusUnknown"
is "$(node '[.spec.taints[] | .key + ":" + .effect] | join(" ")')" \
	"node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute" "tainted unreachable"
added=$(node '.spec.taints[] | select(.effect=="NoExecute") | .timeAdded')
like "$added" '^20[0-9-]+T[0-9:]+Z$' "the NoExecute taint has timeAdded"
is "$(live)" "patient,plain" "no pod evicted yet"
is "$(curl -s "$KX_SERVER$NS/events?fieldSelector=involvedObject.name%3Dn1" | jq -r '[.items[].reason] | sort | join(",")')" \
	"NodeNotReady,TaintAdded" "Events about the node"

rv=$(node .metadata.resourceVersion)
kx-reconcile -c node
is "$(node .metadata.resourceVersion)" "$rv" "a second pass changes nothing"

# six minutes later (by --now): the plain pod is evicted, the patient one stays
later=$(iso $(($(date +%s) + 360)))
ok "a pass six minutes later" kx-reconcile -c node --now "$later"
is "$(live)" patient "the pod without a toleration is evicted after --pod-eviction-timeout"
ok "eleven minutes later" kx-reconcile -c node --now "$(iso $(($(date +%s) + 660)))"
is "$(live)" "" "the tolerating pod after its tolerationSeconds"
is "$(node '.spec.taints[] | select(.effect=="NoExecute") | .timeAdded')" "$added" "timeAdded never moves"

# the heartbeat is back
heartbeat "$(date +%s)" True
ok "a pass after the heartbeat" kx-reconcile -c node
is "$(node '.spec.taints')" null "taints removed"

# short flags: silent 2 minutes, eviction timeout 0s: all in one pass
api POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"again"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}' >/dev/null
heartbeat $(($(date +%s) - 120)) True
ok "a pass with short flags" kx-reconcile -c node --node-monitor-grace-period 10s --pod-eviction-timeout 0s
is "$(node '.status.conditions[0].status')" Unknown "Unknown again"
is "$(live)" "" "and its pod evicted at once"
is "$(curl -s "$KX_SERVER$NS/events?fieldSelector=involvedObject.name%3Dn1" | jq -r '.items[] | select(.reason=="NodeNotReady") | .count')" \
	2 "the same NodeNotReady Event is counted twice, not repeated"

done_testing
