#!/usr/bin/env bash
# kx-reconcile's garbage collector against kx-store: cascading deletion in
# the background, in the foreground, and orphaning.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
APPS=/apis/apps/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null

for rs in bg fg or; do
	api POST $APPS/replicasets "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"$rs\"},
	 \"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"$rs\"}},
	  \"template\":{\"metadata\":{\"labels\":{\"app\":\"$rs\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}" >/dev/null
done
kx-reconcile -c replicaset
pods() { curl -s "$KX_SERVER$NS/pods?labelSelector=app%3D$1" | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
is "$(pods bg) $(pods fg) $(pods or)" "2 2 2" "three ReplicaSets with two pods each"

del() { # name policy
	curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Content-Type: application/json' \
		--data-binary "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"$2\"}" "$KX_SERVER$APPS/replicasets/$1"
}

# background: the owner goes at once, the collector deletes the dependents
like "$(del bg Background)" '^20[02]$' "delete in the background"
api GET $APPS/replicasets/bg >/dev/null
is "$API_CODE" 404 "the owner is gone at once"
is "$(pods bg)" 2 "its pods are still there"
ok "a gc pass" kx-reconcile -c garbagecollector
is "$(pods bg)" 0 "the collector deletes the pods of a gone owner"

# foreground: the owner waits with its finalizer until its dependents go
like "$(del fg Foreground)" '^20[02]$' "delete in the foreground"
is "$(api GET $APPS/replicasets/fg | jq -r '.metadata.finalizers | join(",")')" foregroundDeletion \
	"the owner waits with the foregroundDeletion finalizer"
ok "a gc pass" kx-reconcile -c garbagecollector
is "$(pods fg)" 0 "its dependents are deleted"
api GET $APPS/replicasets/fg >/dev/null
is "$API_CODE" 404 "then the owner"

# orphan: the dependents lose their reference and stay
like "$(del or Orphan)" '^20[02]$' "delete orphaning"
ok "a gc pass" kx-reconcile -c garbagecollector
is "$(pods or)" 2 "the orphaned pods stay"
is "$(curl -s "$KX_SERVER$NS/pods?labelSelector=app%3Dor" | jq -r '[.items[].metadata.ownerReferences] | map(. // [] | length) | add')" 0 \
	"without ownerReferences"
api GET $APPS/replicasets/or >/dev/null
is "$API_CODE" 404 "and the owner is gone"

before=$(curl -s "$KX_SERVER$NS/pods" | jq -r '.items[] | .metadata.name + .metadata.resourceVersion')
kx-reconcile -c garbagecollector,replicaset
is "$(curl -s "$KX_SERVER$NS/pods" | jq -r '.items[] | .metadata.name + .metadata.resourceVersion')" "$before" \
	"a second pass changes nothing"

done_testing
