#!/usr/bin/env bash
# kx-delete --cascade against kx-store and kx-reconcile's garbage collector:
# background (the owner goes, then its pods), foreground (the owner waits
# for its pods; --wait waits for it), orphan (the pods stay, unowned).
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
[ -x "$TOP/bin/kx-reconcile" ] || skip_all "kx-reconcile is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null
for rs in bg fg or; do
	cat <<YAML
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: $rs
spec:
  replicas: 2
  selector:
    matchLabels: {app: $rs}
  template:
    metadata:
      labels: {app: $rs}
    spec:
      containers:
      - name: c
        image: x
YAML
done >"$T/rs.yaml"
kx-apply -f "$T/rs.yaml" >/dev/null
kx-reconcile -c replicaset
pods() { kx-get pods -l app=$1 -o 'jq=[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
is "$(pods bg) $(pods fg) $(pods or)" "2 2 2" "three ReplicaSets with two pods each"

# background (the default): the owner is gone when kx-delete returns
is "$(kx-delete rs bg 2>&1)" 'replicaset.apps "bg" deleted' "delete in the background, said as kubectl says it"
fails "the owner is gone at once" 4 kx-get rs bg
is "$(pods bg)" 2 "its pods wait for the collector"
kx-reconcile -c garbagecollector
is "$(pods bg)" 0 "which deletes them"

# foreground: --wait=false returns at once, the owner waits with its finalizer
is "$(kx-delete rs fg --cascade=foreground --wait=false 2>&1)" 'replicaset.apps "fg" deleted' "delete in the foreground"
is "$(kx-get rs fg -o 'jq=.metadata.finalizers | join(",")')" foregroundDeletion \
	"the owner waits with the foregroundDeletion finalizer"
is "$(kx-get rs fg -o 'jq=.metadata.deletionTimestamp != null')" true "and a deletionTimestamp"
# --wait (the default) waits until the collector has deleted it
bg sh -c "kx-delete rs fg --cascade=foreground --timeout 20s >'$T/fg.out' 2>&1; echo \$? >'$T/fg.rc'"
sleep 0.3
ok "kx-delete --wait is still waiting for the owner" test ! -s "$T/fg.rc"
kx-reconcile -c garbagecollector
wait_for 20 test -s "$T/fg.rc" || diag "kx-delete --wait did not return"
is "$(cat "$T/fg.rc")" 0 "--wait returns 0 once the owner is gone"
is "$(pods fg)" 0 "its pods were deleted first"
fails "then the owner" 4 kx-get rs fg

# orphan: the pods lose their ownerReferences and stay
is "$(kx-delete rs or --cascade=orphan --wait=false 2>&1)" 'replicaset.apps "or" deleted' "delete orphaning (the owner waits for the collector)"
kx-reconcile -c garbagecollector
is "$(pods or)" 2 "the orphaned pods stay"
is "$(kx-get pods -l app=or -o 'jq=[.items[] | .metadata.ownerReferences // [] | length] | add')" 0 \
	"without ownerReferences"
fails "and the owner is gone" 4 kx-get rs or

# --wait --timeout on an owner that cannot go (no collector runs)
api POST /apis/apps/v1/namespaces/default/replicasets '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"stuck"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"stuck"}},"template":{"metadata":{"labels":{"app":"stuck"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >/dev/null
kx-reconcile -c replicaset
out=$(kx-delete rs stuck --cascade=foreground --timeout 1s 2>&1)
is "$?" 1 "a delete that does not finish in --timeout exits 1"
like "$out" 'timed out waiting for the condition on replicasets/stuck' "and says so as kubectl does"

done_testing
