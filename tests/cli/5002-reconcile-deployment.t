#!/usr/bin/env bash
# kx-reconcile against a real kx-store: Deployment -> ReplicaSet -> Pods,
# scaling up and down, a rolling update that keeps within maxSurge and
# maxUnavailable (pods marked ready through the status subresource), and a
# second pass that changes nothing.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
APPS=/apis/apps/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null

# live (not terminating) pods of app=web, as "name ready" lines
pods() {
	curl -s "$KX_SERVER$NS/pods?labelSelector=app%3Dweb" |
		jq -r '.items[] | select(.metadata.deletionTimestamp == null) |
			.metadata.name + " " + ([.status.conditions[]? | select(.type=="Ready") | .status][0] // "False")'
}
npods() { pods | grep -c . ; }
nready() { pods | grep -c ' True$'; }
# every object's name and resourceVersion
snapshot() {
	for p in $NS/pods $APPS/replicasets $APPS/deployments $NS/events; do
		curl -s "$KX_SERVER$p" | jq -r '.items[] | .metadata.name + " " + .metadata.resourceVersion'
	done | sort
}
# mark every live pod Running and Ready through the status subresource
mark_ready() {
	local i=0 name
	for name in $(pods | awk '$2 != "True" {print $1}'); do
		i=$((i + 1))
		curl -s "$KX_SERVER$NS/pods/$name" | jq -c --arg ip "10.1.0.$((RANDOM % 250 + 1))" \
			'.status = {phase: "Running", podIP: $ip, conditions: [{type: "Ready", status: "True",
			 lastTransitionTime: "2026-01-01T00:00:00Z"}]}' >"$T/pod.json"
		curl -s -o /dev/null -X PUT -H 'Content-Type: application/json' --data-binary @"$T/pod.json" \
			"$KX_SERVER$NS/pods/$name/status"
	done
}
set_deploy() { # jq filter
	curl -s "$KX_SERVER$APPS/deployments/web" | jq -c "$1" >"$T/d.json"
	curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
		--data-binary @"$T/d.json" "$KX_SERVER$APPS/deployments/web"
}

api POST $APPS/deployments '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
  "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":1}},
  "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"web:1"}]}}}}' >/dev/null
is "$API_CODE" 201 "a Deployment is created"

ok "one pass" kx-reconcile
rs=$(curl -s "$KX_SERVER$APPS/replicasets" | jq -r '.items[].metadata.name')
like "$rs" '^web-[bcdfghjklmnpqrstvwxz2456789]+$' "the Deployment has one ReplicaSet named web-HASH"
is "$(npods)" 3 "and three pods, all in the same pass"
is "$(curl -s "$KX_SERVER$NS/pods" | jq -r '[.items[].metadata.ownerReferences[0].name] | unique | join(",")')" "$rs" \
	"owned by the ReplicaSet"
like "$(pods | head -1)" "^$rs-[a-z0-9]+ " "named from it by generateName"
is "$(curl -s "$KX_SERVER$APPS/deployments/web" | jq -r '.metadata.annotations["deployment.kubernetes.io/revision"]')" 1 \
	"revision 1"
like "$(curl -s "$KX_SERVER$NS/events" | jq -r '.items[].reason' | sort -u | tr '\n' ' ')" 'ScalingReplicaSet.*SuccessfulCreate' \
	"Events record what was done"

before=$(snapshot)
ok "a second pass" kx-reconcile
is "$(snapshot)" "$before" "the second pass changes no resourceVersion"

is "$(set_deploy '.spec.replicas = 5')" 200 "scale up to 5"
kx-reconcile
is "$(npods)" 5 "five pods"
is "$(set_deploy '.spec.replicas = 2')" 200 "scale down to 2"
kx-reconcile
is "$(npods)" 2 "two pods"

# rolling update of 4 replicas, maxSurge 1, maxUnavailable 1
set_deploy '.spec.replicas = 4' >/dev/null
kx-reconcile
mark_ready
kx-reconcile
is "$(nready)" 4 "four ready pods before the update"
is "$(set_deploy '.spec.template.spec.containers[0].image = "web:2"')" 200 "a new image"
over=0 under=0 steps=0
for steps in $(seq 1 25); do
	kx-reconcile || break
	n=$(npods) r=$(nready)
	[ "$n" -gt 5 ] && over=$((over + 1)) && diag "step $steps: $n pods"
	[ "$r" -lt 3 ] && under=$((under + 1)) && diag "step $steps: $r ready"
	st=$(curl -s "$KX_SERVER$APPS/deployments/web" | jq -r '"\(.status.updatedReplicas) \(.status.availableReplicas) \(.status.replicas)"')
	[ "$st" = "4 4 4" ] && break
	mark_ready
done
is "$over" 0 "never more than replicas + maxSurge (5) pods"
is "$under" 0 "never fewer than replicas - maxUnavailable (3) ready pods"
is "$st" "4 4 4" "the rollout completes: 4 updated, 4 available, 4 in all ($steps passes)"
is "$(curl -s "$KX_SERVER$APPS/replicasets" | jq -r '[.items[] | "\(.spec.template.spec.containers[0].image)=\(.spec.replicas)"] | sort | join(" ")')" \
	"web:1=0 web:2=4" "the old ReplicaSet is scaled to 0, the new one to 4"
is "$(curl -s "$KX_SERVER$APPS/deployments/web" | jq -r '.status.conditions[] | select(.type=="Progressing") | .reason')" \
	NewReplicaSetAvailable "Progressing: NewReplicaSetAvailable"
is "$(curl -s "$KX_SERVER$APPS/deployments/web" | jq -r '.metadata.annotations["deployment.kubernetes.io/revision"]')" 2 \
	"revision 2"

# rollback: the old template again reuses the old ReplicaSet with revision 3
set_deploy '.spec.template.spec.containers[0].image = "web:1"' >/dev/null
kx-reconcile
is "$(curl -s "$KX_SERVER$APPS/replicasets" | jq -r '.items | length')" 2 "a rollback makes no new ReplicaSet"
is "$(curl -s "$KX_SERVER$APPS/replicasets" | jq -r '.items[] | select(.spec.template.spec.containers[0].image=="web:1") | .metadata.annotations["deployment.kubernetes.io/revision"]')" \
	3 "the old ReplicaSet gets revision 3"
for i in $(seq 1 25); do
	mark_ready
	kx-reconcile
	st=$(curl -s "$KX_SERVER$APPS/deployments/web" | jq -r '"\(.status.updatedReplicas) \(.status.availableReplicas) \(.status.replicas)"')
	[ "$st" = "4 4 4" ] && break
done
is "$st" "4 4 4" "the rollback completes"
kx-reconcile
before=$(snapshot)
kx-reconcile
is "$(snapshot)" "$before" "settled again: a pass changes nothing"

done_testing
