#!/usr/bin/env bash
# kx-store: starts on a free port, answers health, version and discovery, has
# the four namespaces every cluster has, accepts trailing slashes, serves
# metrics, and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
like "$(cat "$STORE_LOG")" "listening on http://127\.0\.0\.1:[0-9]+" "kx-store says where it listens"

is "$(curl -s "$KX_SERVER/healthz")" "ok" "/healthz is ok"
is "$(curl -s "$KX_SERVER/livez")" "ok" "/livez is ok"
is "$(curl -s "$KX_SERVER/readyz/")" "ok" "/readyz/ with a trailing slash is ok"
is "$(curl -s "$KX_SERVER/version" | jq -r .major)" "1" "/version has major 1"
like "$(curl -s "$KX_SERVER/version" | jq -r .gitVersion)" "^v1\.[0-9]+\." "/version has a gitVersion"

is "$(curl -s "$KX_SERVER/api" | jq -c .versions)" '["v1"]' "/api lists v1"
is "$(curl -s "$KX_SERVER/apis" | jq -r '[.groups[].name] | sort | join(" ")')" \
	"apps coordination.k8s.io discovery.k8s.io events.k8s.io rbac.authorization.k8s.io" "/apis lists the groups"
is "$(curl -s "$KX_SERVER/apis/apps" | jq -r .preferredVersion.groupVersion)" "apps/v1" "/apis/apps names its preferred version"
pods=$(curl -s "$KX_SERVER/api/v1" | jq -c '.resources[] | select(.name=="pods")')
is "$(jq -c .shortNames <<<"$pods")" '["po"]' "pods have short name po"
is "$(jq -c .categories <<<"$pods")" '["all"]' "pods are in category all"
is "$(jq -r '.verbs | sort | join(" ")' <<<"$pods")" "create delete deletecollection get list patch update watch" "pods have every verb"
is "$(curl -s "$KX_SERVER/api/v1/" | jq -r '.resources[] | select(.name=="pods/binding") | .verbs[0]')" "create" "pods/binding is create-only"
is "$(curl -s "$KX_SERVER/apis/apps/v1" | jq -r '.resources[] | select(.name=="deployments/scale") | "\(.kind) \(.group)/\(.version)"')" \
	"Scale autoscaling/v1" "deployments/scale is an autoscaling/v1 Scale"
is "$(curl -s "$KX_SERVER/apis/apps/v1" | jq -r '.resources[] | select(.name=="deployments") | .shortNames[0]')" "deploy" "deployments have short name deploy"
is "$(curl -s "$KX_SERVER/apis/coordination.k8s.io/v1" | jq -r .groupVersion)" "coordination.k8s.io/v1" "leases' group version"
is "$(curl -s -o /dev/null -w '%{http_code}' "$KX_SERVER/apis/nosuch.io/v1")" "404" "an unknown group version is 404"

is "$(curl -s "$KX_SERVER/api/v1/namespaces" | jq -r '[.items[].metadata.name] | join(" ")')" \
	"default kube-node-lease kube-public kube-system" "the four namespaces exist from the start"
is "$(curl -s "$KX_SERVER/api/v1/namespaces/" | jq -r .kind)" "NamespaceList" "a trailing slash is accepted on a list"
is "$(curl -s "$KX_SERVER/api/v1/namespaces/default/" | jq -r .status.phase)" "Active" "and on an object"
is "$(curl -s "$KX_SERVER/api/v1/namespaces" | jq -r '.items[0] | has("kind")')" "false" "list items carry no kind, as in Kubernetes"
like "$(curl -s "$KX_SERVER/api/v1/namespaces" | jq -r .metadata.resourceVersion)" "^[0-9]+$" "a list has a resourceVersion"

curl -s "$KX_SERVER/api/v1/namespaces" >/dev/null
m=$(curl -s "$KX_SERVER/metrics")
like "$m" 'kx_store_requests_total\{verb="LIST",code="200"\} [0-9]+' "metrics count requests by verb and code"
like "$m" 'kx_store_revision [0-9]+' "metrics show the revision"
like "$m" 'kx_store_watchers 0' "metrics show the watchers"
like "$m" 'kx_store_request_duration_seconds_bucket' "metrics have a latency histogram"

# a second store cannot take the same port
port=${KX_SERVER##*:}
fails "a second store on a taken port fails" 1 kx-store --listen "127.0.0.1:$port" --data "$T/other"
fails "a malformed --listen is a usage error" 2 kx-store --listen nonsense --data "$T/other"
fails "a malformed --service-cidr is a usage error" 2 kx-store --service-cidr 10.0.0.0 --data "$T/other"

kill -TERM "$STORE_PID"
wait "$STORE_PID"
is "$?" "0" "SIGTERM stops kx-store with status 0"
like "$(cat "$STORE_LOG")" "stopped at revision" "and it says so"

done_testing
