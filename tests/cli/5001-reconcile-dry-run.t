#!/usr/bin/env bash
# kx-reconcile without a store: -f FILE --dry-run prints the actions each
# controller decides as JSON lines; usage errors and failures exit as the
# conventions say.
. "$(dirname "$0")/lib.sh"

NOW=2027-01-15T08:00:00Z
cat >"$T/new.json" <<'JSON'
{"kind":"List","apiVersion":"v1","items":[
 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","uid":"d1","generation":1},
  "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
   "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}},
 {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default","uid":"ns1"}}]}
JSON

out=$(kx-reconcile -f "$T/new.json" --dry-run --now $NOW)
is "$?" 0 "a dry run exits 0"
like "$(printf '%s\n' "$out" | jq -r 'select(.verb=="create" and .kind=="ReplicaSet") | .name')" '^web-[bcdfghjklmnpqrstvwxz2456789]+$' \
	"a new Deployment: create ReplicaSet web-HASH"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="ReplicaSet") | .object.spec.replicas')" 2 "with the Deployment's replicas"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="ReplicaSet") | .event.reason')" ScalingReplicaSet "and the Event it records"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="ServiceAccount") | .namespace + "/" + .name')" default/default \
	"the namespace gets its default ServiceAccount"

out2=$(kx-reconcile -f "$T/new.json" --dry-run --now $NOW)
is "$out2" "$out" "the same input gives the same actions (the hash is stable)"

is "$(kx-reconcile -f "$T/new.json" --dry-run --now $NOW -c serviceaccount | jq -r .controller | sort -u)" serviceaccount \
	"-c runs only the chosen controllers"

# YAML on stdin, a ReplicaSet with its pods all there: nothing to do
cat >"$T/settled.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: default, uid: rs1, generation: 1}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
status: {replicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abcde
  namespace: default
  uid: p1
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: rs1, controller: true}]
spec: {containers: [{name: c, image: nginx}]}
YAML
if printf 'kind: X\n' | kx-reconcile -f - -n -c replicaset >/dev/null 2>&1; then
	out=$(kx-reconcile -f - --dry-run -c replicaset --now $NOW <"$T/settled.yaml")
	is "$?:$out" "0:" "a settled ReplicaSet read as YAML from stdin: no actions"
else
	echo "# this build's lib/yaml reads JSON only: YAML input not tested"
fi

# node lifecycle decided from a file and a pretended time
cat >"$T/node.json" <<'JSON'
{"kind":"List","apiVersion":"v1","items":[
 {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","uid":"n1"},
  "status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2027-01-15T07:00:00Z","lastTransitionTime":"2027-01-15T06:00:00Z"}]}},
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default","uid":"p"},"spec":{"nodeName":"n1"}}]}
JSON
out=$(kx-reconcile -f "$T/node.json" -n -c node --now $NOW)
is "$(printf '%s\n' "$out" | jq -r 'select(.verb=="status") | .object.status.conditions[0].status')" Unknown \
	"a node silent for an hour becomes Unknown"
is "$(printf '%s\n' "$out" | jq -r 'select(.verb=="update") | [.object.spec.taints[].effect] | join(",")')" NoSchedule,NoExecute \
	"and is tainted unreachable"
is "$(printf '%s\n' "$out" | jq -r 'select(.verb=="delete") | .name')" "" "its pods stay for now"

# usage and failures
fails "an unknown controller exits 2" 2 kx-reconcile -c nosuch -f "$T/new.json" -n
like "$(kx-reconcile -c nosuch -n 2>&1)" 'unknown controller "nosuch"' "and says which"
fails "--leader-elect without --watch exits 2" 2 kx-reconcile --leader-elect
fails "a bad duration exits 2" 2 kx-reconcile --pod-eviction-timeout 5x -n -f "$T/new.json"
fails "an operand exits 2" 2 kx-reconcile stray
fails "a missing file exits 1" 1 kx-reconcile -f "$T/nosuch.json" -n
echo '{"kind":' >"$T/bad.json"
fails "malformed input exits 1" 1 kx-reconcile -f "$T/bad.json" -n
fails "an unreachable store exits 3" 3 kx-reconcile --server http://127.0.0.1:1
is "$(kx-reconcile --list-controllers | tr '\n' ' ')" \
	"namespace garbagecollector node deployment replicaset replicationcontroller endpoints endpointslice serviceaccount resourcequota " \
	"--list-controllers names them in pass order"

# --lock: a second run while the lock is held fails at once
exec 9>"$T/lock"
flock -n 9
fails "a held --lock makes the run fail" 1 kx-reconcile --lock "$T/lock" -f "$T/new.json" -n
like "$(kx-reconcile --lock "$T/lock" -f "$T/new.json" -n 2>&1)" 'another run holds' "and says so"
exec 9>&-
ok "a free --lock is taken" kx-reconcile --lock "$T/lock" -f "$T/new.json" -n

done_testing
