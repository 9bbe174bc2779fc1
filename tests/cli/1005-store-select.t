#!/usr/bin/env bash
# kx-store: labelSelector and fieldSelector on lists, limit and continue
# pagination (with selectors too), deletecollection with a selector.
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
N=/api/v1/namespaces/default

for i in $(seq 1 12); do
	env=prod; [ $((i % 3)) = 0 ] && env=dev
	api POST $N/pods "{\"metadata\":{\"name\":\"p$(printf %02d $i)\",\"labels\":{\"app\":\"web\",\"env\":\"$env\",\"n\":\"$i\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}" >/dev/null
done
api POST $N/pods '{"metadata":{"name":"q1","labels":{"app":"db"}},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
api POST $N/pods/p01/binding '{"metadata":{"name":"p01"},"target":{"name":"node-a"}}' >/dev/null
api POST $N/pods/p02/binding '{"metadata":{"name":"p02"},"target":{"name":"node-b"}}' >/dev/null

names() { curl -s "$KX_SERVER$1" | jq -r '[.items[].metadata.name] | join(" ")'; }
is "$(names "$N/pods?labelSelector=env%3Ddev")" "p03 p06 p09 p12" "label selector ="
is "$(names "$N/pods?labelSelector=env%3D%3Ddev")" "p03 p06 p09 p12" "label selector =="
is "$(names "$N/pods?labelSelector=app!%3Dweb")" "q1" "label selector !="
is "$(names "$N/pods?labelSelector=n%20in%20(1,2,12)")" "p01 p02 p12" "label selector in"
is "$(names "$N/pods?labelSelector=app%3Dweb,n%20notin%20(1,2,3,4,5,6,7,8,9)")" "p10 p11 p12" "label selector notin, two requirements"
is "$(names "$N/pods?labelSelector=!env")" "q1" "label selector !key"
is "$(names "$N/pods?labelSelector=env")" "p01 p02 p03 p04 p05 p06 p07 p08 p09 p10 p11 p12" "label selector key"
is "$(names "$N/pods?fieldSelector=spec.nodeName%3Dnode-a")" "p01" "field selector spec.nodeName"
is "$(names "$N/pods?fieldSelector=spec.nodeName%3D")" "p03 p04 p05 p06 p07 p08 p09 p10 p11 p12 q1" "field selector spec.nodeName= (unbound pods)"
is "$(names "$N/pods?fieldSelector=metadata.name!%3Dq1,status.phase%3DPending&labelSelector=env%3Ddev")" "p03 p06 p09 p12" "field and label selectors together"
is "$(names "/api/v1/pods?fieldSelector=metadata.namespace%3Ddefault&labelSelector=app%3Ddb")" "q1" "metadata.namespace across namespaces"

# pagination
curl -s "$KX_SERVER$N/pods?limit=5" >"$T/p1"
is "$(jq -r '[.items[].metadata.name] | join(" ")' "$T/p1")" "p01 p02 p03 p04 p05" "limit=5 gives 5"
tok=$(jq -r .metadata.continue "$T/p1")
like "$tok" "^[A-Za-z0-9_-]+$" "and a continue token"
rv1=$(jq -r .metadata.resourceVersion "$T/p1")
api POST $N/configmaps '{"metadata":{"name":"bump"}}' >/dev/null
curl -s "$KX_SERVER$N/pods?limit=5&continue=$tok" >"$T/p2"
is "$(jq -r '[.items[].metadata.name] | join(" ")' "$T/p2")" "p06 p07 p08 p09 p10" "continue gives the next 5"
is "$(jq -r .metadata.resourceVersion "$T/p2")" "$rv1" "every page reports the first page's resourceVersion"
tok=$(jq -r .metadata.continue "$T/p2")
curl -s "$KX_SERVER$N/pods?limit=5&continue=$tok" >"$T/p3"
is "$(jq -r '[.items[].metadata.name] | join(" ")' "$T/p3")" "p11 p12 q1" "the last page"
is "$(jq -r '.metadata.continue // "none"' "$T/p3")" "none" "has no continue token"
all=""
tok=""
while :; do
	curl -s "$KX_SERVER$N/pods?limit=2&labelSelector=env%3Ddev${tok:+&continue=$tok}" >"$T/pg"
	all="$all $(jq -r '[.items[].metadata.name] | join(" ")' "$T/pg")"
	tok=$(jq -r '.metadata.continue // empty' "$T/pg")
	[ -z "$tok" ] && break
done
is "$(echo $all)" "p03 p06 p09 p12" "pages with a selector add up to the selection"
is "$(names "$N/pods?limit=100")" "p01 p02 p03 p04 p05 p06 p07 p08 p09 p10 p11 p12 q1" "a limit above the count gives all"

# deletecollection with a selector
api DELETE "$N/configmaps?labelSelector=nothing%3Dhere" >/dev/null
is "$API_CODE" "200" "deletecollection matching nothing is fine"
api DELETE "$N/pods?labelSelector=env%3Ddev&gracePeriodSeconds=0" >/dev/null
is "$API_CODE $(names "$N/pods")" "200 p01 p02 p04 p05 p07 p08 p10 p11 q1" "deletecollection deletes what the selector selects"

done_testing
