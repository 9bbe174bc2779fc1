#!/usr/bin/env bash
# bench/container.sh: 100 containers running /bin/true one after another.
# kx-container run (pid, mount, uts, ipc and net namespaces, a cgroup with
# a memory limit, /proc, pivot_root, capabilities) against `unshare` +
# `chroot` with the same namespaces as the floor, and crun/runc when they
# work on this host (on the hybrid cgroup layout they do not). Prints ms
# per container and the ratio.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
N=${N:-100}
[ "$(id -u)" = 0 ] || { echo "bench/container.sh: needs root" >&2; exit 1; }
T=$(mktemp -d /tmp/kx-bench.XXXXXX)
trap 'rm -rf "$T"; rmdir /sys/fs/cgroup/*/kx-bench-$$ 2>/dev/null' EXIT

mkdir -p "$T/b/rootfs/bin" "$T/b/rootfs/proc"
cp "$(command -v busybox)" "$T/b/rootfs/bin/busybox"
ln -s busybox "$T/b/rootfs/bin/true"
cat >"$T/b/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":["/bin/true"],"env":["PATH=/bin"],"cwd":"/",
   "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
   "noNewPrivileges":true},
 "root":{"path":"rootfs"},"hostname":"bench",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}],
   "cgroupsPath":"/kx-bench-$$/c","resources":{"memory":{"limit":67108864}}}}
JSON

# children's user+system CPU seconds so far, from the shell's `times`
# (the builtin writes to a file: in a subshell the children would be others)
cpu_s() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1]*60 + u[2] + s[1]*60 + s[2] }' "$T/times"; }

ms() { # ms LABEL CMD...: runs CMD N times, prints "wall-us cpu-us" per run
	local label=$1 t0 t1 c0 c1
	shift
	"$@" >/dev/null 2>&1 || { echo "$label: fails here: $("$@" 2>&1 | head -1)"; return 1; }
	times >"$T/times"
	c0=$(cpu_s)
	t0=$(date +%s%N)
	for ((i = 0; i < N; i++)); do "$@" >/dev/null 2>&1; done
	t1=$(date +%s%N)
	times >"$T/times"
	c1=$(cpu_s)
	echo $(((t1 - t0) / N / 1000)) "$(echo "($c1 - $c0) * 1000000 / $N" | bc)" # microseconds
}

read -r kx_us kx_cpu < <(ms kx-container kx-container --root "$T/state" run --bundle "$T/b" bench) || exit 1
read -r floor_us floor_cpu < <(ms unshare unshare --pid --fork --mount --uts --ipc --net chroot "$T/b/rootfs" /bin/true) || exit 1
[ -n "${kx_us:-}" ] && [ -n "${floor_us:-}" ] || exit 1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cpus"
printf '%-34s %8.2f ms/container (%.2f ms cpu)\n' "kx-container run" "$(echo "$kx_us/1000" | bc -l)" "$(echo "$kx_cpu/1000" | bc -l)"
printf '%-34s %8.2f ms/container (%.2f ms cpu)\n' "unshare + chroot (floor)" "$(echo "$floor_us/1000" | bc -l)" "$(echo "$floor_cpu/1000" | bc -l)"
printf '%-34s %8.2f x the floor\n' "kx-container / floor" "$(echo "$kx_us/$floor_us" | bc -l)"
for rt in crun runc; do
	if command -v $rt >/dev/null; then
		if out=$($rt --root "$T/$rt" run --bundle "$T/b" bench-$rt 2>&1 </dev/null); then
			read -r us _ < <(ms $rt $rt --root "$T/$rt" run --bundle "$T/b" bench-$rt)
			printf '%-34s %8.2f ms/container\n' "$rt run" "$(echo "$us/1000" | bc -l)"
		else
			echo "$rt: does not run here: $(printf '%s' "$out" | tail -1)"
		fi
	else
		echo "$rt: not installed (PLATFORM.md: fails on the hybrid cgroup layout)"
	fi
done
echo "target: <= 20 ms per container (crun's README: 57 ms, runc's: 110 ms)"
