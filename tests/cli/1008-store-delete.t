#!/usr/bin/env bash
# kx-store: graceful deletion. An object with finalizers gets a
# deletionTimestamp and stays until its last finalizer is removed;
# propagationPolicy is recorded as Kubernetes does (orphan and
# foregroundDeletion finalizers); a pod on a node gets its grace period and
# is removed by its node (or gracePeriodSeconds=0).
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
N=/api/v1/namespaces/default

api POST $N/configmaps '{"metadata":{"name":"f","finalizers":["example.com/keep"]}}' >/dev/null
api DELETE $N/configmaps/f >"$T/d"
is "$API_CODE $(jq -r '.metadata.deletionTimestamp != null' "$T/d")" "200 true" "delete with a finalizer sets deletionTimestamp"
api GET $N/configmaps/f >/dev/null
is "$API_CODE" "200" "and the object stays"
api DELETE $N/configmaps/f >/dev/null
is "$API_CODE" "200" "deleting it again is fine"
CTYPE=application/json-patch+json api PATCH $N/configmaps/f '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
is "$API_CODE" "200" "removing the last finalizer"
api GET $N/configmaps/f >/dev/null
is "$API_CODE" "404" "removes the object"

dep='{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}'
api POST /apis/apps/v1/namespaces/default/deployments "$dep" >/dev/null
api DELETE /apis/apps/v1/namespaces/default/deployments/d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}' >"$T/d"
is "$(jq -c '[.metadata.finalizers, (.metadata.deletionTimestamp != null)]' "$T/d")" '[["foregroundDeletion"],true]' "propagationPolicy=Foreground adds the foregroundDeletion finalizer"
api PUT /apis/apps/v1/namespaces/default/deployments/d "$(jq -c '.metadata.finalizers=[]' "$T/d")" >/dev/null
api GET /apis/apps/v1/namespaces/default/deployments/d >/dev/null
is "$API_CODE" "404" "the garbage collector's removal of the finalizer deletes it"
api POST /apis/apps/v1/namespaces/default/deployments "$dep" >/dev/null
api DELETE "/apis/apps/v1/namespaces/default/deployments/d?propagationPolicy=Orphan" >"$T/d"
is "$(jq -c .metadata.finalizers "$T/d")" '["orphan"]' "propagationPolicy=Orphan (query) adds the orphan finalizer"
api POST $N/configmaps '{"metadata":{"name":"bg"}}' >/dev/null
api DELETE $N/configmaps/bg '{"propagationPolicy":"Background"}' >/dev/null
api GET $N/configmaps/bg >/dev/null
is "$API_CODE" "404" "Background deletes at once"

# preconditions
api POST $N/configmaps '{"metadata":{"name":"pre"}}' >"$T/p"
uid=$(jq -r .metadata.uid "$T/p")
api DELETE $N/configmaps/pre '{"preconditions":{"uid":"not-the-uid"}}' >"$T/o"
is "$API_CODE" "409" "a delete with the wrong uid precondition is 409"
api DELETE $N/configmaps/pre "{\"preconditions\":{\"uid\":\"$uid\"}}" >/dev/null
is "$API_CODE" "200" "with the right uid it deletes"

# pods: unbound pods go at once; bound ones get their grace period
pod='{"metadata":{"name":"NAME"},"spec":{"containers":[{"name":"c","image":"x"}]}}'
api POST $N/pods "${pod/NAME/u}" >/dev/null
api DELETE $N/pods/u >/dev/null
api GET $N/pods/u >/dev/null
is "$API_CODE" "404" "an unscheduled pod is deleted at once"
api POST $N/pods "${pod/NAME/b}" >/dev/null
api POST $N/pods/b/binding '{"metadata":{"name":"b"},"target":{"name":"n1"}}' >/dev/null
api DELETE $N/pods/b >"$T/d"
is "$(jq -c '[.metadata.deletionGracePeriodSeconds, (.metadata.deletionTimestamp != null)]' "$T/d")" "[30,true]" "a pod on a node gets its 30 s grace period"
api GET $N/pods/b >/dev/null
is "$API_CODE" "200" "and stays for its node to stop it"
api DELETE "$N/pods/b?gracePeriodSeconds=0" >/dev/null
api GET $N/pods/b >/dev/null
is "$API_CODE" "404" "gracePeriodSeconds=0 (what the node sends) removes it"

# namespaces: Terminating until the namespace controller empties spec.finalizers
api POST /api/v1/namespaces '{"metadata":{"name":"gone"}}' >/dev/null
api POST /api/v1/namespaces/gone/configmaps '{"metadata":{"name":"x"}}' >/dev/null
api DELETE /api/v1/namespaces/gone >"$T/d"
is "$(jq -r '"\(.status.phase) \(.spec.finalizers[0])"' "$T/d")" "Terminating kubernetes" "a deleted namespace is Terminating, with its finalizer"
api POST /api/v1/namespaces/gone/configmaps '{"metadata":{"name":"y"}}' >"$T/o"
is "$API_CODE" "403" "nothing new can be made in it"
api GET /api/v1/namespaces/gone/configmaps/x >/dev/null
is "$API_CODE" "200" "what it holds stays for the namespace controller"
api PUT /api/v1/namespaces/gone/finalize "$(jq -c '.spec.finalizers=[]' "$T/d")" >/dev/null
api GET /api/v1/namespaces/gone >/dev/null
is "$API_CODE" "404" "emptying spec.finalizers through finalize removes it"

done_testing
