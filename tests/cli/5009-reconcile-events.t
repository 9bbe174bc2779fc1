#!/usr/bin/env bash
# kx-reconcile's Events against a real kx-store: one per pod created up to
# nine different messages, then one "(combined from similar events)" Event
# whose count goes up, as client-go's aggregator does; a pass that does
# nothing records nothing.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
APPS=/apis/apps/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null
events() { # "count message" lines of the SuccessfulCreate Events about the ReplicaSet
	curl -s "$KX_SERVER$NS/events" | jq -r '.items[] | select(.involvedObject.kind == "ReplicaSet" and
		.reason == "SuccessfulCreate") | "\(.count) \(.message)"' | sort
}

api POST $APPS/replicasets '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r"},
 "spec":{"replicas":12,"selector":{"matchLabels":{"app":"r"}},
  "template":{"metadata":{"labels":{"app":"r"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}' >/dev/null
ok "a replicaset pass" kx-reconcile -c replicaset
is "$(curl -s "$KX_SERVER$NS/pods" | jq '.items | length')" 12 "twelve pods"
ev=$(events)
is "$(printf '%s\n' "$ev" | grep -c '^1 Created pod: r-')" 9 "nine Events with their own message"
like "$(printf '%s\n' "$ev" | grep combined)" '^3 \(combined from similar events\): Created pod: r-[a-z0-9]+$' \
	"then one combined Event counting the other three"
is "$(printf '%s\n' "$ev" | wc -l)" 10 "ten Events in all"

before=$(curl -s "$KX_SERVER$NS/events" | jq -r '.items[] | .metadata.name + " " + .metadata.resourceVersion' | sort)
ok "another pass" kx-reconcile -c replicaset
is "$(curl -s "$KX_SERVER$NS/events" | jq -r '.items[] | .metadata.name + " " + .metadata.resourceVersion' | sort)" \
	"$before" "with nothing to do it records nothing"

# a deleted pod is replaced: the combined Event counts it
api DELETE "$NS/pods/$(curl -s "$KX_SERVER$NS/pods" | jq -r '.items[0].metadata.name')" >/dev/null
ok "a pass after a pod was deleted" kx-reconcile -c replicaset
like "$(events | grep combined)" '^4 \(combined' "the combined Event counts the replacement"
is "$(events | wc -l)" 10 "and no new Event appears"

done_testing
