#!/usr/bin/env bash
# kx-node-run's lifecycle hooks against a real kx-store: postStart (exec
# inside the container, httpGet from the node) runs before the container
# counts as running; a failing postStart kills the container with a
# FailedPostStartHook event and it is restarted; on deletion preStop (exec,
# httpGet) runs before SIGTERM.
. "$(dirname "$0")/lib.sh"
command -v kx-store >/dev/null || skip_all "needs kx-store"
. "$(dirname "$0")/7000-node-lib.sh"

store_start || exit 1
N=t$$

# an HTTP server on the node's loopback that logs the hooks' requests
mkdir -p "$T/www"
echo ok >"$T/www/started"
echo ok >"$T/www/stopping"
HP=$(free_port)
bg $PY -u -m http.server "$HP" --bind 127.0.0.1 --directory "$T/www" 2>"$T/http.log"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HP/started" || diag "the HTTP server did not start"

api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hooks"},
 "spec":{"nodeName":"'$N'","terminationGracePeriodSeconds":5,"containers":[
 {"name":"c","image":"'$IMG'",
  "command":["sh","-c","trap \"echo got TERM; exit 0\" TERM; echo started; while true; do sleep 1; done"],
  "lifecycle":{"postStart":{"exec":{"command":["sh","-c","echo from-poststart >/tmp/poststart"]}},
   "preStop":{"exec":{"command":["sh","-c","echo prestop >/proc/1/fd/1"]}}}},
 {"name":"h","image":"'$IMG'","command":["sleep","1000"],
  "lifecycle":{"postStart":{"httpGet":{"host":"127.0.0.1","port":'$HP',"path":"/started?pod=hooks"}},
   "preStop":{"httpGet":{"host":"127.0.0.1","port":'$HP',"path":"/stopping?pod=hooks"}}}}]}}' >/dev/null
is "$API_CODE" 201 "a pod with postStart and preStop hooks is bound to the node"
api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},
 "spec":{"nodeName":"'$N'","terminationGracePeriodSeconds":1,"containers":[
 {"name":"e","image":"'$IMG'","command":["sleep","1000"],
  "lifecycle":{"postStart":{"exec":{"command":["false"]}}}},
 {"name":"g","image":"'$IMG'","command":["sleep","1000"],
  "lifecycle":{"postStart":{"httpGet":{"host":"127.0.0.1","port":'$HP',"path":"/missing"}}}}]}}' >/dev/null
is "$API_CODE" 201 "and one whose postStart hooks fail"

bg NR_exec
AGENT=$BG_PID
pod() { api GET "/api/v1/namespaces/default/pods/$1" | jq -r "$2"; }
wait_for 30 sh -c "curl -s $KX_SERVER/api/v1/namespaces/default/pods/hooks | jq -e '.status.phase == \"Running\"'"
is "$(pod hooks .status.phase)" "Running" "the pod with hooks runs"
CID=$(pod hooks '.status.containerStatuses[] | select(.name=="c") | .containerID' | sed 's|.*://||')
is "$(kx-container exec "$CID" -- cat /tmp/poststart)" "from-poststart" "an exec postStart hook ran in the container"
like "$(cat "$T/http.log")" 'GET /started\?pod=hooks HTTP' "an httpGet postStart hook reached its server"
is "$(pod hooks '[.status.containerStatuses[].restartCount] | add')" "0" "passing hooks restart nothing"

# failing postStart hooks: the containers are killed and restarted
wait_for 40 sh -c "curl -s $KX_SERVER/api/v1/namespaces/default/pods/bad | jq -e '[.status.containerStatuses[].restartCount] | min >= 1'"
is "$(pod bad '[.status.containerStatuses[].restartCount] | min >= 1')" "true" \
	"a failing postStart hook (exec and httpGet) gets the container killed and restarted"
like "$(pod bad '.status.containerStatuses[] | select(.name=="e") | .lastState.terminated.message')" \
	'^Exec lifecycle hook \(exec false\) for Container "e" in Pod "bad_default' "the exec hook's failure is its last state's message"
like "$(pod bad '.status.containerStatuses[] | select(.name=="g") | .lastState.terminated.message')" \
	'^HTTP lifecycle hook .*/missing.* failed - error: HTTP probe failed with statuscode: 404' "and the httpGet hook's"
like "$(api GET /api/v1/namespaces/default/events | jq -r '.items[] | select(.reason=="FailedPostStartHook") | .involvedObject.name + " " + .type + " " + .message')" \
	"bad Warning PostStartHook failed" "a FailedPostStartHook event is recorded"
is "$(pod bad '.status.containerStatuses[] | select(.name=="e") | .lastState.terminated.exitCode')" "137" \
	"the container was killed"

# deletion: preStop (exec, httpGet) before SIGTERM
api DELETE /api/v1/namespaces/default/pods/hooks >/dev/null
wait_for 30 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $KX_SERVER/api/v1/namespaces/default/pods/hooks) = 404 ]"
is "$(curl -s -o /dev/null -w '%{http_code}' "$KX_SERVER/api/v1/namespaces/default/pods/hooks")" "404" "the pod is deleted"
like "$(cat "$T/http.log")" 'GET /stopping\?pod=hooks HTTP' "an httpGet preStop hook reached its server"
is "$(cat "$T"/logs/default_hooks_*/c/0.log | sed 's/^[^ ]* stdout F //' | tr '\n' ' ')" "started prestop got TERM " \
	"an exec preStop hook ran, then the container got SIGTERM"
api DELETE /api/v1/namespaces/default/pods/bad >/dev/null
wait_for 30 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $KX_SERVER/api/v1/namespaces/default/pods/bad) = 404 ]"
is "$(ls "$ROOT/pods" | wc -l)" "0" "the pods' sandboxes and volumes are gone"

done_testing
