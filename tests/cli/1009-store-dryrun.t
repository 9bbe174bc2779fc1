#!/usr/bin/env bash
# kx-store: ?dryRun=All answers as a write would, and stores nothing.
. "$(dirname "$0")/lib.sh"
store_start || exit 1
cm='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"},"data":{"a":"1"}}'

api POST "/api/v1/namespaces/default/configmaps?dryRun=All" "$cm" >/dev/null
out=$API_OUT
is "$API_CODE" 201 "a dry-run create answers 201 Created"
like "$out" '"uid":' "with the object as it would be stored"
is "$(printf '%s' "$out" | jq -r '.metadata.resourceVersion // "none"')" "none" "and no resourceVersion, as it was not stored"
api GET /api/v1/namespaces/default/configmaps/dry >/dev/null
is "$API_CODE" 404 "and stores nothing"

api POST /api/v1/namespaces/default/configmaps "$cm" >/dev/null
rv=$(api GET /api/v1/namespaces/default/configmaps/dry | jq -r .metadata.resourceVersion)
CTYPE=application/merge-patch+json api PATCH "/api/v1/namespaces/default/configmaps/dry?dryRun=All" '{"data":{"a":"2"}}' >/dev/null
is "$API_CODE" 200 "a dry-run patch answers 200"
is "$(printf '%s' "${API_OUT%$'\n'*}" | jq -r '.data.a + " " + .metadata.resourceVersion')" "2 $rv" \
	"with the patched object at the resourceVersion it still has (kubectl diff compares them)"
is "$(api GET /api/v1/namespaces/default/configmaps/dry | jq -r '.data.a + " " + .metadata.resourceVersion')" "1 $rv" \
	"and leaves the object and its resourceVersion as they were"
api DELETE "/api/v1/namespaces/default/configmaps/dry?dryRun=All" >/dev/null
is "$API_CODE" 200 "a dry-run delete answers 200"
api GET /api/v1/namespaces/default/configmaps/dry >/dev/null
is "$API_CODE" 200 "and the object is still there"
api DELETE "/api/v1/namespaces/default/configmaps/dry?dryRun=Nope" >/dev/null
is "$API_CODE" 400 "an unsupported dryRun value is refused with 400"
done_testing
