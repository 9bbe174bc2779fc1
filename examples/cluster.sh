#!/usr/bin/env bash
# cluster.sh: a whole kx cluster on this machine, composed with shell.
#
# `make run` builds the programs and runs this script. It starts, in the
# foreground, each component as its own process, its log lines prefixed by
# its name:
#
#   [store]        kx-store          the API on 127.0.0.1:8080, SQLite under $KX_DATA/store
#   [registry]     docker-registry   the example image, on 127.0.0.1:5000
#   [scheduler]    kx-schedule-once --watch     (kube-scheduler)
#   [controllers]  kx-reconcile --watch         (kube-controller-manager)
#   [dns]          kx-dns                       (CoreDNS) on the pods' gateway
#   [node]         kx-node-run                  (the kubelet) with kx-container
#   [probes]       kx-health-check --node --watch  (the kubelet's prober)
#   [proxy]        kx-proxy-sync --watch        (kube-proxy, the nft table "ip kx")
#
# then builds the example image from busybox-static (examples/image/build.sh),
# applies examples/app, waits until the Deployment is available and its
# Service answers on its cluster IP, and says what to try next.
#
# Ctrl-C or SIGTERM stops everything and removes what it made: the pods
# (containers, network namespaces, cgroups, mounts), the pods' bridge, the
# kx nft table. The data directory stays; the next run starts from it.
#
# Every line below is a command you can run by hand, from another terminal,
# one component at a time (docs/tutorial.md does). Settings, from the
# environment:
KX_DATA=${KX_DATA:-/var/lib/kx}                  # everything the cluster keeps
KX_LISTEN=${KX_LISTEN:-127.0.0.1:8080}           # the store's address
KX_NODE=${KX_NODE:-$(hostname -s 2>/dev/null || echo node1)}
KX_POD_CIDR=${KX_POD_CIDR:-10.244.0.0/24}        # this node's pod addresses
KX_BRIDGE=${KX_BRIDGE:-kx0}                      # the pods' bridge
KX_KUBELET_PORT=${KX_KUBELET_PORT:-10250}        # the node's log server
KX_REGISTRY=${KX_REGISTRY:-127.0.0.1:5000}       # "" to use a registry already there
KX_APP=${KX_APP-}                                # manifests to apply ("" = examples/app)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PATH=$top/bin:$PATH
export PATH KX_SERVER=http://$KX_LISTEN
KX_APP=${KX_APP:-$here/app}
node_root=$KX_DATA/node
node_logs=$KX_DATA/logs
pids=()

say() { printf '[cluster] %s\n' "$*"; }

# start NAME CMD...: run CMD in the background, its output prefixed by
# [NAME]; $! is the program itself, so that stop can signal it.
start() {
	local name=$1
	shift
	"$@" > >(exec sed -u "s/^/[$name] /") 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
}

# except REGEX CMD...: run CMD without the lines of its output that match
# REGEX (what a component says on every pass).
except() {
	local re=$1
	shift
	exec "$@" > >(exec grep --line-buffered -v -E "$re") 2>&1
}

# wait_for SECONDS CMD...: until CMD succeeds; 1 if it never does.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.5
	done
}

# stop: the components in the reverse order, then what the node made.
stop() {
	trap - INT TERM EXIT
	say "stopping"
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null
	done
	# kx-node-run leaves the pods running when it stops (a new run adopts
	# them); one pass over an empty list of pods, without the store, stops
	# and removes them all: containers, volumes, mounts, network namespaces.
	if [ -d "$node_root/pods" ]; then
		echo '{"apiVersion":"v1","kind":"List","items":[]}' >"$KX_DATA/no-pods.json"
		kx-node-run --node "$KX_NODE" --root "$node_root" --log-dir "$node_logs" \
			--bridge "$KX_BRIDGE" --pod-cidr "$KX_POD_CIDR" --port 0 \
			-f "$KX_DATA/no-pods.json" --once 2>&1 | sed -u 's/^/[node] /'
		rm -f "$KX_DATA/no-pods.json"
	fi
	ip link del "$KX_BRIDGE" 2>/dev/null
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		rmdir "$h/besteffort" "$h/burstable" "$h" 2>/dev/null
	done
	kx-proxy-sync --cleanup 2>&1 | sed -u 's/^/[proxy] /'
	say "stopped; the data directory $KX_DATA is kept"
	exit "${1:-0}"
}
trap stop INT TERM EXIT
fail() { say "$*"; stop 1; }

mkdir -p "$KX_DATA/store" "$node_root" "$node_logs"

# --- the store: the API, and the only state of the cluster --------------------
start store kx-store --listen "$KX_LISTEN" --data "$KX_DATA/store"
wait_for 20 curl -sf "$KX_SERVER/readyz" || fail "kx-store did not become ready on $KX_LISTEN"
say "store ready at $KX_SERVER"

# --- the example image, built here and served from a registry on loopback ---
if [ -n "$KX_REGISTRY" ]; then
	printf '%s\n' 'version: 0.1' 'log: {level: error, accesslog: {disabled: true}}' \
		"storage: {filesystem: {rootdirectory: $KX_DATA/registry}}" \
		"http: {addr: \"$KX_REGISTRY\"}" >"$KX_DATA/registry.yml"
	# (without the lines it writes for every 404, as when a push asks for a blob)
	start registry except 'response completed with error' docker-registry serve "$KX_DATA/registry.yml"
	wait_for 20 curl -sf "http://$KX_REGISTRY/v2/" || fail "the registry did not start on $KX_REGISTRY"
	if ! curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$KX_REGISTRY/v2/kx/httpd/manifests/1"; then
		"$here/image/build.sh" "$KX_DATA/image" "$KX_REGISTRY/kx/httpd:1" 2>&1 | sed 's/^/[image] /'
	fi
	say "image $KX_REGISTRY/kx/httpd:1 ready"
fi

# --- the control plane: scheduler and controllers ----------------------------
# (-v: they say what they do; what they say on every pass is left out)
start scheduler except 'observed|bound [0-9]+ pods|watching' kx-schedule-once --watch -v
start controllers except 'pass done: 0 writes|watch .*: ' kx-reconcile --watch -v

# --- cluster DNS: Services and pods by name, for the pods ---------------------
# kx-dns listens on the pods' gateway (the bridge's address, bound before the
# bridge exists), and the node tells its pods to ask it (--cluster-dns);
# other names go to this host's nameservers.
dns_ip=${KX_POD_CIDR%.*/*}.1
start dns kx-dns --listen "$dns_ip:53"

# --- the node: the agent, its prober, and the proxy --------------------------
start node kx-node-run --node "$KX_NODE" --root "$node_root" --log-dir "$node_logs" \
	--pod-cidr "$KX_POD_CIDR" --bridge "$KX_BRIDGE" --port "$KX_KUBELET_PORT" --no-probes \
	--cluster-dns "$dns_ip"
# (the prober prints a JSON line per probe: only those that change are shown)
start probes except '"changed":false' kx-health-check --node "$KX_NODE" --root "$node_root" --watch
start proxy except 'nothing to change|sent one batch|: 0 operations|(full|incremental) pass:' kx-proxy-sync --watch -v --node "$KX_NODE" --cluster-cidr "${KX_POD_CIDR%.*/*}.0/16"
wait_for 30 kx-get node "$KX_NODE" || fail "node $KX_NODE did not register"

# --- the application ----------------------------------------------------------
kx-apply -f "$KX_APP" 2>&1 | sed -u 's/^/[apply] /'
say "waiting for deployment/web to be available"
available() { kx-get deployment web -o json | jq -e '.status.availableReplicas >= .spec.replicas'; }
wait_for 180 available || fail "deployment/web did not become available"
ip=$(kx-get service web -o json | jq -r .spec.clusterIP)
port=$(kx-get service web -o json | jq -r '.spec.ports[0].port')
wait_for 60 curl -sf -m 5 "http://$ip:$port/" || fail "service/web does not answer on $ip:$port"
say "service/web answers on http://$ip:$port/"

kx-get pods -o wide | sed 's/^/[cluster]   /'
say "running; from another terminal:"
try() { # COMMAND [COMMENT]
	if [ -n "${2-}" ]; then printf '[cluster]   %-52s # %s\n' "$1" "$2"; else printf '[cluster]   %s\n' "$1"; fi
}
try "export PATH=$top/bin:\$PATH"
try "kx get pods -o wide" "the pods, their node and IP"
try "curl http://$ip:$port/" "the Service, load-balanced by nft"
try "kx get deploy web -o json | jq .status" "what the controllers see"
try "kubectl --server $KX_SERVER scale deployment web --replicas 3"
try "kx delete \$(kx get pods -o name | head -1)" "and watch it come back:"
try "kx get pods -w"
try "nft list table ip kx" "the Service as rules"
try "dig @$dns_ip +short web.default.svc.cluster.local" "the Service by name"
say "Ctrl-C stops everything."
wait   # until Ctrl-C or SIGTERM (the trap runs stop)
fail "every component exited"
