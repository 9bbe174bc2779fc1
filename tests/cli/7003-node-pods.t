#!/usr/bin/env bash
# kx-node-run running real pods (from a file, as static pods, so that no
# store is needed): images pulled from a docker-registry on loopback, a
# network namespace per pod on a bridge, configMap volumes and env, two pods
# talking, restartPolicy Never, an OOM kill, a bad image, liveness and
# readiness probes, logs, and kill -9 of the agent with the pods adopted.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/7000-node-lib.sh"

# pods.json is rewritten as the test goes; the agent reads it every pass
PODS=()
write_pods() {
	{
		echo '{"kind":"List","apiVersion":"v1","items":['
		echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web"},"data":{"index.html":"hello from kx\n","greeting":"hi"}}'
		echo ',{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"password":"aHVudGVyMg=="}}'
		for p in "${PODS[@]}"; do echo ",$p"; done
		echo ']}'
	} >"$T/pods.new"
	mv "$T/pods.new" "$T/pods.json"
}
# the last status the agent printed for pod NAME, through jq FILTER
st() { grep "\"name\":\"$1\"" "$T/agent.out" | tail -1 | jq -r ".status | $2"; }
cid() { st "$1" ".containerStatuses[0].containerID" | sed 's|.*://||'; }

PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"'$IMG'",
 "command":["httpd","-f","-p","8080","-h","/www"],
 "env":[{"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"web","key":"greeting"}}}],
 "volumeMounts":[{"name":"www","mountPath":"/www"}]}],"volumes":[{"name":"www","configMap":{"name":"web"}}]}}')
write_pods
bg NR_exec -f "$T/pods.json" >"$T/agent.out" 2>"$T/agent.err"
AGENT=$BG_PID
wait_for 30 sh -c "grep '\"name\":\"web\"' '$T/agent.out' | tail -1 | grep -q '\"phase\":\"Running\"'"
is "$(st web .phase)" "Running" "a pod runs"
[ "$(st web .phase)" = Running ] || { st web .containerStatuses | sed 's/^/#   /'; tail -20 "$T/agent.err" | sed 's/^/#   /'; }
WEB=$(st web .podIP)
like "$WEB" "^$NET\.[0-9]+$" "with an address from the pod CIDR"
is "$(curl -s -m 5 "http://$WEB:8080/index.html")" "hello from kx" "it serves HTTP on its pod IP, from a configMap volume"
is "$(kx-container exec "$(cid web)" -- sh -c 'echo $GREETING')" "hi" "env from a ConfigMap key"
like "$(kx-container exec "$(cid web)" -- cat /etc/hosts)" "$WEB	web" "/etc/hosts names the pod"
is "$(st web '.containerStatuses[0].ready')" "true" "the container is ready"
like "$(kx-container exec "$(cid web)" -- cat /etc/resolv.conf)" "nameserver 10.96.0.10" "resolv.conf names the cluster DNS"
like "$(kx-container exec "$(cid web)" -- cat /etc/resolv.conf)" "search default.svc.cluster.local svc.cluster.local cluster.local" \
	"with Kubernetes' search path"
is "$(cat /proc/sys/net/ipv4/ip_forward)" "1" "forwarding is on"
is "$(cat /sys/class/net/"$BR"/brif/*/hairpin_mode | sort -u)" "1" "hairpin mode on the bridge ports"

# volumes: secret (on tmpfs), downwardAPI, projected, subPath; an init container
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"vols","labels":{"app":"v"}},"spec":{
 "initContainers":[{"name":"init","image":"'$IMG'","command":["sh","-c","echo from-init >/work/init.txt"],
  "volumeMounts":[{"name":"work","mountPath":"/work"}]}],
 "containers":[{"name":"c","image":"'$IMG'","command":["sleep","1000"],
  "volumeMounts":[{"name":"sec","mountPath":"/sec"},{"name":"dw","mountPath":"/dw"},{"name":"pj","mountPath":"/pj"},
   {"name":"work","mountPath":"/work"},{"name":"work","mountPath":"/one","subPath":"sub"},
   {"name":"work","mountPath":"/ro","readOnly":true}]}],
 "volumes":[{"name":"sec","secret":{"secretName":"s"}},
  {"name":"dw","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},{"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}},
  {"name":"pj","projected":{"sources":[{"configMap":{"name":"web","items":[{"key":"greeting","path":"g/greeting"}]}},{"secret":{"name":"s"}}]}},
  {"name":"work","emptyDir":{"medium":"Memory"}}]}}')
write_pods
wait_for 30 sh -c "grep '\"name\":\"vols\"' '$T/agent.out' | tail -1 | grep -q '\"phase\":\"Running\"'"
is "$(st vols .phase)" "Running" "a pod with an init container runs"
is "$(st vols '.initContainerStatuses[0].state.terminated.reason')" "Completed" "after its init container completed"
V=$(cid vols)
is "$(kx-container exec "$V" -- cat /work/init.txt)" "from-init" "which wrote into a shared emptyDir (medium: Memory)"
is "$(kx-container exec "$V" -- cat /sec/password)" "hunter2" "a secret volume, decoded"
SECDIR=$(ls -d "$ROOT"/pods/*/volumes/sec)
is "$(stat -f -c %T "$SECDIR")" "tmpfs" "secrets are on tmpfs"
is "$(kx-container exec "$V" -- cat /dw/labels)" 'app="v"' "downwardAPI labels"
is "$(kx-container exec "$V" -- cat /dw/name)" "vols" "downwardAPI name"
is "$(kx-container exec "$V" -- cat /pj/g/greeting /pj/password)" "hihunter2" "projected configMap items and secret"
kx-container exec "$V" -- sh -c 'echo sub >/one/x' >/dev/null
is "$(kx-container exec "$V" -- cat /work/sub/x)" "sub" "subPath mounts a directory of the volume"
like "$(kx-container exec "$V" -- sh -c 'echo x >/ro/y' 2>&1)" "Read-only file system" "readOnly mounts are read-only"
like "$(kx-container exec "$V" -- sh -c 'echo x >/etc/resolv.conf' 2>&1)" "Read-only file system" \
	"and so is /etc/resolv.conf"

# a container that keeps failing under restartPolicy Always: CrashLoopBackOff
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"crash"},"spec":{"containers":[{"name":"c","image":"'$IMG'",
 "command":["sh","-c","exit 1"]}]}}')
write_pods
wait_for 30 sh -c "grep '\"name\":\"crash\"' '$T/agent.out' | grep -q CrashLoopBackOff"
# the exit status may be reported a pass after the back-off (kx-container records it)
wait_for 30 sh -c "grep '\"name\":\"crash\"' '$T/agent.out' | tail -1 | grep -q '\"exitCode\":1'"
is "$(st crash '.containerStatuses[0].state.waiting.reason')" "CrashLoopBackOff" "a crashing container backs off: CrashLoopBackOff"
is "$(st crash '.containerStatuses[0].restartCount')" "1" "after its first restart"
is "$(st crash '.containerStatuses[0].lastState.terminated.exitCode')" "1" "with the last exit code"

# a second pod reaches the first, runs once and succeeds; its output is logged
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"client"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"'$IMG'",
 "command":["wget","-q","-O-","http://'$WEB':8080/index.html"]}]}}')
write_pods
wait_for 30 sh -c "grep '\"name\":\"client\"' '$T/agent.out' | tail -1 | grep -q Succeeded"
is "$(st client .phase)" "Succeeded" "a second pod reaches the first and succeeds"
is "$(cat "$T"/logs/default_client_*/c/0.log | sed 's/^[^ ]* stdout F //')" "hello from kx" "its output is in its log"

# restartPolicy Never, a failure: Failed with the exit code
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fail"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"'$IMG'",
 "command":["sh","-c","exit 3"]}]}}')
# a memory hog under a 16Mi limit
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hog"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"'$IMG'",
 "command":["dd","if=/dev/zero","of=/dev/null","bs=64M","count=1"],"resources":{"limits":{"memory":"16Mi"}}}]}}')
# an image that cannot be pulled
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"badimg"},"spec":{"containers":[{"name":"c","image":"127.0.0.1:1/nope:1"}]}}')
write_pods
wait_for 30 sh -c "grep '\"name\":\"fail\"' '$T/agent.out' | tail -1 | grep -q Failed"
is "$(st fail .phase)" "Failed" "restartPolicy Never: a failure ends Failed"
is "$(st fail '.containerStatuses[0].state.terminated.exitCode')" "3" "with the exit code"
wait_for 30 sh -c "grep '\"name\":\"hog\"' '$T/agent.out' | tail -1 | grep -q Failed"
is "$(st hog '.containerStatuses[0].state.terminated.reason')" "OOMKilled" "a memory hog is OOMKilled"
wait_for 30 sh -c "grep '\"name\":\"badimg\"' '$T/agent.out' | grep -q ErrImagePull"
ok "a bad image gives ErrImagePull" grep -q '"name":"badimg".*ErrImagePull' "$T/agent.out"
wait_for 30 sh -c "grep '\"name\":\"badimg\"' '$T/agent.out' | grep -q ImagePullBackOff"
is "$(st badimg '.containerStatuses[0].state.waiting.reason')" "ImagePullBackOff" "then ImagePullBackOff"

# probes: a liveness probe that starts failing restarts the container; a
# readiness probe holds ready back until it passes
PODS+=('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"probed"},"spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"c","image":"'$IMG'",
 "command":["sh","-c","test -f /data/restarted && sleep 1000; touch /data/restarted; touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 1000"],
 "livenessProbe":{"exec":{"command":["cat","/tmp/alive"]},"periodSeconds":1,"failureThreshold":1},
 "volumeMounts":[{"name":"data","mountPath":"/data"}]},
 {"name":"r","image":"'$IMG'","command":["httpd","-f","-p","8081","-h","/www"],
 "readinessProbe":{"httpGet":{"path":"/ready","port":8081},"periodSeconds":1},
 "volumeMounts":[{"name":"www","mountPath":"/www"}]}],
 "volumes":[{"name":"data","emptyDir":{}},{"name":"www","emptyDir":{}}]}}')
write_pods
wait_for 30 sh -c "grep '\"name\":\"probed\"' '$T/agent.out' | tail -1 | grep -q Running"
is "$(st probed '.containerStatuses[1].ready')" "false" "readiness failing: not ready"
is "$(st probed '.conditions[] | select(.type=="Ready") | .status')" "False" "and the pod is not Ready"
echo ok >"$(ls -d "$ROOT"/pods/*/volumes/www | while read -r d; do
	grep -q '"name":"probed"' "$d/../../pod.json" && echo "$d"; done)/ready"
wait_for 20 sh -c "grep '\"name\":\"probed\"' '$T/agent.out' | tail -1 | jq -e '.status.containerStatuses[1].ready'"
is "$(st probed '.containerStatuses[1].ready')" "true" "readiness passing: ready"
wait_for 30 sh -c "grep '\"name\":\"probed\"' '$T/agent.out' | tail -1 | jq -e '.status.containerStatuses[0].restartCount == 1 and .status.containerStatuses[0].state.running'"
is "$(st probed '.containerStatuses[0].restartCount')" "1" "a failing liveness probe restarts the container"
is "$(st probed '.containerStatuses[0].lastState.terminated.exitCode')" "137" "which was killed"
wait_for 20 sh -c "grep '\"name\":\"probed\"' '$T/agent.out' | tail -1 | grep -q '\"type\":\"Ready\",\"status\":\"True\"'"
is "$(st probed '.conditions[] | select(.type=="Ready") | .status')" "True" "the pod becomes Ready"

# kill -9 of the agent leaves the pods running; a new agent adopts them
WEBCID=$(cid web)
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=
like "$(kx-container state "$WEBCID" | jq -r .status)" "running" "kill -9 of the agent leaves the pods running"
is "$(curl -s -m 5 "http://$WEB:8080/index.html")" "hello from kx" "and serving"
NR -f "$T/pods.json" --once >"$T/again.out" 2>"$T/again.err"
rc=$?
is "$rc" 0 "a new agent runs"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/again.err"
is "$(kx-container state "$WEBCID" | jq -r .status)" "running" "the container was not restarted"
ok "nothing changed for the running pod" sh -c "! grep -q '\"name\":\"web\"' '$T/again.out'"

# a pod removed is torn down: containers, network namespace, volumes
NS=$(ls "$ROOT"/pods/*/sandbox.json | head -1 | xargs jq -r .netns)
PODS=()
write_pods
NR -f "$T/pods.json" --once >/dev/null 2>"$T/down.err" || sed 's/^/#   /' "$T/down.err"
is "$(ls "$ROOT/pods" | wc -l)" "0" "removed pods are torn down"
ok "their network namespaces are gone" sh -c "! ip netns list | grep -qw '$NS'"
ok "their containers are gone" sh -c "! kx-container state '$WEBCID' >/dev/null 2>&1"

done_testing
