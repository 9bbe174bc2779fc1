#!/usr/bin/env bash
# kx-container: real containers from a busybox-static bundle: namespaces,
# hostname, capabilities, cgroup limits (memory/OOM, cpu quota, pids), user,
# env, cwd, read-only root, exit status, the create/start/state/kill/delete
# lifecycle with nothing left behind, joining a network namespace, and bad
# bundles refused with a clear message.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root"
BB=$(command -v busybox) || skip_all "needs busybox-static"
file -L "$BB" 2>/dev/null | grep -q static || ldd "$BB" 2>&1 | grep -q "not a dynamic" || skip_all "busybox is not static"

S=$T/state
CG=/kx-test-$$
KC() { kx-container --root "$S" "$@"; }

# A root file system with busybox and its applets.
mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/tmp" "$T/rootfs/etc"
cp "$BB" "$T/rootfs/bin/busybox"
for a in $("$BB" --list); do [ -e "$T/rootfs/bin/$a" ] || ln -s busybox "$T/rootfs/bin/$a"; done

# bundle NAME JQ-FILTER: a bundle in $T/NAME whose config is the base one
# changed by the filter; its cgroup is under $CG.
bundle() {
	mkdir -p "$T/$1"
	ln -sfn "$T/rootfs" "$T/$1/rootfs"
	jq --arg cg "$CG/$1" "$2" >"$T/$1/config.json" <<'JSON'
{"ociVersion":"1.0.2",
 "process":{"args":["true"],"env":["PATH=/bin","HOME=/"],"cwd":"/","user":{"uid":0,"gid":0},
   "capabilities":{"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],
     "effective":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],
     "permitted":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"]},
   "noNewPrivileges":true},
 "root":{"path":"rootfs"},
 "hostname":"kx-box",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=1m"]},
   {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["newinstance","ptmxmode=0666"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}],
   "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"]}}
JSON
	jq --arg cg "$CG/$1" '.linux.cgroupsPath=$cg' "$T/$1/config.json" >"$T/$1/c" && mv "$T/$1/c" "$T/$1/config.json"
}

cleanup() {
	for d in "$S"/*/; do [ -d "$d" ] && KC delete --force "$(basename "$d")"; done
	for h in /sys/fs/cgroup/*/; do
		[ -d "$h$CG" ] || continue
		find "$h$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rmdir "/sys/fs/cgroup$CG" 2>/dev/null
	ip netns del "kx-test-$$" 2>/dev/null
}
at_exit cleanup

# args: make process.args from the words given
args() { printf '.process.args=%s' "$(printf '%s\n' "$@" | jq -Rsc 'split("\n")[:-1]')"; }

bundle basic "$(args sh -c 'echo pid=$$; hostname; grep -E "^Cap(Bnd|Eff|Prm|Inh|Amb)" /proc/self/status')"
out=$(KC run --bundle "$T/basic" basic 2>&1)
like "$out" "pid=1" "the process is pid 1 in its own pid namespace"
like "$out" "kx-box" "hostname from config.json"
like "$out" "CapBnd:.0000000000000421" "bounding set exactly as configured"
like "$out" "CapEff:.0000000000000421" "effective set exactly as configured"
like "$out" "CapPrm:.0000000000000421" "permitted set exactly as configured"
like "$out" "CapInh:.0000000000000000" "inheritable set empty as configured"

bundle nomount "$(args mount -t tmpfs none /tmp)"
fails "mount is denied without CAP_SYS_ADMIN" 1 KC run --bundle "$T/nomount" nomount
like "$(cat "$T/.out")" "[Pp]ermission denied|not permitted" "and says so"

bundle exit7 "$(args sh -c 'exit 7')"
fails "run exits with the process's exit status" 7 KC run --bundle "$T/exit7" exit7

bundle user "$(args sh -c 'id; pwd; echo FOO=$FOO') | .process.user={uid:1000,gid:1000,additionalGids:[10,20]} | .process.cwd=\"/tmp\" | .process.env+=[\"FOO=bar baz\"]"
out=$(KC run --bundle "$T/user" user 2>&1)
like "$out" "uid=1000 gid=1000 groups=10,20" "user uid, gid and additionalGids"
like "$out" "^/tmp" "cwd"
like "$out" "FOO=bar baz" "env"

bundle ro "$(args sh -c 'touch /x || echo ro-root; touch /tmp/y && echo tmp-rw') | .root.readonly=true"
out=$(KC run --bundle "$T/ro" ro 2>&1)
like "$out" "Read-only file system" "a read-only root refuses writes"
like "$out" "tmp-rw" "but its tmpfs mounts are writable"

# memory: a 64 MiB buffer in a 16 MiB cgroup
bundle hog "$(args dd if=/dev/zero of=/dev/null bs=64M count=1) | .linux.resources.memory.limit=16777216"
KC create --bundle "$T/hog" hog
ok "start the memory hog" KC start hog
wait_for 10 sh -c "kx-container --root '$S' state hog | grep -q stopped"
st=$(KC state hog)
is "$(printf '%s' "$st" | jq -r .oomKilled)" "true" "state reports the OOM kill though nothing waited"
is "$(printf '%s' "$st" | jq -r .exitCode)" "137" "and exit status 137 (SIGKILL)"
is "$(cat /sys/fs/cgroup/memory$CG/hog/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup$CG/hog/memory.max)" "16777216" "the memory limit was written"
ok "delete the stopped hog" KC delete hog

# cpu: 2 ms every 10 ms
bundle cpu "$(args sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done') | .linux.resources.cpu={quota:2000,period:10000,shares:512}"
KC create --bundle "$T/cpu" cpu
KC start cpu
wait_for 30 sh -c "kx-container --root '$S' state cpu | grep -q stopped"
stat=$(cat /sys/fs/cgroup/cpu$CG/cpu/cpu.stat 2>/dev/null || cat /sys/fs/cgroup$CG/cpu/cpu.stat)
thr=$(printf '%s\n' "$stat" | awk '$1=="nr_throttled"{print $2}')
ok "a cpu quota throttles (nr_throttled=$thr)" test "${thr:-0}" -gt 0
KC delete cpu

bundle pids "$(args sh -c 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait') | .linux.resources.pids.limit=4"
out=$(KC run --bundle "$T/pids" pids 2>&1)
like "$out" "can't fork" "the pids limit stops a fork bomb"

# the lifecycle, with nothing left behind
bundle life "$(args sleep 60)"
ok "create" KC create --bundle "$T/life" life
st=$(KC state life)
is "$(printf '%s' "$st" | jq -r .status)" "created" "state: created"
pid=$(printf '%s' "$st" | jq -r .pid)
ok "the created container has a live pid" kill -0 "$pid"
is "$(printf '%s' "$st" | jq -r .bundle)" "$T/life" "state names the bundle"
like "$(KC list)" "life	$pid	created" "list shows it"
fails "an ID in use is refused" 1 KC create --bundle "$T/life" life
like "$(cat "$T/.out")" 'container "life" already exists' "naming it"
ok "start" KC start life
is "$(KC state life | jq -r .status)" "running" "state: running"
is "$(KC exec life -- hostname)" "kx-box" "exec runs in the container's namespaces"
fails "delete refuses a running container" 1 KC delete life
ok "kill" KC kill life KILL
wait_for 10 sh -c "kx-container --root '$S' state life | grep -q stopped"
st=$(KC state life)
is "$(printf '%s' "$st" | jq -r .status)" "stopped" "state: stopped"
is "$(printf '%s' "$st" | jq -r .exitCode)" "137" "with the exit status"
ok "delete" KC delete life
fails "state of a deleted container" 1 KC state life
like "$(cat "$T/.out")" 'container "life" does not exist' "says it does not exist"
left=$(ls -d /sys/fs/cgroup/*$CG/life /sys/fs/cgroup$CG/life 2>/dev/null)
is "$left" "" "no cgroup left"
is "$(grep -c "$T" /proc/self/mountinfo)" "0" "no mount left"
ok "no process left" sh -c "! kill -0 $pid 2>/dev/null"

# a created container can be killed and deleted before it starts
bundle early "$(args sleep 60)"
KC create --bundle "$T/early" early
epid=$(KC state early | jq -r .pid)
ok "kill a created container" KC kill early KILL
wait_for 10 sh -c "kx-container --root '$S' state early | grep -q stopped"
is "$(KC state early | jq -r .status)" "stopped" "it is stopped, never started"
ok "delete a created container without --force" KC delete early
ok "its process is gone" sh -c "! kill -0 $epid 2>/dev/null"

# delete --force of a running container
bundle force "$(args sleep 60)"
KC create --bundle "$T/force" force && KC start force
ok "delete --force kills and removes a running container" KC delete --force force
is "$(ls "$S")" "" "the state directory is empty again"

# joining an existing network namespace
ip netns add "kx-test-$$"
ip -n "kx-test-$$" link add kxdummy0 type veth peer name kxdummy1
bundle netns "$(args cat /proc/net/dev) | .linux.namespaces |= map(if .type==\"network\" then .path=\"/var/run/netns/kx-test-$$\" else . end)"
like "$(KC run --bundle "$T/netns" netns 2>&1)" "kxdummy0" "a container joins an existing network namespace"

# bad bundles
bundle norootfs '.root.path="nosuch"'
fails "missing rootfs is refused" 1 KC create --bundle "$T/norootfs" x1
like "$(cat "$T/.out")" 'rootfs ".*nosuch" does not exist' "naming the rootfs"
mkdir -p "$T/badjson" && echo '{"ociVersion": "1.0.2", "process": ' >"$T/badjson/config.json"
fails "malformed config.json is refused" 1 KC create --bundle "$T/badjson" x2
like "$(cat "$T/.out")" 'malformed config.json' "saying so"
bundle badcap '.process.capabilities.bounding+=["CAP_FLY"]'
fails "an unknown capability is refused" 1 KC create --bundle "$T/badcap" x3
like "$(cat "$T/.out")" 'process.capabilities.bounding\[3\]: unknown capability "CAP_FLY"' "naming the field"
bundle noexe "$(args /bin/nosuch)"
fails "a missing executable is refused at create" 1 KC create --bundle "$T/noexe" x4
like "$(cat "$T/.out")" 'nosuch' "naming it"
fails "an unknown ID" 1 KC start nosuch
like "$(cat "$T/.out")" 'container "nosuch" does not exist' "is named"
fails "a bad ID is a usage error" 2 KC state ../etc
is "$(ls "$S")" "" "failed creates leave no state"
left=$(ls -d /sys/fs/cgroup/*$CG/x[0-9] 2>/dev/null)
is "$left" "" "failed creates leave no cgroup"

done_testing
