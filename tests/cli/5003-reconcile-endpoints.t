#!/usr/bin/env bash
# kx-reconcile's endpoints and endpointslice controllers against kx-store:
# Endpoints follow the readiness of the selected pods, named target ports
# are resolved per pod, services without a selector are left alone.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null

pod() { # name ip ready
	api POST $NS/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\",\"labels\":{\"app\":\"web\"}},
	 \"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]}}" >/dev/null
	status "$1" "$2" "$3"
}
status() {
	curl -s "$KX_SERVER$NS/pods/$1" | jq -c --arg ip "$2" --arg r "$3" \
		'.status = {phase: "Running", podIP: $ip, conditions: [{type: "Ready", status: $r}]}' >"$T/p.json"
	curl -s -o /dev/null -X PUT -H 'Content-Type: application/json' --data-binary @"$T/p.json" "$KX_SERVER$NS/pods/$1/status"
}
ep() { curl -s "$KX_SERVER$NS/endpoints/web" | jq -c "$1"; }

api POST $NS/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
 "spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"}]}}' >/dev/null
api POST $NS/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"external"},"spec":{"ports":[{"port":80}]}}' >/dev/null
pod a 10.1.0.1 False
pod b 10.1.0.2 False

ok "a pass of endpoints and endpointslice" kx-reconcile -c endpoints,endpointslice
is "$(ep '[.subsets[0].notReadyAddresses[].ip]')" '["10.1.0.1","10.1.0.2"]' "pods not ready: notReadyAddresses"
is "$(ep '.subsets[0].addresses')" null "and no addresses"
is "$(ep '.subsets[0].ports[0].port')" 8080 "the named targetPort resolved to the container port"
api GET $NS/endpoints/external >/dev/null
is "$API_CODE" 404 "a service without a selector gets no Endpoints from us"

status a 10.1.0.1 True
kx-reconcile -c endpoints,endpointslice
is "$(ep '[.subsets[0].addresses[].ip]')" '["10.1.0.1"]' "a ready pod moves to addresses"
is "$(ep '[.subsets[0].notReadyAddresses[].ip]')" '["10.1.0.2"]' "the other stays not ready"
is "$(ep '.subsets[0].addresses[0].targetRef.name')" '"a"' "with its targetRef"
slices=$(curl -s "$KX_SERVER/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb")
is "$(printf '%s' "$slices" | jq -c '[.items[0].endpoints[] | [.addresses[0], .conditions.ready]]')" \
	'[["10.1.0.1",true],["10.1.0.2",false]]' "the EndpointSlice says the same"

rv=$(ep '.metadata.resourceVersion')
srv=$(printf '%s' "$slices" | jq -c '.items[0].metadata.resourceVersion')
kx-reconcile -c endpoints,endpointslice
is "$(ep '.metadata.resourceVersion')" "$rv" "a second pass leaves the Endpoints alone"
is "$(curl -s "$KX_SERVER/apis/discovery.k8s.io/v1/namespaces/default/endpointslices" | jq -c '.items[0].metadata.resourceVersion')" \
	"$srv" "and the EndpointSlice"

api DELETE $NS/pods/b >/dev/null
kx-reconcile -c endpoints,endpointslice
is "$(ep '[.subsets[].notReadyAddresses[]?.ip]')" '[]' "a deleted pod leaves the Endpoints"

api DELETE $NS/services/web >/dev/null
kx-reconcile -c endpoints,endpointslice
api GET $NS/endpoints/web >/dev/null
is "$API_CODE" 404 "the Endpoints go with their Service"

done_testing
