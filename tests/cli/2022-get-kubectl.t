#!/usr/bin/env bash
# kx-get prints what `kubectl get` prints, against the same kx-store: tables
# (plain, wide, --show-labels, -A, -l, --no-headers), -o name, -o json and
# -o yaml. Ages are masked (the two run a moment apart).
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s "$@"; }
k api-resources >/dev/null 2>&1 || skip_all "kubectl cannot talk to kx-store yet (discovery fails)"

api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}' >/dev/null
kx-apply -f "$TOP/examples/app" >/dev/null
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: o\n  namespace: other\n  labels: {app: db}\ndata: {a: "1", b: "2"}\n' | kx-apply -f - >/dev/null
for p in p1 p2; do
	api POST /api/v1/namespaces/default/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$p\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"},{\"name\":\"d\",\"image\":\"y\"}]}}" >/dev/null
done
CTYPE=application/merge-patch+json api PATCH /api/v1/namespaces/default/pods/p1/status \
	'{"status":{"phase":"Running","podIP":"10.1.2.3","containerStatuses":[{"name":"c","ready":true,"restartCount":2,"state":{"running":{}}},{"name":"d","ready":false,"restartCount":0,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}' >/dev/null
CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/default/deployments/web/status \
	'{"status":{"replicas":2,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1}}' >/dev/null
api POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"p1.1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},"reason":"Scheduled","message":"Successfully assigned default/p1 to n1","type":"Normal","source":{"component":"default-scheduler"},"count":1}' >/dev/null

mask() { sed -E 's/ [0-9]+(s|m|d|h)([0-9]+(s|m))? / AGE /g; s/ [0-9]+(s|m|d|h)([0-9]+(s|m))?$/ AGE/'; }
same() { # args...: kx-get ARGS prints what kubectl get ARGS prints
	is "$(kx-get "$@" 2>&1 | mask)" "$(k get "$@" 2>&1 | mask)" "kx-get $* is kubectl get $*"
}
same pods
same pods -o wide
same pods --show-labels
same pod p1 --no-headers
same deploy
same deploy -o wide
same svc
same svc -o wide
same cm
same cm -A
same cm -A -l app
same cm,svc
same deploy,svc -l app=web
same pods -o name
same cm,deploy -A -o name
same events
same events -o wide
same cm o -n other -o json
same cm o -n other -o yaml
same cm -A -o json
same deploy,cm -o yaml

done_testing
