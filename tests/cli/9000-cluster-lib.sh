# 9000-cluster-lib.sh: what the whole-cluster tests share (sourced after
# lib.sh). Skips unless root with what examples/cluster.sh needs. Makes a
# network namespace of the test's own ($NS, with loopback up and a default
# route on loopback so that cluster IPs have a route before nft rewrites
# them): the store's 127.0.0.1:8080, the registry's 127.0.0.1:5000, the pods'
# bridge and the kx nft table all live there, apart from the host and from
# other tests. inns CMD runs CMD in it; it is deleted at exit.
[ "$(id -u)" = 0 ] || skip_all "needs root"
for c in docker-registry skopeo umoci busybox nsenter jq curl nft; do
	command -v $c >/dev/null || skip_all "needs $c"
done
[ -x /usr/lib/cni/bridge ] || skip_all "needs the CNI plugins"
command -v kx-store >/dev/null || skip_all "needs kx-store"

NS=kxc$$
ip netns add "$NS" || skip_all "cannot make a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" route add default dev lo
inns() { nsenter --net=/run/netns/"$NS" "$@"; }
_ns_cleanup() { ip netns del "$NS"; }
at_exit _ns_cleanup

# pod_traces ROOT: what a node made for its pods, one per line: network
# namespaces, cgroups, mounts and processes (none once it is torn down)
pod_traces() {
	local root=$1 uid
	grep -F " $T/" /proc/self/mountinfo | awk '{print "mount " $5}'
	for uid in $(cat "$T/uids" 2>/dev/null); do
		u=$(printf '%s' "$uid" | tr -d - | cut -c1-12)
		ip netns list 2>/dev/null | grep -F "kx-$u" | sed 's/^/netns /'
		find /sys/fs/cgroup -maxdepth 4 -name "pod$uid" 2>/dev/null | sed 's/^/cgroup /'
	done
	ps -eo pid=,args= | grep -F "$T/" | grep -v -e grep -e 'ps -eo' | sed 's/^/process /'
	for p in /proc/[0-9]*; do
		case $(readlink "$p/root" 2>/dev/null) in "$T"/*) echo "process ${p#/proc/} (its root)" ;; esac
	done
	ls "$root/pods" 2>/dev/null | sed 's/^/pod dir /'
}

# remember the uids of the pods (for pod_traces)
save_uids() { inns kx-get pods -A -o json | jq -r '.items[].metadata.uid' >>"$T/uids"; }
