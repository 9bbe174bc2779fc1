#!/usr/bin/env bash
# kx-node-run and kx-health-check against a real kx-store: the node
# registers with its labels, capacity and conditions and renews its Lease;
# a pod bound to it runs, with a ConfigMap of the store as a volume and
# env, and its status reaches the store; readiness flips
# the Ready condition through kx-health-check --node; logs go through the
# store; kill -9 of the agent leaves the pod running and a new agent adopts
# it; deletion delivers SIGTERM and removes the pod.
. "$(dirname "$0")/lib.sh"
command -v kx-store >/dev/null || skip_all "needs kx-store"
. "$(dirname "$0")/7000-node-lib.sh"

store_start || exit 1
N=t$$

ok "kx-node-run --once registers the node" NR --once
node=$(api GET /api/v1/nodes/$N)
is "$(printf '%s' "$node" | jq -r '.metadata.labels["kubernetes.io/hostname"]')" "$N" "hostname label"
is "$(printf '%s' "$node" | jq -r '.metadata.labels["kubernetes.io/os"]')" "linux" "os label"
is "$(printf '%s' "$node" | jq -r '.status.capacity.pods')" "110" "110 pods"
is "$(printf '%s' "$node" | jq -r '.spec.podCIDR')" "$NET.0/24" "podCIDR"
is "$(printf '%s' "$node" | jq -r '.status.conditions[] | select(.type=="Ready") | .status')" "True" "Ready"
like "$(printf '%s' "$node" | jq -r '.status.allocatable.memory')" '^[0-9]+Ki$' "allocatable memory"
lease1=$(api GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$N | jq -r .spec.renewTime)
like "$lease1" '^[0-9-]+T[0-9:]+\.[0-9]+Z$' "a Lease in kube-node-lease"
sleep 1
NR --once
lease2=$(api GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$N | jq -r .spec.renewTime)
ok "the next pass renews it" test "$lease2" != "$lease1"

# a pod bound to the node, with a readiness probe on a file in an emptyDir,
# and a ConfigMap from the store as a volume (served on 8081) and as env
api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"site"},
 "data":{"index.html":"hello from the store\n","greeting":"hi"}}' >/dev/null
is "$API_CODE" 201 "a ConfigMap in the store"
api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
 "spec":{"nodeName":"'$N'","terminationGracePeriodSeconds":5,"containers":[{"name":"app","image":"'$IMG'",
 "command":["sh","-c","trap \"echo got TERM; exit 0\" TERM; echo started; httpd -p 8080 -h /www; httpd -p 8081 -h /cfg; while true; do sleep 1; done"],
 "env":[{"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"site","key":"greeting"}}}],
 "readinessProbe":{"httpGet":{"path":"/ready","port":8080},"periodSeconds":1},
 "volumeMounts":[{"name":"www","mountPath":"/www"},{"name":"cfg","mountPath":"/cfg"}]}],
 "volumes":[{"name":"www","emptyDir":{}},{"name":"cfg","configMap":{"name":"site"}}]}}' >/dev/null
is "$API_CODE" 201 "a pod is bound to the node"
LP=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
bg NR_exec --no-probes --port "$LP"
AGENT=$BG_PID
phase() { api GET /api/v1/namespaces/default/pods/web | jq -r "$1"; }
wait_for 30 sh -c "curl -s $KX_SERVER/api/v1/namespaces/default/pods/web | jq -e '.status.phase == \"Running\"'"
is "$(phase .status.phase)" "Running" "the pod runs, and the store knows"
like "$(phase .status.podIP)" "^$NET\." "with its pod IP"
is "$(phase .status.hostIP)" "127.0.0.1" "and host IP"
is "$(phase '.status.containerStatuses[0].ready')" "false" "not ready before its readiness probe passes"
wait_for 10 curl -s -o /dev/null "http://$(phase .status.podIP):8081/index.html"
is "$(curl -s -m 5 "http://$(phase .status.podIP):8081/index.html")" "hello from the store" \
	"it serves HTTP on its pod IP from a configMap volume of the store's ConfigMap"
is "$(kx-container exec "$(phase '.status.containerStatuses[0].containerID' | sed 's|.*://||')" -- sh -c 'echo $GREETING')" \
	"hi" "and has env from the ConfigMap"

# kx-health-check --node runs the probe and writes the verdict kx-node-run reads
UID_=$(phase .metadata.uid)
fails "kx-health-check --node: the probe fails" 0 kx-health-check --node $N --root "$ROOT"
like "$(cat "$T/.out")" '"healthy":false.*"type":"readiness"' "and says so as a JSON line"
like "$(api GET /api/v1/namespaces/default/events | jq -r '.items[] | select(.reason=="Unhealthy") | .message')" \
	"Readiness probe failed: HTTP probe failed with statuscode: 404" "and records an Unhealthy event"
echo ok >"$ROOT/pods/$UID_/volumes/www/ready"
kx-health-check --node $N --root "$ROOT" >"$T/hc.out"
like "$(cat "$T/hc.out")" '"healthy":true' "the probe passes"
ok "its verdict is in the probe file" grep -q '"result":"success"' "$ROOT/pods/$UID_/probes/app.readiness"
wait_for 20 sh -c "curl -s $KX_SERVER/api/v1/namespaces/default/pods/web | jq -e '.status.containerStatuses[0].ready'"
is "$(phase '.status.conditions[] | select(.type=="Ready") | .status')" "True" "readiness flips the pod's Ready condition"
[ "$(phase '.status.conditions[] | select(.type=="Ready") | .status')" = True ] || api GET /api/v1/namespaces/default/pods/web | jq -c .status | sed 's/^/#   /'


# logs through the store, which forwards pods/log to the node's log server
wait_for 10 sh -c "curl -s $KX_SERVER/api/v1/namespaces/default/pods/web/log | grep -q started"
is "$(curl -s "$KX_SERVER/api/v1/namespaces/default/pods/web/log")" "started" "logs through the store (pods/log)"
is "$(curl -s "$KX_SERVER/api/v1/namespaces/default/pods/web/log?container=app&tailLines=1")" "started" \
	"with container and tailLines"
is "$(api GET /api/v1/nodes/$N | jq -r .status.daemonEndpoints.kubeletEndpoint.Port)" "$LP" \
	"the node says where its logs are"

# kill -9 of the agent leaves the pod running; a new agent adopts it as it is
CID=$(phase '.status.containerStatuses[0].containerID' | sed 's|.*://||')
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
is "$(kx-container state "$CID" | jq -r .status)" "running" "kill -9 of the agent leaves the container running"
lease=$(api GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$N | jq -r .spec.renewTime)
bg NR_exec --no-probes --port "$LP"
AGENT=$BG_PID
wait_for 20 sh -c "curl -s $KX_SERVER/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$N | jq -e '.spec.renewTime != \"$lease\"'"
sleep 2 # its first pass over the pods
is "$(kx-container state "$CID" | jq -r .status)" "running" "a new agent adopts it: the container still runs"
is "$(phase '.status.containerStatuses[0].containerID' | sed 's|.*://||') $(phase '.status.containerStatuses[0].restartCount') $(phase .status.phase)" \
	"$CID 0 Running" "with the same ID, no restart, and the pod Running"
is "$(curl -s -m 5 "http://$(phase .status.podIP):8081/index.html")" "hello from the store" "and serving"

# deletion: SIGTERM, then the pod is removed from the store
api DELETE /api/v1/namespaces/default/pods/web >/dev/null
wait_for 30 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $KX_SERVER/api/v1/namespaces/default/pods/web) = 404 ]"
is "$(curl -s -o /dev/null -w '%{http_code}' "$KX_SERVER/api/v1/namespaces/default/pods/web")" "404" \
	"a deleted pod is removed once its containers stopped"
like "$(cat "$T"/logs/default_web_*/app/0.log)" "got TERM" "the container got SIGTERM"
is "$(ls "$ROOT/pods" | wc -l)" "0" "and its sandbox and volumes are gone"

done_testing
