#!/usr/bin/env bash
# bench/node.sh: kx-node-run against its floor.
#  1. pod startup: N pods (default 50) bound to the node at once, with the
#     image already in the store: time from the pod's creation (bound, as
#     the scheduler's binding would leave it) to status.phase Running in
#     kx-store, p50 and p99; beside kx-container alone creating and starting
#     the same containers from ready bundles, one after another (the floor).
#  2. steady state: STEADY pods (default 110) running, kx-node-run's CPU over
#     DUR seconds (default 20) and its RSS.
# Kubernetes' pod startup SLO: p99 <= 5 s. Targets here: p99 <= 1 s, p50 <=
# 200 ms; steady state under 2% of a core and 50 MB. Needs root. NR_ARGS
# adds options to kx-node-run (e.g. NR_ARGS="--pod-workers 0" to compare).
set -u
N=${N:-50}
STEADY=${STEADY:-110}
DUR=${DUR:-20}
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
W=$(mktemp -d /tmp/kx-bench-node.XXXXXX)
BR=kxbn$$
NET=10.$((100 + $$ % 100)).$((($$ / 100) % 250))
ROOT=$W/root
PIDS=""
finish() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done # the agent ends its pass first
	echo '{"kind":"List","apiVersion":"v1","items":[]}' >"$W/none.json"
	kx-node-run --node b$$ --root "$ROOT" --port 0 --bridge "$BR" --pod-cidr "$NET.0/24" \
		-f "$W/none.json" --once 2>/dev/null
	for i in $(seq "$N"); do kx-container delete --force "floor$$-$i" >/dev/null 2>&1; done
	ip link del "$BR" 2>/dev/null
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		rmdir "$h/besteffort" "$h/burstable" "$h" 2>/dev/null
	done
	rm -rf "$W"
}
trap finish EXIT
trap 'exit 1' INT TERM

pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if(i<1)i=1; printf "%.0f", a[i]}'; }

# the image: busybox, loaded into the node's image store
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
mkdir -p "$W/bb/bin" "$W/bb/tmp"
cp "$(command -v busybox)" "$W/bb/bin/busybox"
for a in sh sleep; do ln -s busybox "$W/bb/bin/$a"; done
sed -n '/^cat >"\$T\/mkoci.py"/,/^PY$/p' "$TOP/tests/cli/7000-node-lib.sh" | sed '1d;$d' >"$W/mkoci.py"
$PY "$W/mkoci.py" "$W/lay" "$W/bb" || exit 1
skopeo copy --quiet "oci:$W/lay:bb" "oci-archive:$W/bb.tar:bench/bb:1" >/dev/null || exit 1
kx-image --root "$ROOT/images" load "$W/bb.tar" bench/bb:1 >/dev/null || exit 1
IMG=bench/bb:1

# the floor: kx-container alone, ready bundles, create + start each
mkdir -p "$W/floor"
kx-image --root "$ROOT/images" unpack "$IMG" "$W/floor/rootfs" >/dev/null
jq -n --arg r "$W/floor/rootfs" '{ociVersion:"1.0.2",process:{args:["sleep","1000"],cwd:"/",
  env:["PATH=/bin"],user:{uid:0,gid:0}},root:{path:$r},hostname:"f",
  mounts:[{destination:"/proc",type:"proc",source:"proc"}],
  linux:{namespaces:[{type:"pid"},{type:"mount"},{type:"ipc"},{type:"uts"},{type:"network"}]}}' \
	>"$W/floor/config.json"
: >"$W/floor.ms"
for i in $(seq "$N"); do
	t0=$EPOCHREALTIME
	kx-container create --bundle "$W/floor" "floor$$-$i" >/dev/null 2>&1 </dev/null &&
		kx-container start "floor$$-$i" >/dev/null 2>&1
	t1=$EPOCHREALTIME
	echo "$t0 $t1" | awk '{printf "%.1f\n", ($2-$1)*1000}' >>"$W/floor.ms"
done
for i in $(seq "$N"); do kx-container delete --force "floor$$-$i" >/dev/null 2>&1; done
F50=$(pct 50 <"$W/floor.ms")
F99=$(pct 99 <"$W/floor.ms")

# the store and the node
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
kx-store --listen 127.0.0.1:$PORT --data "$W/store" 2>"$W/store.log" &
PIDS="$PIDS $!"
export KX_SERVER=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -s -o /dev/null "$KX_SERVER/healthz" && break; sleep 0.1; done
kx-node-run ${NR_ARGS:-} --node b$$ --root "$ROOT" --log-dir "$W/logs" --port 0 --bridge "$BR" \
	--pod-cidr "$NET.0/24" 2>"$W/agent.err" &
AGENT=$!
PIDS="$PIDS $AGENT"
for _ in $(seq 50); do kx-get node b$$ >/dev/null 2>&1 && break; sleep 0.1; done

# watch pods, stamping each event with the time it arrived
curl -sN "$KX_SERVER/api/v1/pods?watch=true" | while IFS= read -r line; do
	printf '%s\t%s\n' "$EPOCHREALTIME" "$line"
done >"$W/events.tsv" &
PIDS="$PIDS $!"
sleep 0.3

pod() { # NAME
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"nodeName":"b%s",
	"terminationGracePeriodSeconds":0,"containers":[{"name":"c","image":"%s","imagePullPolicy":"IfNotPresent",
	"command":["sleep","100000"]}]}}' "$1" "$$" "$IMG"
}
HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15+$16+$17}' /proc/$AGENT/stat; }
own() { awk '{print $14+$15}' /proc/$AGENT/stat; }
c0=$(cpu)
o0=$(own)
: >"$W/created.tsv"
for i in $(seq "$N"); do
	printf '%s\tp%d\n' "$EPOCHREALTIME" "$i" >>"$W/created.tsv"
	pod "p$i" | curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @- \
		"$KX_SERVER/api/v1/namespaces/default/pods"
done
for _ in $(seq 600); do
	[ "$(kx-get pods -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" -ge "$N" ] && break
	sleep 0.2
done
c1=$(cpu)
o1=$(own)
sleep 0.5
cut -f2- "$W/events.tsv" | paste <(cut -f1 "$W/events.tsv") - |
	while IFS=$'\t' read -r t json; do
		printf '%s\t%s\n' "$t" "$(jq -r 'select(.object.status.phase=="Running") | .object.metadata.name' <<<"$json")"
	done | awk -F'\t' '$2 != "" && !seen[$2]++' >"$W/running.tsv"
awk -F'\t' 'NR==FNR {c[$2]=$1; next} ($2 in c) {printf "%.1f\n", ($1-c[$2])*1000}' \
	"$W/created.tsv" "$W/running.tsv" >"$W/start.ms"
GOT=$(wc -l <"$W/start.ms")
P50=$(pct 50 <"$W/start.ms")
P99=$(pct 99 <"$W/start.ms")
echo "pod startup, $N pods bound at once, cached image ($GOT reached Running):"
printf '  kx-node-run (bound -> Running in the store): p50 %6s ms  p99 %6s ms\n' "$P50" "$P99"
printf '  kx-container create+start alone (floor):     p50 %6s ms  p99 %6s ms\n' "$F50" "$F99"
awk -v a="$P50" -v b="$F50" -v c="$P99" -v d="$F99" \
	'BEGIN {printf "  ratio to the floor: p50 %.1fx  p99 %.1fx   (targets: p50 <= 200 ms, p99 <= 1000 ms)\n", a/b, c/d}'
awk -v a="$c0" -v b="$c1" -v c="$o0" -v d="$o1" -v hz="$HZ" -v n="$N" \
	'BEGIN {printf "  CPU of kx-node-run and what it ran meanwhile: %.2f s, %.0f ms a pod (the agent itself %.2f s)\n", (b-a)/hz, (b-a)/hz*1000/n, (d-c)/hz}'

# steady state with STEADY pods
for i in $(seq $((N + 1)) "$STEADY"); do
	pod "p$i" | curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @- \
		"$KX_SERVER/api/v1/namespaces/default/pods"
done
for _ in $(seq 900); do
	[ "$(kx-get pods -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" -ge "$STEADY" ] && break
	sleep 0.2
done
sleep 2
t0=$(awk '{print $14+$15+$16+$17}' /proc/$AGENT/stat)
sleep "$DUR"
t1=$(awk '{print $14+$15+$16+$17}' /proc/$AGENT/stat)
RSS=$(awk '/VmRSS/ {print $2}' /proc/$AGENT/status)
echo "steady state, $STEADY pods running, over ${DUR}s:"
awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v d="$DUR" -v r="$RSS" \
	'BEGIN {printf "  kx-node-run (with the processes it ran): %.2f%% of a core, RSS %.1f MB   (targets: < 2%%, < 50 MB)\n", (b-a)/hz/d*100, r/1024}'
