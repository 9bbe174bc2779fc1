#!/usr/bin/env bash
# kx-schedule-once --watch: pods created later are scheduled as they come;
# with --leader-elect two schedulers share one Lease and one of them acts.
. "$(dirname "$0")/lib.sh"
command -v kx-store >/dev/null || skip_all "kx-store is not built"
store_start || exit 1

api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}}' >/dev/null
api PUT /api/v1/nodes/n1/status "$(api GET /api/v1/nodes/n1 | jq -c '.status = {allocatable: {cpu: "4", memory: "8Gi", pods: "110"}}')" >/dev/null
mkpod() {
	api POST /api/v1/namespaces/default/pods "$(jq -nc --arg n "$1" --arg c "${2:-100m}" \
		'{apiVersion: "v1", kind: "Pod", metadata: {name: $n},
		  spec: {containers: [{name: "c", image: "busybox", resources: {requests: {cpu: $c}}}]}}')" >/dev/null
}
bound() { [ "$(api GET "/api/v1/namespaces/default/pods/$1" | jq -r '.spec.nodeName // ""')" = "$2" ]; }

bg kx-schedule-once --watch --batch 50ms -v 2>"$T/watch.log"
watcher=$BG_PID
mkpod early
ok "--watch binds a pod that was waiting" wait_for 10 bound early n1
mkpod later
ok "and a pod created while it watches" wait_for 10 bound later n1
mkpod huge 64
ok "a pod that fits nowhere is marked Unschedulable" wait_for 10 sh -c \
	"curl -s $KX_SERVER/api/v1/namespaces/default/pods/huge | jq -e '.status.conditions[] | select(.type == \"PodScheduled\" and .reason == \"Unschedulable\")'"
api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"},"status":{"allocatable":{"cpu":"128","memory":"8Gi","pods":"110"}}}' >/dev/null
api PUT /api/v1/nodes/n2/status "$(api GET /api/v1/nodes/n2 | jq -c '.status = {allocatable: {cpu: "128", memory: "8Gi", pods: "110"}}')" >/dev/null
ok "a new node wakes it: the waiting pod goes there" wait_for 10 bound huge n2
kill -TERM "$watcher"
wait "$watcher" 2>/dev/null
is "$?" "0" "SIGTERM stops --watch with status 0"

# two candidates, one Lease
bg kx-schedule-once --watch --leader-elect --leader-elect-lease default/sched-test \
	--leader-elect-lease-duration 2s --batch 50ms 2>"$T/l1.log"
l1=$BG_PID
ok "the first candidate takes the Lease" wait_for 10 grep -q "became the leader" "$T/l1.log"
bg kx-schedule-once --watch --leader-elect --leader-elect-lease default/sched-test \
	--leader-elect-lease-duration 2s --batch 50ms 2>"$T/l2.log"
l2=$BG_PID
holder=$(api GET /apis/coordination.k8s.io/v1/namespaces/default/leases/sched-test | jq -r .spec.holderIdentity)
like "$holder" "_$l1\$" "the Lease names the first candidate"
mkpod led
ok "the leader schedules" wait_for 10 bound led n1
ok "the other does not lead" sh -c "! grep -q 'became the leader' '$T/l2.log'"
kill -TERM "$l1"
wait "$l1" 2>/dev/null
ok "when the leader goes, the other takes over" wait_for 15 grep -q "became the leader" "$T/l2.log"
mkpod after
ok "and schedules" wait_for 10 bound after n1

fails "--leader-elect without --watch: 2" 2 kx-schedule-once --leader-elect
fails "a bad lease name: 2" 2 kx-schedule-once --watch --leader-elect --leader-elect-lease nolash
done_testing
