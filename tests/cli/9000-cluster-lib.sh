# 9000-cluster-lib.sh: what the whole-cluster tests share (sourced after
# lib.sh). Skips unless root with what examples/cluster.sh needs. Makes a
# network namespace of the test's own ($NS, with loopback up and a default
# route on loopback so that cluster IPs have a route before nft rewrites
# them): the store's 127.0.0.1:8080, the registry's 127.0.0.1:5000, the pods'
# bridge and the kx nft table all live there, apart from the host and from
# other tests. inns CMD runs CMD in it; it is deleted at exit.
[ "$(id -u)" = 0 ] || skip_all "needs root"
for c in docker-registry skopeo umoci busybox nsenter jq curl nft dig; do
	command -v $c >/dev/null || skip_all "needs $c"
done
[ -x /usr/lib/cni/bridge ] || skip_all "needs the CNI plugins"
command -v kx-store >/dev/null || skip_all "needs kx-store"

NS=kxc$$
ip netns add "$NS" || skip_all "cannot make a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" route add default dev lo
inns() { nsenter --net=/run/netns/"$NS" "$@"; }
# for bg: the command itself in the namespace (bg's PID is the command's)
inns_exec() { exec nsenter --net=/run/netns/"$NS" "$@"; }
# processes that name the test's directory (none once everything stopped)
test_processes() { ps -eo pid=,args= | grep -F "$T/" | grep -v -e grep -e 'ps -eo'; }

# teardown_node ROOT NODE: stop and remove every pod a node under ROOT runs
# (one pass of kx-node-run over no pods, without the store), as
# examples/cluster.sh does when it stops.
teardown_node() {
	echo '{"apiVersion":"v1","kind":"List","items":[]}' >"$T/no-pods.json"
	inns kx-node-run --node "$2" --root "$1" --log-dir "$T/logs" --port 0 -f "$T/no-pods.json" --once
}
# At exit: the test's own stop (a function named in STOP, if any), then every
# node root listed in $T/roots ("ROOT NODE" lines) torn down, then the
# network namespace (with the bridges and the nft table in it) deleted.
_cluster_cleanup() {
	[ -n "${STOP:-}" ] && "$STOP"
	[ -f "$T/roots" ] && while read -r r n; do teardown_node "$r" "$n"; done <"$T/roots"
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		rmdir "$h/besteffort" "$h/burstable" "$h" 2>/dev/null
	done
	ip netns del "$NS"
}
at_exit _cluster_cleanup

# pod_traces ROOT: what a node made for its pods, one per line: network
# namespaces, cgroups, mounts, processes in a container and pod directories
# (none once it is torn down)
pod_traces() {
	local root=$1 uid
	grep -F " $T/" /proc/self/mountinfo | awk '{print "mount " $5}'
	for uid in $(cat "$T/uids" 2>/dev/null); do
		u=$(printf '%s' "$uid" | tr -d - | cut -c1-12)
		ip netns list 2>/dev/null | grep -F "kx-$u" | sed 's/^/netns /'
		find /sys/fs/cgroup -maxdepth 4 -name "pod$uid" 2>/dev/null | sed 's/^/cgroup /'
	done
	for p in /proc/[0-9]*; do
		case $(readlink "$p/root" 2>/dev/null) in "$T"/*) echo "process ${p#/proc/} (its root)" ;; esac
	done
	ls "$root/pods" 2>/dev/null | sed 's/^/pod dir /'
}

# httpd_container ROOT: the ID of a container of the example app (httpd)
# that the node under ROOT runs, for kx-container exec ("none" if none)
httpd_container() {
	kx-container list | awk -v d="$1/pods/" 'index($4, d) == 1 && /-httpd-/ {print $1; f = 1; exit} END {if (!f) print "none"}'
}

# remember the uids of the pods (for pod_traces)
save_uids() { inns kx-get pods -A -o json | jq -r '.items[].metadata.uid' >>"$T/uids"; }
