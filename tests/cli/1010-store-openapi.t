#!/usr/bin/env bash
# kx-store: OpenAPI v3 documents and fieldValidation.
. "$(dirname "$0")/lib.sh"
store_start || exit 1

api GET /openapi/v3 >/dev/null; root=$API_OUT
is "$API_CODE" 200 "/openapi/v3 answers"
is "$(printf '%s' "$root" | jq -r '.paths["apis/apps/v1"].serverRelativeURL')" "/openapi/v3/apis/apps/v1?hash=$(kx-store --version | awk '{print $2}')" \
	"and lists each group version with its document's URL"
api GET /openapi/v3/apis/apps/v1 >/dev/null; doc=$API_OUT
is "$(printf '%s' "$doc" | jq -r '.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch.parameters[] | select(.name=="fieldValidation") | .in')" \
	"query" "the PATCH of deployments takes fieldValidation, so kubectl lets the server validate"
is "$(printf '%s' "$doc" | jq -r '.components.schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0].kind')" \
	"Deployment" "the Deployment schema carries its group, version and kind"
api GET /openapi/v3/apis/nosuch/v1 >/dev/null
is "$API_CODE" 404 "an unknown group version is 404"

N=/api/v1/namespaces/default
bad='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","labelz":{}},"data":{"a":"1"}}'
api POST "$N/configmaps?fieldValidation=Strict" "$bad" >/dev/null
is "$API_CODE $(printf '%s' "$API_OUT" | jq -r .message)" \
	'400 ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.labelz"' \
	"Strict refuses an unknown field, naming it"
api POST "$N/configmaps?fieldValidation=Ignore" "$bad" >/dev/null
is "$API_CODE" 201 "Ignore accepts it"
CTYPE=application/merge-patch+json api PATCH "$N/configmaps/c1?fieldValidation=Strict" '{"dataz":{}}' >/dev/null
is "$API_CODE" 400 "Strict checks a merge patch's fields too"
CTYPE=application/merge-patch+json api PATCH "$N/configmaps/c1?fieldValidation=Strict" '{"data":{"b":"2"}}' >/dev/null
is "$API_CODE" 200 "and lets known fields through"
api POST "$N/configmaps?fieldValidation=Sometimes" "$bad" >/dev/null
is "$API_CODE" 400 "an unsupported fieldValidation value is 400"
pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","resources":{"limits":{"cpu":"1"}},"ports":[{"containerPort":80,"protocol":"TCP"}]}]}}'
api POST "$N/pods?fieldValidation=Strict" "$pod" >/dev/null
is "$API_CODE" 201 "Strict accepts a pod whose every field is declared (maps, lists, nested types)"
done_testing
