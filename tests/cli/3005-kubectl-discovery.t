#!/usr/bin/env bash
# kubectl's discovery against kx-store: the aggregated form (two requests
# tell kubectl every resource) and the plain one, with the same answers.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s --cache-dir "$T/cache" "$@"; }

AGG='application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'
ACCEPT="$AGG,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

# what kubectl 1.30 asks first, and what it is told
k get pods -v=8 >"$T/v8" 2>&1
like "$(grep -c "Content-Type: $AGG" "$T/v8")" "^2$" "kubectl's /api and /apis are answered in the aggregated v2 form"
gets=$(grep -Eo 'GET http://[^ ]+' "$T/v8" | sed 's|GET http://[^/]*||; s|?.*||')
is "$gets" "/api
/apis
/api/v1/namespaces/default/pods" "and no per-group-version discovery request follows"

k get deploy -v=6 >"$T/v6" 2>&1
is "$(grep -Eo 'GET http://[^ ]+' "$T/v6" | sed 's|GET http://[^/]*||; s|?.*||')" "/apis/apps/v1/namespaces/default/deployments" \
	"the next kubectl reads discovery from its disk cache: no discovery request at all"
is "$(k api-resources 2>&1)" "NAME                     SHORTNAMES   APIVERSION                     NAMESPACED   KIND
bindings                              v1                             true         Binding
configmaps               cm           v1                             true         ConfigMap
endpoints                ep           v1                             true         Endpoints
events                   ev           v1                             true         Event
namespaces               ns           v1                             false        Namespace
nodes                    no           v1                             false        Node
pods                     po           v1                             true         Pod
replicationcontrollers   rc           v1                             true         ReplicationController
resourcequotas           quota        v1                             true         ResourceQuota
secrets                               v1                             true         Secret
serviceaccounts          sa           v1                             true         ServiceAccount
services                 svc          v1                             true         Service
deployments              deploy       apps/v1                        true         Deployment
replicasets              rs           apps/v1                        true         ReplicaSet
leases                                coordination.k8s.io/v1         true         Lease
endpointslices                        discovery.k8s.io/v1            true         EndpointSlice
events                   ev           events.k8s.io/v1               true         Event
clusterrolebindings                   rbac.authorization.k8s.io/v1   false        ClusterRoleBinding
clusterroles                          rbac.authorization.k8s.io/v1   false        ClusterRole
rolebindings                          rbac.authorization.k8s.io/v1   true         RoleBinding
roles                                 rbac.authorization.k8s.io/v1   true         Role" \
	"api-resources from the aggregated form: every kind, as a real cluster lists them"
like "$(k api-resources -o wide 2>&1 | grep '^deployments ')" \
	"deployments +deploy +apps/v1 +true +Deployment +create,delete,deletecollection,get,list,patch,update,watch +all" \
	"-o wide: verbs and categories"
is "$(k api-resources --categories=all -o name 2>&1 | tr '\n' ' ')" \
	"pods replicationcontrollers services deployments.apps replicasets.apps " "--categories=all"
is "$(k api-resources --namespaced=false -o name 2>&1 | tr '\n' ' ')" \
	"namespaces nodes clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io " \
	"--namespaced=false: the scope"
like "$(k api-versions 2>&1 | tr '\n' ' ')" "^apps/v1 coordination.k8s.io/v1 discovery.k8s.io/v1 events.k8s.io/v1 rbac.authorization.k8s.io/v1 v1 $" \
	"api-versions"

# the documents themselves
out=$(curl -s -D "$T/h" -H "Accept: $ACCEPT" "$KX_SERVER/apis")
like "$(tr -d '\r' <"$T/h")" "Vary: Accept" "the answer varies by Accept (for caches)"
is "$(printf '%s' "$out" | jq -c '[.kind, .apiVersion, (.items | map(.metadata.name) | join(","))]')" \
	'["APIGroupDiscoveryList","apidiscovery.k8s.io/v2","apps,coordination.k8s.io,discovery.k8s.io,events.k8s.io,rbac.authorization.k8s.io"]' \
	"/apis: an APIGroupDiscoveryList of the named groups"
is "$(printf '%s' "$out" | jq -c '.items[0].versions[0].resources[0] | [.resource, .scope, .singularResource, .shortNames, .categories, (.subresources | map(.subresource + ":" + .responseKind.kind + ":" + (.verbs | join("+")))) ]')" \
	'["deployments","Namespaced","deployment",["deploy"],["all"],["scale:Scale:get+patch+update","status:Deployment:get+patch+update"]]' \
	"a resource: scope, singular, short names, categories, subresources with their kinds and verbs"
is "$(curl -s -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' "$KX_SERVER/api" |
	jq -c '[.apiVersion, .items[0].metadata.name, (.items[0].versions[0].resources | map(select(.resource == "nodes"))[0].scope)]')" \
	'["apidiscovery.k8s.io/v2beta1",null,"Cluster"]' "/api in v2beta1 when that is what is asked"
is "$(curl -s "$KX_SERVER/api" | jq -c '[.kind, .versions]')" '["APIVersions",["v1"]]' "without that Accept, /api is APIVersions"
is "$(curl -s -H 'Accept: application/json, */*' "$KX_SERVER/apis" | jq -r .kind)" "APIGroupList" "and /apis an APIGroupList"
is "$(curl -s "$KX_SERVER/api/v1" | jq -c '[.resources[] | select(.name | startswith("pods"))] | map(.name + ":" + .kind)')" \
	'["pods:Pod","pods/binding:Binding","pods/log:Pod","pods/status:Pod"]' "the per-group-version list is served as before"
done_testing
