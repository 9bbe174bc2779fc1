#!/usr/bin/env bash
# node-failure.sh: the node failure drill, on this machine.
#
# Two nodes, n1 and n2, each a kx-node-run with its own pod network
# (10.244.1.0/24 on bridge kx1, 10.244.2.0/24 on bridge kx2); both bridges
# are on this host, so its routing table already routes the two pod
# networks to each other. (On two machines: `ip route add 10.244.2.0/24 via
# N2-ADDRESS` on n1 and the other way round on n2.) The store, the
# scheduler, the controllers and the proxy as in examples/cluster.sh, with
# short timings so that the drill takes a minute rather than ten:
#
#   kx-node-run --node-status-update-frequency 1s   a heartbeat every second
#   kx-reconcile --node-monitor-grace-period 4s      a node silent for 4s is lost
#                --pod-eviction-timeout 10s          and its pods go 10s later
#
# The drill: examples/app runs with its pods spread over both nodes; n2's
# agent and its pods are killed (SIGKILL, as when the machine dies); n2
# goes Unknown and is tainted, its pods are evicted and recreated on n1,
# and the Service keeps answering from the pods that remain. Then n2's agent
# comes back, removes what is left of its evicted pods, and the node is
# Ready again. Everything it made is removed at the end (or on Ctrl-C).
KX_DATA=${KX_DATA:-/var/lib/kx-drill}
KX_LISTEN=${KX_LISTEN:-127.0.0.1:8080}
KX_REGISTRY=${KX_REGISTRY:-127.0.0.1:5000}
set -u
here=$(cd "$(dirname "$0")" && pwd)
PATH=$(cd "$here/.." && pwd)/bin:$PATH
export PATH KX_SERVER=http://$KX_LISTEN
pids=()
t0=$SECONDS

say() { printf '[drill] %3ds %s\n' $((SECONDS - t0)) "$*"; }
start() {
	local name=$1
	shift
	"$@" > >(exec sed -u "s/^/[$name] /") 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
}
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.5
	done
}

# node NAME INDEX [ARGS]: the agent of node NAME, pods on 10.244.INDEX.0/24
node() {
	exec kx-node-run --node "$1" --root "$KX_DATA/$1" --log-dir "$KX_DATA/logs" \
		--pod-cidr "10.244.$2.0/24" --bridge "kx$2" --port $((10250 + $2)) \
		--node-status-update-frequency 1s
}

stop() {
	trap - INT TERM EXIT
	say "stopping"
	local i n
	[ -n "${prober:-}" ] && kill "$prober" 2>/dev/null
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null
	done
	echo '{"apiVersion":"v1","kind":"List","items":[]}' >"$KX_DATA/no-pods.json"
	for n in 1 2; do
		[ -d "$KX_DATA/n$n" ] && kx-node-run --node "n$n" --root "$KX_DATA/n$n" --log-dir "$KX_DATA/logs" \
			--bridge "kx$n" --port 0 -f "$KX_DATA/no-pods.json" --once
		ip link del "kx$n" 2>/dev/null
	done
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		rmdir "$h/besteffort" "$h/burstable" "$h" 2>/dev/null
	done
	kx-proxy-sync --cleanup
	say "stopped"
	exit "${1:-0}"
}
trap stop INT TERM EXIT
fail() { say "FAILED: $*"; kx-get pods -o wide; stop 1; }

# --- the cluster --------------------------------------------------------------
rm -rf "$KX_DATA/store"
mkdir -p "$KX_DATA/store"
start store kx-store --listen "$KX_LISTEN" --data "$KX_DATA/store"
wait_for 20 curl -sf "$KX_SERVER/readyz" || fail "kx-store did not start"
printf '%s\n' 'version: 0.1' 'log: {level: error, accesslog: {disabled: true}}' \
	"storage: {filesystem: {rootdirectory: $KX_DATA/registry}}" "http: {addr: \"$KX_REGISTRY\"}" \
	>"$KX_DATA/registry.yml"
docker-registry serve "$KX_DATA/registry.yml" >/dev/null 2>&1 &
pids+=($!)
wait_for 20 curl -sf "http://$KX_REGISTRY/v2/" || fail "the registry did not start"
"$here/image/build.sh" "$KX_DATA/image" "$KX_REGISTRY/kx/httpd:1" || fail "no image"

start scheduler kx-schedule-once --watch
start controllers kx-reconcile --watch -v --node-monitor-period 1s \
	--node-monitor-grace-period 4s --pod-eviction-timeout 10s
start n1 node n1 1
start n2 node n2 2
start proxy kx-proxy-sync --watch --cluster-cidr 10.244.0.0/16
wait_for 30 kx-get node n1 n2 || fail "the nodes did not register"

kx-apply -f "$here/app"
spread() {
	kx-get pods -o json | jq -e '[.items[] | select(.status.phase == "Running"
	  and (.status.conditions // [] | any(.type == "Ready" and .status == "True")))
	  | .spec.nodeName] | (index("n1") != null and index("n2") != null)'
}
wait_for 180 spread || fail "the app did not come up on both nodes"
ip=$(kx-get service web -o json | jq -r .spec.clusterIP)
wait_for 30 curl -sf -m 5 "http://$ip/" || fail "the Service does not answer"
say "the app runs on both nodes and its Service answers on $ip:"
kx-get pods -o wide

# the pod networks are routed to each other: a pod on n1 reaches the pod on
# n2 by its address, and the Service by its cluster IP (from inside the
# pod's network namespace, which kx-node-run names kx-<uid's first 12 hex>)
pod_on() { kx-get pods -o json | jq -r --arg n "$1" "[.items[] | select(.spec.nodeName == \$n)][0] | $2"; }
netns=kx-$(pod_on n1 .metadata.uid | tr -d - | cut -c1-12)
n2ip=$(pod_on n2 .status.podIP)
wait_for 10 ip netns exec "$netns" curl -sf -m 2 -o /dev/null "http://$n2ip:8080/" ||
	fail "a pod on n1 does not reach the pod on n2 ($n2ip)"
say "a pod on n1 reaches the pod on n2 at $n2ip"
wait_for 10 ip netns exec "$netns" curl -sf -m 2 -o /dev/null "http://$ip/" ||
	fail "a pod on n1 does not reach the Service"
say "a pod on n1 reaches the Service at $ip"

# a client that keeps asking, and writes down each answer
(while :; do
	if curl -sf -m 2 -o /dev/null "http://$ip/"; then echo "$SECONDS ok"; else echo "$SECONDS failed"; fi
	sleep 0.2
done >"$KX_DATA/answers") &
prober=$!

# --- n2 dies: its agent, then its pods, at once -------------------------------
victims=$(kx-get pods -o json | jq -r '.items[] | select(.spec.nodeName == "n2") | .metadata.uid')
{ kill -KILL "$pid_n2" && wait "$pid_n2"; } 2>/dev/null
for uid in $victims; do
	for procs in $(find /sys/fs/cgroup -path "*/pod$uid/*" -name cgroup.procs 2>/dev/null); do
		xargs -r kill -KILL <"$procs" 2>/dev/null
	done
done
t0=$SECONDS
say "n2 killed: its agent and the containers of its pods $(echo $victims | wc -w)"

unknown() { kx-get node n2 -o json | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "Unknown"'; }
wait_for 60 unknown || fail "n2 did not become Unknown"
say "n2 is Unknown: $(kx-get node n2 -o json | jq -r '.status.conditions[] | select(.type == "Ready") | .message')"

tainted() { kx-get node n2 -o json | jq -e '.spec.taints // [] | any(.key == "node.kubernetes.io/unreachable" and .effect == "NoExecute")'; }
wait_for 30 tainted || fail "n2 was not tainted"
say "n2 is tainted: $(kx-get node n2 -o json | jq -c '[.spec.taints[] | .key + ":" + .effect]')"

evicted() {
	kx-get pods -o json | jq -e --arg v "$victims" '[.items[] | select(.metadata.uid | inside($v))]
	  | all(.metadata.deletionTimestamp != null)'
}
wait_for 60 evicted || fail "n2's pods were not evicted"
say "n2's pods are evicted (deleted; they stay Terminating until n2 says they stopped)"

moved() {
	kx-get pods -o json | jq -e '[.items[] | select(.metadata.deletionTimestamp == null
	  and .spec.nodeName == "n1" and .status.phase == "Running"
	  and (.status.conditions // [] | any(.type == "Ready" and .status == "True")))] | length == 2'
}
wait_for 120 moved || fail "the pods were not recreated on n1"
say "both replicas run on n1:"
kx-get pods -o wide
# the Service's endpoints: the two pods on n1, and nothing else
on_n1() {
	want=$(kx-get pods -o json | jq -c '[.items[] | select(.spec.nodeName == "n1") | .status.podIP] | sort')
	kx-get endpoints web -o json | jq -e --argjson w "$want" '[.subsets[]?.addresses[]?.ip] | sort == $w'
}
wait_for 30 on_n1 || fail "the Service's endpoints are not the pods on n1"
say "the Service's endpoints: $(kx-get endpoints web -o json | jq -c '[.subsets[]?.addresses[]?.ip]')"
ten_answers() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 5 -o /dev/null "http://$ip/" || return 1; done
}
wait_for 60 ten_answers || fail "the Service did not answer ten times in a row"
say "the Service answers (10 of 10)"
kill "$prober" && wait "$prober" 2>/dev/null
prober=
# (the failures are the requests sent to n2's pod before the controllers
# noticed, in the grace period, and marked it not ready)
say "while n2 was failing: $(grep -c ok "$KX_DATA/answers") answers, $(grep -c failed "$KX_DATA/answers") failures"

# --- n2 comes back --------------------------------------------------------------
start n2 node n2 2
gone() { kx-get pods -o json | jq -e --arg v "$victims" '[.items[] | select(.metadata.uid | inside($v))] | length == 0'; }
wait_for 60 gone || fail "n2 did not remove its evicted pods"
say "n2 is back and has removed its evicted pods"
back() {
	kx-get node n2 -o json | jq -e '(.status.conditions[] | select(.type == "Ready") | .status == "True")
	  and (.spec.taints // [] | length == 0)'
}
wait_for 30 back || fail "n2 did not become Ready"
say "n2 is Ready and untainted again; the drill is over"
stop 0
