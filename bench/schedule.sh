#!/usr/bin/env bash
# bench/schedule.sh: kx-schedule-once on 5,000 nodes x 10,000 pods with mixed
# requests, node selectors, taints and tolerations, preferred affinity and
# ReplicaSet spreading (bench/schedule-gen.py makes the cluster).
#
#   decide only:  kx-schedule-once -f cluster.json --dry-run   (whole process)
#   end to end:   the pods and nodes in a kx-store, one pass binding them all
#
# kube-scheduler itself cannot run here (no Go toolchain, no kube-apiserver),
# so its published figure is the anchor: scheduler_perf's SchedulingBasic
# 5000Nodes_10000Pods is held at >= 270 pods/s in Kubernetes CI. Ratios are
# printed against that anchor and against kx's targets (20,000 pods/s
# decide-only, 3,000 pods/s end to end on a 2-core machine).
#
# NODES, PODS and RUNS override the sizes; KEEP=1 keeps the work directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PATH=$top/bin:$PATH
NODES=${NODES:-5000}
PODS=${PODS:-10000}
RUNS=${RUNS:-3}
ANCHOR=270
work=$(mktemp -d "${TMPDIR:-/tmp}/kx-bench-schedule.XXXXXX")
store_pid=
cleanup() {
	[ -n "$store_pid" ] && kill "$store_pid" 2>/dev/null && wait "$store_pid" 2>/dev/null
	[ "${KEEP:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

ms() { date +%s%3N; }
# CPU time (user + system, ms) a process has used so far, from /proc
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n * 1000 / (t > 0 ? t : 1) }'; }

command -v kx-schedule-once >/dev/null || { echo "bench: build first (make)" >&2; exit 1; }
echo "generating $NODES nodes x $PODS pods"
python3 "$here/schedule-gen.py" "$NODES" "$PODS" >"$work/cluster.json" || exit 1

# ---- decide only -------------------------------------------------------------
best= bestcpu=
for i in $(seq "$RUNS"); do
	t0=$(ms)
	/usr/bin/time -o "$work/time" -f '%U %S' \
		kx-schedule-once -f "$work/cluster.json" --dry-run -v >"$work/decisions.jsonl" 2>"$work/decide.log" || {
		cat "$work/decide.log" >&2; exit 1; }
	t=$(($(ms) - t0))
	c=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/time")
	[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t && cp "$work/decide.log" "$work/best.log"
	[ -z "$bestcpu" ] || [ "$c" -lt "$bestcpu" ] && bestcpu=$c
done
placed=$(grep -c '"node":"' "$work/decisions.jsonl")
unplaced=$(grep -c '"node":null' "$work/decisions.jsonl")
inner=$(sed -n 's/.*decided [0-9]* pods in \([0-9]*\) ms.*/\1/p' "$work/best.log")
r=$(rate "$PODS" "$best")
echo "decide only (-f --dry-run, best of $RUNS): $PODS pods in $best ms = $r pods/s" \
	"($placed placed, $unplaced unschedulable)"
echo "  CPU time (user + system): $bestcpu ms = $(rate "$PODS" "$bestcpu") pods per CPU-second" \
	"(load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores)"
[ -n "$inner" ] && echo "  of which the decision itself: $inner ms = $(rate "$PODS" "$inner") pods/s"
echo "  ratio to kube-scheduler's CI anchor ($ANCHOR pods/s): $(ratio "$r" "$ANCHOR")x;" \
	"to the 20000 pods/s target: $(ratio "$r" 20000)"

# ---- end to end through kx-store ---------------------------------------------
if ! command -v kx-store >/dev/null; then
	echo "end to end: skipped (kx-store is not built)"
	exit 0
fi
mkdir -p "$work/store"
kx-store --listen 127.0.0.1:0 --data "$work/store" 2>"$work/store.log" &
store_pid=$!
for _ in $(seq 100); do grep -q 'listening on http://' "$work/store.log" && break; sleep 0.1; done
KX_SERVER=$(grep -o 'http://[0-9.:]*' "$work/store.log" | head -1)
export KX_SERVER
[ -n "$KX_SERVER" ] || { echo "bench: kx-store did not start" >&2; cat "$work/store.log" >&2; exit 1; }

echo "loading the cluster into kx-store at $KX_SERVER"
# nodes and pods (not the ReplicaSets: no controller runs here)
t0=$(ms)
python3 "$here/schedule-load.py" "$work/cluster.json" "$KX_SERVER" || exit 1
echo "  loaded in $(($(ms) - t0)) ms"

t0=$(ms)
s0=$(cpu_ms "$store_pid")
/usr/bin/time -o "$work/time" -f '%U %S' kx-schedule-once -v 2>"$work/e2e.log" || { tail -5 "$work/e2e.log" >&2; }
t=$(($(ms) - t0))
scpu=$(($(cpu_ms "$store_pid") - s0))
kcpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/time")
bound=$(curl -s "$KX_SERVER/api/v1/pods" | jq '[.items[] | select(.spec.nodeName != null and .spec.nodeName != "")] | length')
r=$(rate "$PODS" "$t")
echo "end to end (list, decide, $bound bindings): $PODS pods in $t ms = $r pods/s"
sed -n 's/^kx-schedule-once: /  /p' "$work/e2e.log" | grep -v 'bound to node' | head -5
echo "  CPU time: kx-schedule-once $kcpu ms, kx-store $scpu ms: $(rate "$PODS" $((kcpu + scpu))) pods per CPU-second" \
	"(load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores)"
echo "  ratio to kube-scheduler's CI anchor ($ANCHOR pods/s): $(ratio "$r" "$ANCHOR")x;" \
	"to the 3000 pods/s target: $(ratio "$r" 3000)"
t0=$(ms)
kx-schedule-once 2>/dev/null
echo "second pass (nothing new): $(($(ms) - t0)) ms"
