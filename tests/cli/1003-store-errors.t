#!/usr/bin/env bash
# kx-store: every error is a Kubernetes Status with the right code, reason
# and a message a person can act on: 400, 403, 404, 405, 409, 410, 413, 415, 422.
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
N=/api/v1/namespaces/default

# status CODE REASON NAME: the last answer is a Status with that code and reason
status() {
	is "$API_CODE $(jq -r '"\(.kind) \(.apiVersion) \(.status) \(.code) \(.reason)"' "$T/o")" \
		"$1 Status v1 Failure $1 $2" "$3"
}

api POST $N/configmaps '{"metadata":{"name":"a"' >"$T/o"
status 400 BadRequest "malformed JSON is 400"
like "$(jq -r .message "$T/o")" "not valid JSON" "and says the JSON is not valid"
api POST $N/configmaps '[1,2]' >"$T/o"
status 400 BadRequest "a body that is not an object is 400"
api POST $N/configmaps '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"a"}}' >"$T/o"
status 400 BadRequest "an apiVersion that does not match the path is 400"
like "$(jq -r .message "$T/o")" "API version in the data \(apps/v1\) does not match the expected API version \(v1\)" "and says which"
api POST $N/configmaps '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}' >"$T/o"
status 400 BadRequest "a kind that does not match the path is 400"
api POST $N/configmaps '{"metadata":{"name":"a","namespace":"kube-system"}}' >"$T/o"
status 400 BadRequest "a namespace that does not match the path is 400"
api GET "$N/pods?labelSelector=a%20in%20(" >"$T/o"
status 400 BadRequest "a malformed label selector is 400"
api GET "$N/pods?fieldSelector=spec.frobs%3Dx" >"$T/o"
status 400 BadRequest "an unsupported field selector is 400"
like "$(jq -r .message "$T/o")" "field label not supported: spec.frobs" "and names the field"
api GET "$N/pods?limit=1&continue=garbage" >"$T/o"
status 400 BadRequest "a malformed continue token is 400"

api GET /api/v1/nosuchthings >"$T/o"
status 404 NotFound "an unknown resource is 404"
api GET /apis/nosuch.io/v1/things >"$T/o"
status 404 NotFound "an unknown group is 404"
api GET /nowhere >"$T/o"
status 404 NotFound "an unknown path is 404"
api GET $N/pods/nosuch >"$T/o"
status 404 NotFound "a missing object is 404"
is "$(jq -r '"\(.message)|\(.details.name)|\(.details.kind)"' "$T/o")" 'pods "nosuch" not found|nosuch|pods' "with Kubernetes' message and details"
api GET /apis/apps/v1/namespaces/default/deployments/nosuch >"$T/o"
is "$(jq -r '"\(.message)|\(.details.group)"' "$T/o")" 'deployments.apps "nosuch" not found|apps' "a group's resource is named with its group"
api POST /api/v1/namespaces/nosuch/configmaps '{"metadata":{"name":"a"}}' >"$T/o"
status 404 NotFound "creating in a missing namespace is 404"
like "$(jq -r .message "$T/o")" 'namespaces "nosuch" not found' "and names the namespace"
api GET $N/pods/x/frobnicate >"$T/o"
status 404 NotFound "an unknown subresource is 404"
api GET /api/v1/namespaces/default/nodes >"$T/o"
status 404 NotFound "a cluster-scoped resource under a namespace is 404"
api PUT $N/pods/nosuch '{"metadata":{"name":"nosuch"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >"$T/o"
status 404 NotFound "updating a missing object is 404"
api DELETE $N/pods/nosuch >"$T/o"
status 404 NotFound "deleting a missing object is 404"

api PUT $N/configmaps '{"metadata":{"name":"a"}}' >"$T/o"
status 405 MethodNotAllowed "PUT on a collection is 405"
api POST $N/configmaps/a '{"metadata":{"name":"a"}}' >"$T/o"
status 405 MethodNotAllowed "POST on an object is 405"
api DELETE /api/v1/namespaces >"$T/o"
status 405 MethodNotAllowed "deletecollection on namespaces is 405 (as in Kubernetes)"
api GET $N/bindings >"$T/o"
status 405 MethodNotAllowed "GET on bindings is 405 (create only)"
api POST /healthz x >"$T/o"
status 405 MethodNotAllowed "POST on /healthz is 405"

api POST $N/configmaps '{"metadata":{"name":"a"}}' >/dev/null
api POST $N/configmaps '{"metadata":{"name":"a"}}' >"$T/o"
status 409 AlreadyExists "an existing name is 409 AlreadyExists"
is "$(jq -r .message "$T/o")" 'configmaps "a" already exists' "with Kubernetes' message"
api PUT $N/configmaps/a '{"metadata":{"name":"a","resourceVersion":"1"},"data":{"x":"y"}}' >"$T/o"
status 409 Conflict "a stale resourceVersion is 409 Conflict"
like "$(jq -r .message "$T/o")" 'the object has been modified; please apply your changes to the latest version and try again' "with Kubernetes' message"
api DELETE $N/configmaps/a '{"preconditions":{"resourceVersion":"1"}}' >"$T/o"
status 409 Conflict "a delete with a stale precondition is 409"
api PUT $N/configmaps/a '{"metadata":{"name":"b"}}' >"$T/o"
status 400 BadRequest "an update naming another object is 400"

head -c $((3 * 1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$T/big"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$T/big" "$KX_SERVER$N/configmaps")
API_CODE=$code
status 413 RequestEntityTooLarge "a body over 3 MiB is 413"
printf '{"metadata":{"name":"big"},"data":{"k":"%s"}}' "$(head -c $((3 * 1024 * 1024 - 100)) /dev/zero | tr '\0' 'a')" >"$T/justunder"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$T/justunder" "$KX_SERVER$N/configmaps")" "201" "a body just under 3 MiB is accepted"

CTYPE=text/plain api PATCH $N/configmaps/a '{"data":{"x":"y"}}' >"$T/o"
status 415 UnsupportedMediaType "a patch in an unknown content type is 415"
like "$(jq -r .message "$T/o")" "application/merge-patch\+json" "and lists the accepted types"

api POST $N/configmaps '{"metadata":{"name":"Bad_Name"}}' >"$T/o"
status 422 Invalid "an invalid name is 422"
like "$(jq -r .message "$T/o")" '^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "naming the field and why"
is "$(jq -r .details.causes[0].field "$T/o")" "metadata.name" "the cause names the field"
api POST $N/configmaps '{"metadata":{}}' >"$T/o"
status 422 Invalid "a missing name is 422"
like "$(jq -r .message "$T/o")" "metadata.name: Required value: name or generateName is required" "saying it is required"
api POST /api/v1/namespaces '{"metadata":{"name":"a.b"}}' >"$T/o"
status 422 Invalid "a namespace name must be a DNS label"
api POST $N/services '{"metadata":{"name":"1svc"},"spec":{"ports":[{"port":80}]}}' >"$T/o"
status 422 Invalid "a service name must be a DNS-1035 label"
api POST $N/services '{"metadata":{"name":"svc"},"spec":{"ports":[{"port":70000}]}}' >"$T/o"
like "$API_CODE $(jq -r .message "$T/o")" '^422 .*spec.ports\[0\].port: Invalid value: 70000' "a port out of range is 422 naming the port"
api POST $N/pods '{"metadata":{"name":"p"},"spec":{}}' >"$T/o"
like "$API_CODE $(jq -r .message "$T/o")" '^422 .*spec.containers: Required value' "a pod without containers is 422"
api POST $N/pods '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}' >"$T/o"
like "$API_CODE $(jq -r .message "$T/o")" '^422 .*spec.containers\[0\].image: Required value' "a container without an image is 422"
api POST /apis/apps/v1/namespaces/default/deployments '{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"y"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >"$T/o"
like "$API_CODE $(jq -r .message "$T/o")" '^422 .*`selector` does not match template `labels`' "a selector that does not match the template is 422"
api POST /apis/apps/v1/namespaces/default/deployments '{"metadata":{"name":"d"},"spec":{"replicas":-1,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >"$T/o"
like "$API_CODE $(jq -r .message "$T/o")" '^422 .*spec.replicas: Invalid value: -1' "negative replicas is 422"

done_testing
