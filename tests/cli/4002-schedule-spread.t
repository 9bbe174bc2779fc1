#!/usr/bin/env bash
# kx-schedule-once against kx-store: required anti-affinity, spreading a
# ReplicaSet's pods over nodes and zones, preferred node affinity, host
# ports, and pods placed in one pass counting against each other.
. "$(dirname "$0")/lib.sh"
command -v kx-store >/dev/null || skip_all "kx-store is not built"
store_start || exit 1

mknode() { # NAME CPU MEM [JSON merged into the Node]
	local body
	body=$(jq -nc --arg n "$1" --arg c "$2" --arg m "$3" --argjson x "${4:-{\}}" \
		'{apiVersion: "v1", kind: "Node",
		  metadata: {name: $n, labels: {"kubernetes.io/hostname": $n}},
		  status: {allocatable: {cpu: $c, memory: $m, pods: "110"}}} * $x')
	api POST /api/v1/nodes "$body" >/dev/null
	api PUT "/api/v1/nodes/$1/status" "$(api GET "/api/v1/nodes/$1" |
		jq -c --argjson s "$(printf '%s' "$body" | jq .status)" '.status = $s')" >/dev/null
}
mkpod() { # NAME [JSON merged into the Pod]
	api POST /api/v1/namespaces/default/pods "$(jq -nc --arg n "$1" --argjson x "${2:-{\}}" \
		'{apiVersion: "v1", kind: "Pod", metadata: {name: $n, namespace: "default"},
		  spec: {containers: [{name: "c", image: "busybox"}]}} * $x')" >/dev/null
}
placement() { # label selector -> "pod=node ..." sorted
	api GET "/api/v1/namespaces/default/pods?labelSelector=$1" |
		jq -r '[.items[] | "\(.metadata.name)=\(.spec.nodeName // "-")"] | sort | join(" ")'
}
distinct_nodes() { # label selector -> number of distinct nodes used
	api GET "/api/v1/namespaces/default/pods?labelSelector=$1" |
		jq '[.items[] | .spec.nodeName | select(. != null)] | unique | length'
}

za='{"metadata":{"labels":{"topology.kubernetes.io/zone":"a"}}}'
zb='{"metadata":{"labels":{"topology.kubernetes.io/zone":"b"}}}'
mknode a1 8 16Gi "$za"
mknode a2 8 16Gi "$za"
mknode a3 8 16Gi "$za"
mknode b1 8 16Gi "$zb"

# required anti-affinity by hostname: one per node, the fifth waits
anti='{"metadata":{"labels":{"app":"db"}},"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"kubernetes.io/hostname"}]}}}}'
for i in 1 2 3 4 5; do mkpod db$i "$anti"; done
ok "pass" kx-schedule-once
is "$(distinct_nodes app=db)" "4" "anti-affinity: four replicas on four nodes"
like "$(placement app=db)" "db5=-" "the fifth has nowhere to go"
is "$(api GET /api/v1/namespaces/default/pods/db5 | jq -r '.status.conditions[] | select(.type == "PodScheduled") | .message')" \
	"0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules." "with the anti-affinity reason"

# spreading: a ReplicaSet's pods over nodes, and over zones first
api POST /apis/apps/v1/namespaces/default/replicasets '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' >/dev/null
[ "$API_CODE" = 201 ] || diag "no ReplicaSets in this store ($API_CODE): spreading by labels only"
mkpod web1 '{"metadata":{"labels":{"app":"web"}}}'
mkpod web2 '{"metadata":{"labels":{"app":"web"}}}'
ok "pass" kx-schedule-once
p=$(placement app=web)
like "$p" "web1=[ab][0-9] web2=[ab][0-9]" "both web pods placed ($p)"
zones=$(for n in $(api GET "/api/v1/namespaces/default/pods?labelSelector=app=web" | jq -r '.items[].spec.nodeName'); do
	api GET "/api/v1/nodes/$n" | jq -r '.metadata.labels["topology.kubernetes.io/zone"]'; done | sort -u | tr -d '\n')
is "$zones" "ab" "spreading: two replicas in two zones"

# preferred node affinity pulls a pod to a zone
mkpod pref '{"spec":{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"preference":{"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"In","values":["b"]}]}}]}}}}'
ok "pass" kx-schedule-once
is "$(api GET /api/v1/namespaces/default/pods/pref | jq -r .spec.nodeName)" "b1" "preferred node affinity"

# host ports: two pods wanting one port on one node cannot share it
hp='{"metadata":{"labels":{"app":"hp"}},"spec":{"nodeSelector":{"topology.kubernetes.io/zone":"b"},"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80,"hostPort":8080}]}]}}'
mkpod hp1 "$hp"
mkpod hp2 "$hp"
ok "pass" kx-schedule-once
like "$(placement app=hp)" "^(hp1=b1 hp2=-|hp1=- hp2=b1)$" "NodePorts: one of two pods gets the port"

# pods placed in one pass count against each other
mknode small 1 1Gi '{"metadata":{"labels":{"pool":"small"}}}'
sm='{"metadata":{"labels":{"app":"sm"}},"spec":{"nodeSelector":{"pool":"small"},"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"400m"}}}]}}'
for i in 1 2 3; do mkpod sm$i "$sm"; done
ok "pass" kx-schedule-once
is "$(api GET "/api/v1/namespaces/default/pods?labelSelector=app=sm" | jq '[.items[] | select(.spec.nodeName == "small")] | length')" \
	"2" "one pass puts two 400m pods on a 1-cpu node, not three"

done_testing
