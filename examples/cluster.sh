#!/usr/bin/env bash
# cluster.sh: a whole kx cluster on this machine, composed with shell.
#
# Starts, in the foreground, each component as its own process with its log
# lines prefixed by the program's name:
#   kx-store          the API, on 127.0.0.1:8080, data under $KX_DATA/store
#   kx-node-run       one node (the kubelet), running pods with kx-container
#   kx-schedule-once  the scheduler, --watch
#   kx-reconcile      the controllers, --watch
#   kx-proxy-sync     Services on nftables, --watch
# then applies examples/app and waits for it. Ctrl-C or SIGTERM stops
# everything and removes what it made (pods, network namespaces, the kx nft
# table, cgroups, mounts), leaving the data directory.
#
# Read it, copy it, change it: every line is a command you can run by hand.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PATH=$top/bin:$PATH
export PATH

KX_DATA=${KX_DATA:-/var/lib/kx}
LISTEN=${KX_LISTEN:-127.0.0.1:8080}
export KX_SERVER=http://$LISTEN
NODE=${KX_NODE:-$(hostname -s 2>/dev/null || echo node1)}
POD_CIDR=${KX_POD_CIDR:-10.244.0.0/24}
pids=()

say() { printf '[cluster] %s\n' "$*"; }

# Run a component in the background with its output prefixed by its name.
start() {
	local name=$1
	shift
	if ! command -v "$1" >/dev/null; then
		say "$1 is not built yet: skipping $name"
		return 0
	fi
	("$@" 2>&1 | sed -u "s/^/[$name] /") &
	pids+=($!)
}

stop() {
	trap - INT TERM EXIT
	say "stopping"
	# the node agent removes its pods when it gets SIGTERM
	pkill -TERM -f "kx-node-run --node $NODE" 2>/dev/null
	for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	command -v kx-proxy-sync >/dev/null && kx-proxy-sync --cleanup >/dev/null 2>&1
	say "stopped; the data directory $KX_DATA is kept"
	exit 0
}
trap stop INT TERM EXIT

mkdir -p "$KX_DATA/store"
start store kx-store --listen "$LISTEN" --data "$KX_DATA/store"
for _ in $(seq 100); do curl -sf "$KX_SERVER/readyz" >/dev/null && break; sleep 0.1; done
if ! curl -sf "$KX_SERVER/readyz" >/dev/null; then
	say "kx-store did not become ready on $LISTEN"
	exit 1
fi
say "store ready at $KX_SERVER"

start scheduler kx-schedule-once --watch
start controllers kx-reconcile --watch
start node kx-node-run --node "$NODE" --root "$KX_DATA/node" --pod-cidr "$POD_CIDR"
start proxy kx-proxy-sync --watch --node "$NODE"

if command -v kx-apply >/dev/null; then
	kx-apply -f "$here/app/" 2>&1 | sed -u 's/^/[apply] /'
fi

cat <<MSG
[cluster] running. From another terminal:
[cluster]   bin/kx get pods -o wide
[cluster]   kubectl --server $KX_SERVER get all
[cluster]   curl $KX_SERVER/api/v1/namespaces/default/pods
[cluster] Ctrl-C stops everything.
MSG
wait
