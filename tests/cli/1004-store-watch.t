#!/usr/bin/env bash
# kx-store: watch. From a past resourceVersion every event arrives, in order;
# without one, the current objects come first as ADDED; one namespace or all;
# selectors apply (an object leaving the selection is DELETED for the
# watcher); bookmarks; timeoutSeconds; 410 once history is compacted.
. "$(dirname "$0")/lib.sh"

store_start --history 5 --compact-interval 200ms --bookmark-interval 300ms || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
N=/api/v1/namespaces/default

api POST /api/v1/namespaces '{"metadata":{"name":"other"}}' >/dev/null
api POST $N/configmaps '{"metadata":{"name":"c0","labels":{"app":"a"}}}' >"$T/c0"
rv0=$(jq -r .metadata.resourceVersion "$T/c0")

# a watch from rv0, started now, then 20 writes while it runs
curl -sN "$KX_SERVER$N/configmaps?watch=true&resourceVersion=$rv0&timeoutSeconds=3" >"$T/w1" &
w1=$!
curl -sN "$KX_SERVER/api/v1/configmaps?watch=1&timeoutSeconds=3" >"$T/wall" &
wall=$!
curl -sN "$KX_SERVER$N/configmaps?watch=True&labelSelector=app%3Da&timeoutSeconds=3" >"$T/wsel" &
wsel=$!
sleep 0.3
for i in $(seq 1 10); do
	api POST $N/configmaps "{\"metadata\":{\"name\":\"c$i\",\"labels\":{\"app\":\"a\"}}}" >/dev/null
done
api POST /api/v1/namespaces/other/configmaps '{"metadata":{"name":"o1"}}' >/dev/null
for i in $(seq 1 5); do
	CTYPE=application/merge-patch+json api PATCH $N/configmaps/c$i '{"data":{"k":"v"}}' >/dev/null
done
CTYPE=application/merge-patch+json api PATCH $N/configmaps/c1 '{"metadata":{"labels":{"app":"b"}}}' >/dev/null
api DELETE $N/configmaps/c2 >/dev/null
api POST $N/pods '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
wait $w1 $wall $wsel

is "$(jq -r '"\(.type) \(.object.metadata.name)"' "$T/w1" | tr '\n' ' ')" \
	"ADDED c1 ADDED c2 ADDED c3 ADDED c4 ADDED c5 ADDED c6 ADDED c7 ADDED c8 ADDED c9 ADDED c10 MODIFIED c1 MODIFIED c2 MODIFIED c3 MODIFIED c4 MODIFIED c5 MODIFIED c1 DELETED c2 " \
	"a watch from a past resourceVersion sees every event of its namespace, in order"
revs=$(jq -r .object.metadata.resourceVersion "$T/w1")
is "$revs" "$(sort -n <<<"$revs")" "in increasing resourceVersion"
is "$(jq -r .object.kind "$T/w1" | sort -u)" "ConfigMap" "event objects carry their kind"
is "$(jq -r 'select(.type=="DELETED") | .object.metadata.name' "$T/w1")" "c2" "a DELETED event carries the object"
like "$(jq -r '"\(.type) \(.object.metadata.name)"' "$T/wall" | tr '\n' ' ')" \
	"^ADDED c0 .*ADDED o1 .*DELETED c2 $" "a watch without resourceVersion starts with the objects, across namespaces"
is "$(jq -r 'select(.object.metadata.name=="o1") | .object.metadata.namespace' "$T/wall")" "other" "all namespaces when watching /api/v1/configmaps"
is "$(jq -r '"\(.type) \(.object.metadata.name)"' "$T/wsel" | tail -3 | tr '\n' ' ')" "MODIFIED c5 DELETED c1 DELETED c2 " \
	"a labelSelector watch: an object leaving the selection is DELETED"
ok "no pods in a configmaps watch" sh -c "! grep -q '\"Pod\"' '$T/wall'"

# fieldSelector in watch, and a watch from "now" that sees nothing old
rv=$(curl -s "$KX_SERVER$N/configmaps" | jq -r .metadata.resourceVersion)
curl -sN "$KX_SERVER$N/configmaps?watch=true&resourceVersion=$rv&fieldSelector=metadata.name%3Dc3&timeoutSeconds=1" >"$T/wf" &
wf=$!
sleep 0.2
CTYPE=application/merge-patch+json api PATCH $N/configmaps/c4 '{"data":{"k":"w"}}' >/dev/null
CTYPE=application/merge-patch+json api PATCH $N/configmaps/c3 '{"data":{"k":"w"}}' >/dev/null
wait $wf
is "$(jq -r '"\(.type) \(.object.metadata.name)"' "$T/wf")" "MODIFIED c3" "a fieldSelector watch sees only its object"

# bookmarks
curl -sN "$KX_SERVER$N/configmaps?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=1" >"$T/wb"
like "$(jq -r '"\(.type) \(.object.kind) \(.object.metadata.resourceVersion)"' "$T/wb" | tail -1)" "^BOOKMARK ConfigMap [0-9]+$" "allowWatchBookmarks brings bookmarks"

# timeoutSeconds ends the stream
start=$(date +%s)
curl -sN "$KX_SERVER$N/pods?watch=true&resourceVersion=$rv&timeoutSeconds=1" >/dev/null
ok "timeoutSeconds ends the watch" test $(($(date +%s) - start)) -le 3

# compaction: history keeps 5 revisions; an older watch gets 410
for i in $(seq 1 10); do api POST $N/configmaps "{\"metadata\":{\"name\":\"x$i\"}}" >/dev/null; done
wait_for 10 sh -c "curl -s '$KX_SERVER/metrics' | grep -q '^kx_store_compacted_revision [1-9]'"
code=$(curl -s -o "$T/gone" -w '%{http_code}' "$KX_SERVER$N/configmaps?watch=true&resourceVersion=$rv0")
is "$code $(jq -r '"\(.reason) \(.code)"' "$T/gone")" "410 Expired 410" "a watch from a compacted resourceVersion is 410"
like "$(jq -r .message "$T/gone")" "too old resource version" "saying it is too old"
# a continue token from before compaction is 410 too
tok=$(printf '{"v":"meta.k8s.io/v1","rv":1,"start":"/registry/configmaps/default/c1"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
is "$(curl -s -o /dev/null -w '%{http_code}' "$KX_SERVER$N/configmaps?limit=1&continue=$tok")" "410" "a continue token older than the history is 410"

# the watch count is in the metrics, and falls back to 0 when watches end
like "$(curl -s "$KX_SERVER/metrics" | grep '^kx_store_watch_events_total')" "kx_store_watch_events_total [1-9]" "watch events are counted"
wait_for 5 sh -c "curl -s '$KX_SERVER/metrics' | grep -q '^kx_store_watchers 0'"
is "$?" "0" "watchers go back to 0"

# SIGTERM ends open watches and the store
curl -sN "$KX_SERVER$N/configmaps?watch=true" >/dev/null &
wt=$!
sleep 0.3
store_stop
wait $wt
is "$?" "0" "SIGTERM ends an open watch cleanly"

done_testing
