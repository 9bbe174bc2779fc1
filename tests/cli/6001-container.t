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
	rmdir "/sys/fs/cgroup$CG" "/sys/fs/cgroup/unified$CG/v2" "/sys/fs/cgroup/unified$CG" 2>/dev/null
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

# a v1 cpuset level that another agent made and did not fill (it died, or
# has not got there yet) is filled from its parent, not copied empty below
if [ -f /sys/fs/cgroup/cpuset/cpuset.mems ]; then
	mkdir -p "/sys/fs/cgroup/cpuset$CG/unfilled"
	bundle unfilled/c "$(args sh -c 'echo in-cpuset')"
	like "$(KC run --bundle "$T/unfilled/c" unfilled 2>&1)" "in-cpuset" "a container below a cpuset level left empty runs"
	is "$(cat "/sys/fs/cgroup/cpuset$CG/unfilled/cpuset.mems")" "$(cat /sys/fs/cgroup/cpuset/cpuset.mems)" "and the level is filled from its parent"
fi

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

# rlimits, oomScoreAdj, sysctl, masked and read-only paths, a read-only
# bind mount, sysfs and mqueue, a device node, a cpuset
mkdir -p "$T/shared" && echo from-host >"$T/shared/f"
feat_script='echo nofile=$(ulimit -n)
echo oom=$(cat /proc/self/oom_score_adj)
echo msgmax=$(cat /proc/sys/kernel/msgmax)
echo keys=$(wc -c </proc/keys)
echo irq=$(ls /proc/irq | wc -l)
echo x >/proc/sys/kernel/msgmax 2>/dev/null || echo procsys-ro
echo bind=$(cat /data/f); touch /data/g 2>/dev/null || echo bind-ro
ls -d /sys/kernel >/dev/null && echo sysfs
grep -q " /dev/mqueue mqueue " /proc/mounts && echo mqueue
ls -l /dev/kxnull | cut -c1
echo hi >/dev/kxnull && echo devnode-ok
grep Cpus_allowed_list /proc/self/status'
feat_filter=$(cat <<'JQ'
 .process.rlimits=[{type:"RLIMIT_NOFILE",soft:100,hard:200}] | .process.oomScoreAdj=500 |
 .linux.sysctl={"kernel.msgmax":"12345"} | .linux.maskedPaths+=["/proc/keys","/proc/irq"] |
 .mounts+=[{destination:"/data",type:"bind",source:env.KX_SHARED,options:["rbind","ro"]},
   {destination:"/sys",type:"sysfs",source:"sysfs",options:["nosuid","noexec","nodev","ro"]},
   {destination:"/dev/mqueue",type:"mqueue",source:"mqueue",options:["nosuid","noexec","nodev"]}] |
 .linux.devices=[{type:"c",path:"/dev/kxnull",major:1,minor:3,fileMode:438,uid:0,gid:0}] |
 .linux.resources.devices=[{allow:false,access:"rwm"},{allow:true,type:"c",major:1,minor:3,access:"rwm"},
   {allow:true,type:"c",major:1,minor:5,access:"rwm"},{allow:true,type:"c",major:1,minor:9,access:"rwm"}] |
 .linux.resources.cpu.cpus="0"
JQ
)
KX_SHARED=$T/shared bundle feat "$(args sh -c "$(printf "%s" "$feat_script" | tr "\n" ";")") | $feat_filter"
out=$(KC run --bundle "$T/feat" feat 2>&1)
like "$out" "nofile=100" "rlimits: RLIMIT_NOFILE soft limit"
like "$out" "oom=500" "oomScoreAdj"
like "$out" "msgmax=12345" "sysctl in the container's ipc namespace"
like "$out" "keys=0" "maskedPaths hide a file (/proc/keys)"
like "$out" "irq=0" "and a directory (/proc/irq)"
like "$out" "procsys-ro" "readonlyPaths make /proc/sys read-only"
like "$out" "bind=from-host" "a bind mount shows the host's file"
like "$out" "bind-ro" "read-only as asked"
like "$out" "sysfs" "sysfs mounted"
like "$out" "mqueue" "mqueue mounted"
like "$out" "^c$" "a device node from linux.devices"
like "$out" "devnode-ok" "usable as the device cgroup allows"
like "$out" "Cpus_allowed_list:.0$" "the cpuset limits the container to cpu 0"
is "$(cat /proc/sys/kernel/msgmax)" "$(nsenter -t 1 -i cat /proc/sys/kernel/msgmax 2>/dev/null || cat /proc/sys/kernel/msgmax)" "the host's sysctl is untouched"

# the device cgroup denies what it was not told to allow
bundle nodev "$(args sh -c 'echo x >/dev/full; echo rc=$?') | .linux.resources.devices=[{allow:false,access:\"rwm\"},{allow:true,type:\"c\",major:1,minor:3,access:\"rwm\"}]"
like "$(KC run --bundle "$T/nodev" nodev 2>&1)" "Operation not permitted" "a device the cgroup denies cannot be opened"

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

# no mount namespace: chroot, and the host's mounts stay as they were
bundle nomnt "$(args sh -c 'echo in-chroot') | del(.mounts) | .linux.namespaces=[{type:\"pid\"},{type:\"uts\"}] | del(.linux.maskedPaths, .linux.readonlyPaths)"
KC create --bundle "$T/nomnt" nomnt >"$T/nomnt.out" 2>&1
is "$(grep -c "$T" /proc/self/mountinfo)" "0" "a container without a mount namespace mounts nothing on the host"
KC start nomnt
wait_for 10 sh -c "kx-container --root '$S' state nomnt | grep -q stopped"
is "$(KC state nomnt | jq -r .exitCode)" "0" "and runs chrooted"
KC delete nomnt
is "$(cat "$T/nomnt.out")" "in-chroot" "in its root"
bundle nomnt2 '.linux.namespaces=[{type:"pid"},{type:"uts"}] | del(.mounts)'
fails "masked paths without a mount namespace are refused" 1 KC create --bundle "$T/nomnt2" nomnt2
like "$(cat "$T/.out")" "linux.maskedPaths: needs a new mount namespace" "naming the field"

# pure cgroup v2: a private mount namespace whose /sys/fs/cgroup is the
# host's unified tree (it has no memory controller here)
bundle v2 "$(args cat /proc/self/cgroup)"
v2() { unshare --mount --propagation private sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"; }
if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && v2 true 2>/dev/null; then
	out=$(v2 kx-container --root "$S" run --bundle "$T/v2" v2 2>&1)
	like "$out" "^0::$CG/v2$" "on pure cgroup v2 the container joins its cgroup in the unified tree"
	ok "and delete removed it" test ! -e "/sys/fs/cgroup/unified$CG/v2"
	jq '.linux.resources.memory.limit=16777216' "$T/v2/config.json" >"$T/v2/c" && mv "$T/v2/c" "$T/v2/config.json"
	fails "a limit the v2 tree cannot enforce is refused" 1 v2 kx-container --root "$S" create --bundle "$T/v2" v2
	like "$(cat "$T/.out")" 'linux.resources: .*memory.max' "naming the field and the file"
	ok "leaving no cgroup" test ! -e "/sys/fs/cgroup/unified$CG/v2"
	rmdir "/sys/fs/cgroup/unified$CG" 2>/dev/null
else
	diag "skipping simulated cgroup v2: not a hybrid host, or cgroup2 cannot be mounted"
fi

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

# A damaged state.json (pid 0 or -1, the root cgroup) must never lead to
# kill(0), kill(-1) or emptying the root cgroup. Run inside a fresh pid
# namespace so that even a regression could only hit that namespace.
mkdir -p "$S/damaged"
echo '{"id":"damaged","pid":-1,"pidStart":0,"shimPid":0,"cgroupsPath":"/"}' >"$S/damaged/state.json"
SANDBOX() { unshare --pid --fork --mount-proc kx-container --root "$S" "$@"; }
is "$(SANDBOX state damaged | jq -r .status)" "stopped" "a state.json with pid -1 is a stopped container"
fails "kill refuses it" 1 SANDBOX kill damaged KILL
like "$(cat "$T/.out")" 'not running' "as not running"
echo '{"id":"damaged","pid":0,"pidStart":0,"shimPid":0,"cgroupsPath":"/kx/../.."}' >"$S/damaged/state.json"
fails "kill refuses pid 0" 1 SANDBOX kill damaged KILL
ok "delete removes its state without touching the root cgroup" SANDBOX delete --force damaged
ok "and we are still here" test -d /sys/fs/cgroup
is "$(ls "$S")" "" "the damaged state is gone"
bundle rootcg .
jq '.linux.cgroupsPath="/"' "$T/rootcg/config.json" >"$T/rootcg/c" && mv "$T/rootcg/c" "$T/rootcg/config.json"
fails "cgroupsPath / is refused" 1 KC create --bundle "$T/rootcg" rootcg
like "$(cat "$T/.out")" 'linux.cgroupsPath: "/" is not a cgroup below the root' "naming the field"

done_testing
