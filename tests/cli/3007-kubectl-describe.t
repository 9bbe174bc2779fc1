#!/usr/bin/env bash
# kubectl describe against kx-store lists each object's Events, found by
# kubectl's involvedObject field selectors: Events recorded by kx's own
# controllers (kx-reconcile, kx-schedule-once) and by a kubelet's hand.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s --cache-dir "$T/cache" "$@"; }
# the Events section of describe, ages written as AGE, runs of spaces as one
events_of() { k describe "$@" 2>&1 | sed -n '/^Events:/,$p' | sed -E 's/ [0-9]+[smh]( |$)/ AGE\1/g; s/over [0-9]+[smh]\)/over AGE)/' | tr -s ' '; }

api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"kubernetes.io/hostname":"n1"}}}' >/dev/null
api PUT /api/v1/nodes/n1/status "$(api GET /api/v1/nodes/n1 | jq -c '.status = {allocatable: {cpu: "4", memory: "8Gi", pods: "110"}, capacity: {cpu: "4", memory: "8Gi", pods: "110"}, conditions: [{type: "Ready", status: "True"}]}')" >/dev/null
k create deployment web --image=busybox:1 >/dev/null
k create service clusterip web --tcp=80:80 >/dev/null
kx-reconcile -c deployment >/dev/null 2>&1
kx-reconcile -c replicaset >/dev/null 2>&1
kx-schedule-once --events all >/dev/null 2>&1
rs=$(k get rs -o name | cut -d/ -f2)
pod=$(k get pods -o name | cut -d/ -f2)
like "$rs/$pod" "^web-[a-z0-9]+/web-[a-z0-9]+-[a-z0-9]+$" "the controllers made a ReplicaSet and its pod"

is "$(events_of deploy web)" "Events:
 Type Reason Age From Message
 ---- ------ ---- ---- -------
 Normal ScalingReplicaSet AGE deployment-controller Scaled up replica set $rs to 1" \
	"describe deployment lists the deployment controller's Event"
is "$(events_of rs "$rs")" "Events:
 Type Reason Age From Message
 ---- ------ ---- ---- -------
 Normal SuccessfulCreate AGE replicaset-controller Created pod: $pod" \
	"describe replicaset lists the replicaset controller's Event"
is "$(events_of pod "$pod")" "Events:
 Type Reason Age From Message
 ---- ------ ---- ---- -------
 Normal Scheduled AGE default-scheduler Successfully assigned default/$pod to n1" \
	"describe pod lists the scheduler's Event"

out=$(k events --for "pod/$pod" 2>&1)
like "$out" "^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE" "kubectl events --for: its columns"
like "$out" "Normal +Scheduled +Pod/$pod +Successfully assigned default/$pod to n1" \
	"and the pod's Event (involvedObject.kind, .apiVersion and .name)"

# a kubelet's Events about its node carry the node's name as uid; a
# controller's the node's uid: kubectl asks for both
now=$(date -u +%FT%TZ)
api POST /api/v1/namespaces/default/events "$(jq -nc --arg t "$now" '{apiVersion: "v1", kind: "Event",
	metadata: {name: "n1.starting"}, involvedObject: {kind: "Node", name: "n1", uid: "n1"},
	reason: "Starting", message: "Starting kubelet.", type: "Normal", source: {component: "kubelet", host: "n1"},
	count: 1, firstTimestamp: $t, lastTimestamp: $t}')" >/dev/null
api POST /api/v1/namespaces/default/events "$(jq -nc --arg t "$now" --arg uid "$(k get node n1 -o jsonpath='{.metadata.uid}')" '{apiVersion: "v1", kind: "Event",
	metadata: {name: "n1.ready"}, involvedObject: {kind: "Node", name: "n1", uid: $uid, apiVersion: "v1"},
	reason: "RegisteredNode", message: "Node n1 event: Registered Node n1 in Controller", type: "Normal",
	source: {component: "node-controller"}, count: 1, firstTimestamp: $t, lastTimestamp: $t}')" >/dev/null
out=$(events_of node n1)
like "$out" " Normal Starting AGE kubelet Starting kubelet\." "describe node lists the kubelet's Event (uid = the node's name)"
like "$out" " Normal RegisteredNode AGE node-controller Node n1 event: Registered Node n1 in Controller" \
	"and the controller's (uid = the node's uid)"

sleep 1
api POST /api/v1/namespaces/default/events "$(jq -nc --arg t1 "$now" --arg t2 "$(date -u +%FT%TZ)" --arg uid "$(k get svc web -o jsonpath='{.metadata.uid}')" '{apiVersion: "v1", kind: "Event",
	metadata: {name: "web.lb"}, involvedObject: {kind: "Service", name: "web", namespace: "default", uid: $uid, apiVersion: "v1"},
	reason: "EnsuringLoadBalancer", message: "Ensuring load balancer", type: "Warning",
	source: {component: "service-controller"}, count: 2, firstTimestamp: $t1, lastTimestamp: $t2}')" >/dev/null
is "$(events_of svc web)" "Events:
 Type Reason Age From Message
 ---- ------ ---- ---- -------
 Warning EnsuringLoadBalancer AGE (x2 over AGE) service-controller Ensuring load balancer" \
	"describe service lists its Event, with its count"
out=$(k get events --field-selector involvedObject.kind=Service 2>&1)
like "$(printf '%s' "$out" | head -1)" "^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$" "get events: kubectl's columns (MESSAGE without -o wide)"
like "$out" "[0-9]+s +Warning +EnsuringLoadBalancer +service/web +Ensuring load balancer" "and the Event's row"
like "$(k get events -o wide 2>&1 | head -1)" "^LAST SEEN +TYPE +REASON +OBJECT +SUBOBJECT +SOURCE +MESSAGE +FIRST SEEN +COUNT +NAME$" \
	"-o wide: every column"
is "$(events_of svc nope)" "" "no Events section for an object that does not exist"
like "$(k describe svc nope 2>&1)" 'Error from server \(NotFound\): services "nope" not found' "but kubectl's NotFound"

# kubectl describe namespace prints no Events section, against any cluster
# (its describer does not ask for them); it lists the quotas
is "$(k describe ns default 2>&1 | sed '/^Name:/d')" "Labels:       kubernetes.io/metadata.name=default
Annotations:  <none>
Status:       Active

No resource quota." "describe namespace"
done_testing
