#!/usr/bin/env bash
# kx-reconcile's namespace and serviceaccount controllers against kx-store:
# a deleted namespace has everything in it deleted, then its "kubernetes"
# finalizer removed, and is gone; live namespaces get a default
# ServiceAccount.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
N=doomed$$
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kept"}}' >/dev/null
api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$N\"},
 \"spec\":{\"finalizers\":[\"kubernetes\"]}}" >/dev/null
is "$API_CODE" 201 "a namespace with the kubernetes finalizer"

ok "a serviceaccount pass" kx-reconcile -c serviceaccount
api GET /api/v1/namespaces/kept/serviceaccounts/default >/dev/null
is "$API_CODE" 200 "every namespace gets a default ServiceAccount"
api GET /api/v1/namespaces/$N/serviceaccounts/default >/dev/null
is "$API_CODE" 200 "(that one too)"

api POST /api/v1/namespaces/$N/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}' >/dev/null
api POST /api/v1/namespaces/$N/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
api POST /api/v1/namespaces/kept/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}' >/dev/null
api DELETE /api/v1/namespaces/$N >/dev/null
like "$(api GET /api/v1/namespaces/$N | jq -r .metadata.deletionTimestamp)" '^20' \
	"the deleted namespace waits for its finalizer"

ok "a namespace pass" kx-reconcile -c namespace
api GET /api/v1/namespaces/$N/configmaps/c >/dev/null
is "$API_CODE" 404 "its ConfigMap is deleted"
is "$(api GET /api/v1/namespaces/$N/pods | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length')" 0 \
	"its pod is deleted"
api GET /api/v1/namespaces/$N >/dev/null
is "$API_CODE" 404 "emptied and finalized, the namespace is gone"
api GET /api/v1/namespaces/kept/configmaps/c >/dev/null
is "$API_CODE" 200 "another namespace's objects are untouched"
before=$(api GET /api/v1/namespaces | jq -r '.items[] | .metadata.name + .metadata.resourceVersion')
kx-reconcile -c namespace,serviceaccount
is "$(api GET /api/v1/namespaces | jq -r '.items[] | .metadata.name + .metadata.resourceVersion')" "$before" \
	"a second pass changes nothing"

done_testing
