#!/usr/bin/env bash
# kx-reconcile --watch follows the store; --leader-elect lets one of two
# candidates act through a Lease, and the other takes over when it leaves;
# the resourcequota controller keeps status.used; a full pass of every
# controller is idempotent.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
APPS=/apis/apps/v1/namespaces/default
for ns in default kube-system; do
	api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
done
npods() { curl -s "$KX_SERVER$NS/pods" | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
holder() { curl -s "$KX_SERVER/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kx-reconcile" | jq -r '.spec.holderIdentity // ""'; }

# quota first, while nothing else runs
api POST $NS/resourcequotas '{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},
 "spec":{"hard":{"pods":"10","requests.cpu":"4","count/configmaps":"5"}}}' >/dev/null
api POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"one"},"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"250m"}}}]}}' >/dev/null
api POST $NS/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}' >/dev/null
ok "a resourcequota pass" kx-reconcile -c resourcequota
is "$(api GET $NS/resourcequotas/q | jq -c '.status.used')" '{"pods":"1","requests.cpu":"250m","count/configmaps":"1"}' \
	"status.used counts pods, cpu requests and configmaps"
is "$(api GET $NS/resourcequotas/q | jq -r '.status.hard.pods')" 10 "status.hard mirrors spec.hard"
api DELETE $NS/pods/one >/dev/null

# two candidates; one leads
bg kx-reconcile --watch --leader-elect --identity a --leader-elect-lease-duration 2s -c replicaset 2>"$T/a.log"
A=$BG_PID
bg kx-reconcile --watch --leader-elect --identity b --leader-elect-lease-duration 2s -c replicaset 2>"$T/b.log"
B=$BG_PID
wait_for 10 sh -c "curl -s '$KX_SERVER/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kx-reconcile' | grep -q holderIdentity"
first=$(holder)
like "$first" '^(a|b)$' "one candidate holds the Lease"

api POST $APPS/replicasets '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"w"},
 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"w"}},
  "template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >/dev/null
ok "the leader, watching, creates the pods" wait_for 10 sh -c "[ \$(curl -s '$KX_SERVER$NS/pods' | jq '.items | length') = 3 ]"
sleep 1
is "$(npods)" 3 "exactly three: the follower did not act too"

# the leader leaves (releasing the Lease): the other takes over
if [ "$first" = a ]; then kill "$A"; wait "$A" 2>/dev/null; else kill "$B"; wait "$B" 2>/dev/null; fi
if [ "$first" = a ]; then second=b; else second=a; fi
# (released, the Lease has no holder for a moment: wait for the other's name)
ok "the other candidate takes the Lease" wait_for 10 sh -c "[ \"\$(curl -s '$KX_SERVER/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kx-reconcile' | jq -r .spec.holderIdentity)\" = $second ]"
is "$(curl -s "$KX_SERVER/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kx-reconcile" | jq -r .spec.leaseTransitions)" 1 \
	"leaseTransitions counts the change"
api DELETE "$NS/pods/$(curl -s "$KX_SERVER$NS/pods" | jq -r '.items[0].metadata.name')" >/dev/null
ok "the new leader replaces a deleted pod" wait_for 10 sh -c "[ \$(curl -s '$KX_SERVER$NS/pods' | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length') = 3 ]"
kill "$A" "$B" 2>/dev/null
wait "$A" "$B" 2>/dev/null

# every controller, twice: the second pass writes nothing
api POST $APPS/deployments '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"d"}},
  "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >/dev/null
api POST $NS/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"d"},"spec":{"selector":{"app":"d"},"ports":[{"port":80}]}}' >/dev/null
ok "a full pass" kx-reconcile
snap() {
	for p in /api/v1/pods /apis/apps/v1/replicasets /apis/apps/v1/deployments /api/v1/endpoints \
		/apis/discovery.k8s.io/v1/endpointslices /api/v1/serviceaccounts /api/v1/resourcequotas /api/v1/events /api/v1/namespaces; do
		curl -s "$KX_SERVER$p" | jq -r '.items[] | .metadata.name + " " + .metadata.resourceVersion'
	done | sort
}
before=$(snap)
ok "a second full pass" kx-reconcile
is "$(snap)" "$before" "changes no resourceVersion"

done_testing
