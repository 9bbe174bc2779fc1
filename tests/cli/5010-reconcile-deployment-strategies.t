#!/usr/bin/env bash
# kx-reconcile's deployment controller against a real kx-store, beyond the
# rolling update of 5002: Recreate (the old pods go before new ones come),
# paused, revisionHistoryLimit and progressDeadlineSeconds.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
APPS=/apis/apps/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null
set_deploy() { # name jq-filter
	curl -s "$KX_SERVER$APPS/deployments/$1" | jq -c "$2" >"$T/d.json"
	curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
		--data-binary @"$T/d.json" "$KX_SERVER$APPS/deployments/$1"
}
# "image=replicas" of app's ReplicaSets, sorted
rsets() {
	curl -s "$KX_SERVER$APPS/replicasets" | jq -r --arg app "$1" '[.items[] | select(.metadata.labels.app == $app) |
		"\(.spec.template.spec.containers[0].image)=\(.spec.replicas)"] | sort | join(" ")'
}
# images of app's live pods, sorted
pod_images() {
	curl -s "$KX_SERVER$NS/pods" | jq -r --arg app "$1" '[.items[] | select(.metadata.labels.app == $app and
		.metadata.deletionTimestamp == null) | .spec.containers[0].image] | sort | join(" ")'
}
cond() { # name type -> "status reason"
	curl -s "$KX_SERVER$APPS/deployments/$1" | jq -r --arg t "$2" '.status.conditions[] | select(.type == $t) | "\(.status) \(.reason)"'
}
deploy() { # name image extra-spec-json
	api POST $APPS/deployments "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"$1\"},
	 \"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"$1\"}},$3
	  \"template\":{\"metadata\":{\"labels\":{\"app\":\"$1\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"$2\"}]}}}}" >/dev/null
}

# Recreate, one controller at a time to see the order
deploy rec v1 '"strategy":{"type":"Recreate"},'
kx-reconcile -c deployment,replicaset
is "$(pod_images rec)" "v1 v1" "Recreate: two v1 pods"
set_deploy rec '.spec.template.spec.containers[0].image = "v2"' >/dev/null
ok "a deployment pass" kx-reconcile -c deployment
is "$(rsets rec)" "v1=0 v2=0" "the old ReplicaSet goes to zero, the new one waits at zero"
ok "a replicaset pass" kx-reconcile -c replicaset
is "$(pod_images rec)" "" "the old pods are deleted"
kx-reconcile -c deployment
is "$(rsets rec)" "v1=0 v2=2" "only then the new ReplicaSet scales up"
kx-reconcile
is "$(pod_images rec)" "v2 v2" "two v2 pods"

# paused: template changes wait
deploy pau v1 '"paused":true,'
ok "a pass over a paused Deployment" kx-reconcile
is "$(rsets pau)" "" "paused from the start: no ReplicaSet"
is "$(cond pau Progressing)" "Unknown DeploymentPaused" "Progressing: Unknown DeploymentPaused"
set_deploy pau '.spec.paused = false' >/dev/null
kx-reconcile
is "$(rsets pau)" "v1=2" "resumed: its ReplicaSet"
set_deploy pau '.spec.paused = true | .spec.template.spec.containers[0].image = "v2"' >/dev/null
kx-reconcile
is "$(rsets pau)" "v1=2" "paused again, a new image makes no ReplicaSet"

# revisionHistoryLimit 1: one old ReplicaSet is kept
deploy his v1 '"revisionHistoryLimit":1,"strategy":{"type":"Recreate"},'
kx-reconcile
for img in v2 v3 v4; do
	set_deploy his ".spec.template.spec.containers[0].image = \"$img\"" >/dev/null
	kx-reconcile
done
is "$(rsets his)" "v3=0 v4=2" "four revisions, limit 1: the newest and one old ReplicaSet"

# progressDeadlineSeconds: pods that never become ready
deploy dl v1 '"progressDeadlineSeconds":60,'
kx-reconcile
is "$(cond dl Progressing | cut -d' ' -f1)" True "progressing at first"
ok "a pass ten minutes later" kx-reconcile -c deployment --now "$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)"
is "$(cond dl Progressing)" "False ProgressDeadlineExceeded" "Progressing: False ProgressDeadlineExceeded"
is "$(cond dl Available | cut -d' ' -f1)" False "and not Available"

done_testing
