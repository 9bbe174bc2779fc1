#!/usr/bin/env bash
# examples/crontab, run as cron would but in a loop: its @reboot lines once
# in the background, then its every-minute lines one after the other, again
# and again; one-shot passes alone take examples/app to a Deployment that is
# available and a Service that answers on its cluster IP. In a network
# namespace of the test's own, with the data, locks and logs under $T.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/9000-cluster-lib.sh"

CRONTAB=$TOP/examples/crontab
# the crontab's environment, with the test's own directories
env_lines=$(grep -E '^[A-Z_]+=' "$CRONTAB" | grep -v -E '^(KX_DATA|KX_LOCKS|KX_LOGS|PATH|SHELL)=')
export $env_lines KX_DATA=$T/data KX_LOCKS=$T KX_LOGS=$T/log
mkdir -p "$KX_LOGS"
echo "$KX_DATA/node $(hostname)" >"$T/roots"
reboot=$(sed -n 's/^@reboot //p' "$CRONTAB")
minute=$(sed -n 's/^\* \* \* \* \* //p' "$CRONTAB")
is "$(printf '%s\n' "$reboot" | wc -l)" 3 "three @reboot lines (the store, cluster DNS, the prober)"
is "$(printf '%s\n' "$minute" | wc -l)" 4 "four every-minute lines"
like "$minute" 'kx-schedule-once.*--lock' "the scheduler's pass takes a lock"
like "$minute" 'kx-reconcile.*--lock' "the controllers' pass takes a lock"
like "$minute" 'kx-proxy-sync.*--lock' "the proxy's pass takes a lock"
like "$minute" 'kx-node-run.*--once' "the node runs one pass"

# the example image, on a registry at 127.0.0.1:5000 in the namespace
printf '%s\n' 'version: 0.1' 'log: {level: error, accesslog: {disabled: true}}' \
	"storage: {filesystem: {rootdirectory: $T/registry}}" 'http: {addr: "127.0.0.1:5000"}' >"$T/reg.yml"
bg inns_exec docker-registry serve "$T/reg.yml" 2>/dev/null
wait_for 20 inns curl -sf http://127.0.0.1:5000/v2/
ok "the example image is built and pushed" inns "$TOP/examples/image/build.sh" "$T/image" 127.0.0.1:5000/kx/httpd:1

while IFS= read -r line; do
	bg inns_exec sh -c "$line"
done <<<"$reboot"
ok "the store is up" wait_for 20 inns curl -sf http://127.0.0.1:8080/readyz
ok "kx-apply -f examples/app" inns kx-apply -f "$TOP/examples/app"

# cron, faster: every line, one after the other, until the app answers
answers() {
	ip=$(inns kx-get service web -o json | jq -r .spec.clusterIP) &&
		inns curl -sf -m 5 "http://$ip/" | grep -q 'Hello from a pod'
}
passes=0
until answers; do
	passes=$((passes + 1))
	[ "$passes" -gt 60 ] && break
	while IFS= read -r line; do inns sh -c "$line"; done <<<"$minute"
	sleep 1
done
diag "$passes rounds of passes"
ok "one-shot passes alone bring the Service up on its cluster IP" answers
save_uids
is "$(inns kx-get deployment web -o json | jq -r '.status.availableReplicas')" 2 "the Deployment is available with 2 replicas"
is "$(inns kx-get pods -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" 2 "two pods run"
like "$(inns dig +short @10.244.0.1 web.default.svc.cluster.local)" "^$ip\$" "kx-dns from @reboot answers the Service's name"
ctr=$(httpd_container "$KX_DATA/node")
like "$(kx-container exec "$ctr" -- wget -q -O- http://web/ 2>&1)" 'Hello from a pod' "a pod reaches the Service by its short name"

# idempotent: another round changes nothing in the store
rv1=$(inns curl -s http://127.0.0.1:8080/api/v1/namespaces/default/pods | jq -r .metadata.resourceVersion)
while IFS= read -r line; do
	case $line in *kx-node-run*) ;; *) inns sh -c "$line" ;; esac
done <<<"$minute"
rv2=$(inns curl -s http://127.0.0.1:8080/api/v1/namespaces/default/pods | jq -r .metadata.resourceVersion)
is "$rv2" "$rv1" "a round of scheduler, controllers and proxy on a converged cluster writes nothing"

# a held lock: the pass does nothing and says so
exec 8>"$T/kx-reconcile.lock"
flock 8
rl=$(printf '%s\n' "$minute" | grep kx-reconcile | sed 's/ 2>>.*//')
fails "a pass whose lock is held fails at once" 1 inns sh -c "$rl"
exec 8>&-

teardown_node "$KX_DATA/node" "$(hostname)"
is "$(pod_traces "$KX_DATA/node")" "" "the pods are torn down"

done_testing
