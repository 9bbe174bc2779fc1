#!/usr/bin/env bash
# `make run`, the README's first command, in a network namespace of the
# test's own: it checks the packages, builds (nothing to do after make check)
# and execs examples/cluster.sh; the whole cluster comes up, builds and
# serves the example image, runs examples/app until its Service answers on
# its cluster IP; a deleted pod comes back; SIGTERM to make stops everything
# and leaves nothing behind but the data directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/9000-cluster-lib.sh"

D=$T/data
# in a user's plain environment: under make check, the environment carries
# its B=build/asan (in MAKEFLAGS and as a variable of its own), with which
# make run would relink bin/ from the sanitizer build's objects, under the
# other tests' feet
run() {
	exec nsenter --net=/run/netns/"$NS" "${USER_ENV[@]}" KX_DATA="$D" KX_NODE=c$$ make -s -C "$TOP" run
}
bg run >"$T/run.log" 2>&1
RUN=$BG_PID
echo "$D/node c$$" >"$T/roots"
stop_run() { kill -TERM "$RUN" 2>/dev/null && for _ in $(seq 60); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.5; done; }
STOP=stop_run
if ! wait_for 300 grep -q 'service/web answers' "$T/run.log"; then
	diag "the cluster did not come up:" "$(tail -40 "$T/run.log")"
fi
like "$(cat "$T/run.log")" '\[cluster\] service/web answers on http://10\.' "cluster.sh waits until the Service answers"
for p in store dns scheduler controllers node probes proxy apply; do
	ok "[$p] log lines" grep -q "^\[$p\] " "$T/run.log"
done
cluster=$(ps --ppid "$RUN" -o pid=,args= | awk '/examples\/cluster.sh/ {print $1}')
ok "make run execs examples/cluster.sh" test -n "$cluster"
kids=$(ps --ppid "${cluster:-0}" -o args= | sort | tr '\n' ' ')
for p in kx-store kx-dns docker-registry kx-schedule-once kx-reconcile kx-node-run kx-health-check kx-proxy-sync; do
	like "$kids" "$p" "$p runs"
done
like "$(cat "$T/run.log")" 'kx get pods -o wide' "and says what to try next"

ip=$(inns kx-get service web -o json | jq -r .spec.clusterIP)
like "$(inns curl -s -m 5 "http://$ip/")" 'Hello from a pod run by kx' "curl http://CLUSTER-IP/ reaches the ConfigMap's page"
is "$(inns kx-get pods -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" 2 "two pods run"
# inside a pod: the Service by its short name, through the pod's resolv.conf
# (search path, kx-dns on the pods' gateway) and the proxy's rules
ctr=$(httpd_container "$D/node")
like "$(kx-container exec "$ctr" -- cat /etc/resolv.conf 2>&1)" "nameserver 10\.244\.0\.1" "the pods ask kx-dns, on their gateway"
like "$(inns dig +short @10.244.0.1 web.default.svc.cluster.local 2>&1)" "^$ip\$" "kx-dns answers the Service's name with its cluster IP"
like "$(kx-container exec "$ctr" -- wget -q -O- http://web/ 2>&1)" 'Hello from a pod run by kx' "a pod reaches the Service by its short name"
is "$(inns kx-get node c$$ -o json | jq -r '.status.conditions[] | select(.type=="Ready") | .status')" True "the node is Ready"
save_uids

# a pod killed comes back (the ReplicaSet controller, the scheduler, the node)
victim=$(inns kx-get pods -o name | head -1)
ok "kx-delete $victim" inns kx-delete "$victim"
two_new() {
	inns kx-get pods -o json | jq -e --arg v "${victim#*/}" \
		'[.items[] | select(.metadata.name != $v and .status.phase == "Running"
		  and (.status.conditions // [] | any(.type == "Ready" and .status == "True")))] | length == 2'
}
wait_for 120 two_new
ok "a new pod replaces it and is ready" two_new
save_uids
ok "the Service still answers" wait_for 30 inns curl -sf -m 5 "http://$ip/"

# SIGTERM to make: it passes the signal on to cluster.sh, waits for it, and
# dies of the signal itself; everything stops, nothing is left but the data
# directory
kill -TERM "$RUN"
for _ in $(seq 120); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.5; done
ok "make run stops on SIGTERM" sh -c "! kill -0 $RUN"
wait "$RUN"
is "$?" 143 "and ends by the signal, as make does"
ok "cluster.sh is gone too" sh -c "! kill -0 ${cluster:-0}"
like "$(tail -1 "$T/run.log")" "stopped; the data directory $D is kept" "saying so"
is "$(pod_traces "$D/node")" "" "no pod network namespaces, cgroups, mounts, processes or pod directories left"
is "$(test_processes)" "" "no process left"
is "$(inns nft list tables)" "" "no nft table left"
is "$(inns ip -o link show | grep -c kx0)" 0 "no pods' bridge left"
ok "the store's data is kept" test -s "$D/store/kx.db" -o -n "$(ls "$D/store")"

done_testing
