#!/usr/bin/env bash
# Real kubectl on workloads that kx-reconcile's controllers drive: rollout
# status, history, undo; cascading delete; cordon and drain.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s "$@"; }
pass() { kx-reconcile >/dev/null 2>&1; kx-reconcile >/dev/null 2>&1; }
N=/api/v1/namespaces/default
# mark every pod of the default namespace Running and Ready, as a kubelet would
ready_all() {
	for p in $(kx-get pods -o name | sed 's|.*/||'); do
		CTYPE=application/merge-patch+json api PATCH "$N/pods/$p/status" \
			'{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"httpd","ready":true,"restartCount":0,"image":"x","imageID":"","state":{"running":{}}}]}}' >/dev/null
	done
}

cat >"$T/app.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1
Y
k apply -f "$T/app.yaml" >/dev/null
pass
is "$(k get rs -o jsonpath='{.items[0].spec.replicas}')" 2 "the controllers make a ReplicaSet of 2"
ready_all
pass
is "$(k rollout status deploy/web --timeout=10s 2>&1)" 'deployment "web" successfully rolled out' \
	"rollout status sees the rollout finished"

is "$(k set image deploy/web httpd=busybox:2 2>&1)" "deployment.apps/web image updated" "set image"
for _ in 1 2 3 4 5 6; do pass; ready_all; done
pass
is "$(k rollout status deploy/web --timeout=10s 2>&1 | tail -1)" 'deployment "web" successfully rolled out' \
	"the new template rolls out"
like "$(k rollout history deploy/web 2>&1 | tr "\n" " ")" "REVISION +CHANGE-CAUSE +1 +<none> +2 +<none>" "rollout history lists both revisions"
is "$(k rollout undo deploy/web 2>&1)" "deployment.apps/web rolled back" "rollout undo"
is "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" "busybox:1" \
	"puts the previous template back"

# cascading delete, driven by the garbage collector
is "$(k delete deploy web --cascade=orphan --wait=false 2>&1)" 'deployment.apps "web" deleted' "delete --cascade=orphan"
pass
like "$(k get rs -o name 2>&1)" "replicaset.apps/web-" "leaves the ReplicaSets"
is "$(k get rs -o jsonpath='{.items[*].metadata.ownerReferences}')" "" "without their owner reference"
rs=$(k get rs -o name | head -1)
k delete "$rs" --cascade=foreground --wait=false >/dev/null 2>&1
like "$(k get "$rs" -o jsonpath='{.metadata.finalizers}' 2>&1)" "foregroundDeletion" \
	"delete --cascade=foreground waits on the foregroundDeletion finalizer"
for _ in 1 2 3; do pass; done
like "$(k get "$rs" 2>&1)" "NotFound" "and the ReplicaSet goes once its pods are gone"

# nodes: cordon and drain
api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}' >/dev/null
api POST $N/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"onn1"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}' >/dev/null
is "$(k cordon n1 2>&1)" "node/n1 cordoned" "cordon"
is "$(k get node n1 -o jsonpath='{.spec.unschedulable}')" "true" "marks the node unschedulable"
like "$(k drain n1 --force --grace-period=0 --timeout=20s 2>&1 | tail -1)" "node/n1 drained" "drain"
api GET $N/pods/onn1 >/dev/null
is "$API_CODE" 404 "removes the node's pods"
is "$(k uncordon n1 2>&1)" "node/n1 uncordoned" "uncordon"
done_testing
