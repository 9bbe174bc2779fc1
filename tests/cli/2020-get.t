#!/usr/bin/env bash
# kx-get against a real kx-store: every output format against expected text,
# selectors, namespaces, several types, messages and exit codes.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

# Objects are made with the API directly, their status through /status, so
# that what kx-get prints depends on kx-get alone.
mk() { # PATH JSON
	api POST "$1" "$2" >/dev/null
	[ "$API_CODE" = 201 ] || echo "# POST $1 answered $API_CODE: $API_OUT"
}
status() { # PATH JSON
	CTYPE=application/merge-patch+json api PATCH "$1/status" "$2" >/dev/null
	[ "$API_CODE" = 200 ] || echo "# PATCH $1/status answered $API_CODE: $API_OUT"
}
P=/api/v1/namespaces/default/pods
mk /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod"}}'
mk $P '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}'
status $P/web '{"status":{"phase":"Running","podIP":"10.244.0.5","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"c","ready":true,"restartCount":0,"image":"busybox","imageID":"","state":{"running":{"startedAt":"2026-11-26T18:00:00Z"}}}]}}'
mk $P '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-0","labels":{"app":"db"}},"spec":{"containers":[{"name":"c","image":"pg"},{"name":"d","image":"pg"}]}}'
status $P/db-0 '{"status":{"phase":"Pending"}}'
mk /api/v1/namespaces/prod/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api"},"spec":{"containers":[{"name":"c","image":"x"}]}}'
status /api/v1/namespaces/prod/pods/api '{"status":{"phase":"Failed","containerStatuses":[{"name":"c","ready":false,"restartCount":0,"image":"x","imageID":"","state":{"terminated":{"exitCode":3}}}]}}'
mk /api/v1/namespaces/default/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.96.0.20","selector":{"app":"web"},"ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}}'
mk /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","labels":{"app":"web"}},"data":{"a":"1","text":"line1\nline2\n"}}'

# the AGE column depends on the clock: show it as "Xs", keeping the alignment
age() { perl -pe 's/\b(\d+s)( +)/"Xs" . (" " x (length($1) + length($2) - 2))/ge; s/\b\d+s$/Xs/'; }

is "$(kx-get pods | age)" "NAME   READY   STATUS    RESTARTS   AGE
db-0   0/2     Pending   0          Xs
web    1/1     Running   0          Xs" "pods: kubectl's columns"
is "$(kx-get po -o wide | age)" \
"NAME   READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
db-0   0/2     Pending   0          Xs    <none>       <none>   <none>           <none>
web    1/1     Running   0          Xs    10.244.0.5   n1       <none>           <none>" "-o wide adds IP, NODE, NOMINATED NODE, READINESS GATES"
is "$(kx-get pods -A --no-headers | age)" "default   db-0   0/2   Pending      0     Xs
default   web    1/1   Running      0     Xs
prod      api    0/1   ExitCode:3   0     Xs" "-A adds NAMESPACE; --no-headers; STATUS as kubectl computes it"
is "$(kx-get pods -l app=web --show-labels | age)" "NAME   READY   STATUS    RESTARTS   AGE   LABELS
web    1/1     Running   0          Xs    app=web" "-l selects, --show-labels adds LABELS" 
is "$(kx-get pods --field-selector status.phase=Pending -o name)" "pod/db-0" "--field-selector; -o name"
is "$(kx-get svc | age)" "NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE
web    NodePort   10.96.0.20   <none>        80:30080/TCP   Xs" "services"
is "$(kx-get cm,svc -o name)" "configmap/c1
service/web" "several types, -o name"
is "$(kx-get cm,svc | age)" "NAME           DATA   AGE
configmap/c1   2      Xs

NAME          TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE
service/web   NodePort   10.96.0.20   <none>        80:30080/TCP   Xs" "several types: one table each, names with their kind"
is "$(kx-get pod/web svc/web -o name)" "pod/web
service/web" "TYPE/NAME arguments"

# JSON: kubectl's shape (keys sorted, four spaces), a List for several
want=$(curl -s "$KX_SERVER$P/web" | jq -S --indent 4 '. + {kind: "Pod", apiVersion: "v1"} | del(.metadata.managedFields)')
is "$(kx-get pod web -o json)" "$want" "-o json of one object is the object, as kubectl prints it"
want=$(curl -s "$KX_SERVER$P" | jq -S --indent 4 '{apiVersion: "v1", kind: "List", metadata: {resourceVersion: ""},
	items: [.items[] | . + {kind: "Pod", apiVersion: "v1"} | del(.metadata.managedFields)]}')
is "$(kx-get pods -o json)" "$want" "-o json of a list is a List"
is "$(kx-get pods -l app=nosuch -o json | jq -c .)" '{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}' \
	"an empty list is an empty List"

# YAML, without the fields the store fills in
is "$(kx-get cm c1 -o yaml | grep -Ev '^  (creationTimestamp|resourceVersion|uid|generation):')" 'apiVersion: v1
data:
  a: "1"
  text: |
    line1
    line2
kind: ConfigMap
metadata:
  labels:
    app: web
  name: c1
  namespace: default' "-o yaml"

# jq filters through libjq
is "$(kx-get pods -o 'jq=.items[].metadata.name')" "db-0
web" "-o jq= prints strings raw"
is "$(kx-get pod web -o 'jq={name: .metadata.name, ip: .status.podIP}')" '{"name":"web","ip":"10.244.0.5"}' \
	"other results as compact JSON"
fails "a jq filter that does not compile is a usage error" 2 kx-get pods -o 'jq=.items['
fails "a jq error at run time exits 1" 1 kx-get pods -o 'jq=.items | error("boom")'
fails "an unknown output format is a usage error" 2 kx-get pods -o xml

# nothing found, not found, unknown, unreachable
is "$(kx-get deploy 2>&1)" "kx-get: No resources found in default namespace." "an empty list says so on stderr"
ok "and exits 0" kx-get deploy
is "$(kx-get deploy 2>/dev/null)" "" "with nothing on stdout"
is "$(kx-get deploy -A 2>&1)" "kx-get: No resources found" "across namespaces"
is "$(kx-get deployment nosuch 2>&1)" 'kx-get: Error from server (NotFound): deployments.apps "nosuch" not found' \
	"a missing object: kubectl's message"
fails "exits 4 (the store refused)" 4 kx-get deployment nosuch
is "$(kx-get pods web nosuch -o name 2>/dev/null)" "pod/web" "the others are still printed"
fails "but the exit status says one was missing" 4 kx-get pods web nosuch
ok "--ignore-not-found" kx-get pods nosuch --ignore-not-found
is "$(kx-get widgets 2>&1)" "kx-get: the server doesn't have a resource type \"widgets\"" "an unknown type"
fails "exits 1" 1 kx-get widgets
fails "no type is a usage error" 2 kx-get
fails "an unreachable store exits 3" 3 kx-get pods --server http://127.0.0.1:1
like "$(kx-get pods --server http://127.0.0.1:1 2>&1)" "^kx-get: cannot reach the store at http://127.0.0.1:1" "and says so"

# types by every name kubectl knows
for t in pods pod po Pod pods.v1 services svc deployments.apps deploy configmaps cm namespaces ns; do
	ok "type name $t" kx-get "$t" -o name
done
is "$(kx-get ns -o name | grep prod)" "namespace/prod" "cluster-scoped kinds list without a namespace"

done_testing
