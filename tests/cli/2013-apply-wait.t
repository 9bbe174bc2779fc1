#!/usr/bin/env bash
# kx-apply --wait: follows a rollout as kubectl rollout status does (plain
# lines in a pipe), and gives up after --timeout.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

cat >"$T/d.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
YAML
D=/apis/apps/v1/namespaces/default/deployments/web
status() { CTYPE=application/merge-patch+json api PATCH $D/status "{\"status\":$1}" >/dev/null; }
seen() { grep -qF "$1" "$T/out"; }

bg sh -c "kx-apply -f '$T/d.yaml' --wait --timeout 20s >'$T/out' 2>&1; echo \$? >'$T/rc'"
wait_for 10 seen "deployment.apps/web created"
gen=$(kx-get deploy web -o jq=.metadata.generation 2>/dev/null)
[ "$gen" = null ] && gen=0
wait_for 10 seen "Waiting for deployment spec update to be observed..."
status "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":0}"
wait_for 10 seen "0 out of 2 new replicas have been updated"
status "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":1}"
wait_for 10 seen "1 out of 2 new replicas have been updated"
status "{\"observedGeneration\":$gen,\"replicas\":3,\"updatedReplicas\":2}"
wait_for 10 seen "1 old replicas are pending termination"
status "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":2,\"availableReplicas\":1}"
wait_for 10 seen "1 of 2 updated replicas are available"
status "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":2,\"availableReplicas\":2,\"readyReplicas\":2}"
wait_for 10 test -s "$T/rc"
is "$(cat "$T/out")" 'deployment.apps/web created
Waiting for deployment spec update to be observed...
Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated...
Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...
Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...
Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...
deployment "web" successfully rolled out' "progress as kubectl rollout status words it, one line per change in a pipe"
is "$(cat "$T/rc")" 0 "exit 0 once rolled out"

# a pod that never becomes ready: --timeout
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n' >"$T/p.yaml"
out=$(kx-apply -f "$T/p.yaml" --wait --timeout 1s 2>&1)
rc=$?
is "$rc" 1 "a pod that is not ready in time: exit 1"
like "$out" "kx-apply: timed out waiting for the condition on pods/p" "and says so"
CTYPE=application/merge-patch+json api PATCH /api/v1/namespaces/default/pods/p/status \
	'{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
is "$(kx-apply -f "$T/p.yaml" --wait --timeout 5s 2>&1)" "pod/p unchanged
pod/p condition met" "a Ready pod: condition met"

# on a terminal: one line redrawn in place, ended before the error
if command -v script >/dev/null; then
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n  - name: c\n    image: x\n' >"$T/q.yaml"
	script -qfec "kx-apply -f '$T/q.yaml' --wait --timeout 1s" /dev/null >"$T/tty.out" 2>&1
	tr -d '\r' <"$T/tty.out" | sed 's/\x1b\[K/<EL>/g' >"$T/tty.txt"
	like "$(head -2 "$T/tty.txt" | tr '\n' '|')" '^pod/q created\|(<EL>Waiting for pod "q" to be ready: Pending\.\.\.)+\|$' \
		"on a terminal the progress line is redrawn in place (erase to end of line)"
	is "$(sed -n 3p "$T/tty.txt")" "kx-apply: timed out waiting for the condition on pods/q" "and the message starts on a fresh line"
else
	echo "ok $((_n + 1)) # SKIP script(1) is not installed"; _n=$((_n + 1))
	echo "ok $((_n + 1)) # SKIP script(1) is not installed"; _n=$((_n + 1))
fi

# objects without readiness (a ConfigMap) need no waiting
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n' >"$T/c.yaml"
is "$(kx-apply -f "$T/c.yaml" --wait --timeout 1s)" "configmap/c created" "nothing to wait for"

done_testing
