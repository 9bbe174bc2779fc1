#!/usr/bin/env bash
# kx-apply against a real kx-store: created, configured, unchanged; kubectl's
# three-way merge; nothing applied from a bad file; dry runs; exit codes.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }

D=$T/m
mkdir -p "$D"
cat >"$D/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  labels: {app: web, tier: front}
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1
YAML

out=$(kx-apply -f "$D/app.yaml" 2>&1)
is "$out" "configmap/conf created
deployment.apps/web created" "first apply creates, named as kubectl names them"
out=$(kx-apply -f "$D/app.yaml" 2>&1)
is "$out" "configmap/conf unchanged
deployment.apps/web unchanged" "the same manifests again change nothing"

la=$(kx-get cm conf -o 'jq=.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]')
is "$la" '{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"labels":{"app":"web","tier":"front"},"name":"conf","namespace":"default"}}' \
	"the last-applied annotation is what kubectl writes"

# another writer scales the deployment; the manifest never names replicas
CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/default/deployments/web \
	'{"spec":{"replicas":5}}' >/dev/null
is "$API_CODE" 200 "another writer scales to 5"
# the manifest changes the image and drops the tier label
sed -i 's/image: busybox:1/image: busybox:2/; s/labels: {app: web, tier: front}/labels: {app: web}/' "$D/app.yaml"
out=$(kx-apply -f "$D/app.yaml" 2>&1)
is "$out" "configmap/conf configured
deployment.apps/web configured" "changed manifests are configured"
is "$(kx-get deploy web -o jq=.spec.replicas)" 5 "the other writer's replicas are kept"
is "$(kx-get deploy web -o 'jq=.spec.template.spec.containers[0].image')" busybox:2 "the new image is applied"
is "$(kx-get cm conf -o 'jq=.metadata.labels | keys | join(",")')" app "the label dropped from the manifest is removed"

# a field set in the manifest and then dropped from it goes away
cat >"$D/cm.json" <<'JSON'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"},"data":{"x":"1","y":"2"}}
JSON
kx-apply -f "$D/cm.json" >/dev/null
CTYPE=application/merge-patch+json api PATCH /api/v1/namespaces/default/configmaps/j '{"data":{"z":"3"}}' >/dev/null
echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"},"data":{"x":"1"}}' >"$D/cm.json"
is "$(kx-apply -f "$D/cm.json")" "configmap/j configured" "JSON manifests work too"
is "$(kx-get cm j -o 'jq=.data | keys | join(",")')" "x,z" "y (dropped) is removed, z (another writer's) kept"

# stdin, kind: List, several -f
out=$(echo '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l1"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l2"}}]}' |
	kx-apply -f - -f "$D/cm.json")
is "$out" "configmap/l1 created
configmap/l2 created
configmap/j unchanged" "stdin, a List and several -f, in order"

# a directory: name order, only manifests, subdirectories with -R only
mkdir -p "$D/dir/sub"
for n in b a; do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-%s\n' "$n" >"$D/dir/$n.yaml"
done
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-sub\n' >"$D/dir/sub/c.yml"
echo 'not a manifest' >"$D/dir/README"
is "$(kx-apply -f "$D/dir")" "configmap/dir-a created
configmap/dir-b created" "a directory is read in name order, without subdirectories"
is "$(kx-apply -R -f "$D/dir")" "configmap/dir-a unchanged
configmap/dir-b unchanged
configmap/dir-sub created" "-R reads subdirectories"

# a bad file changes nothing, and the message names the file and line
rv_before=$(kx-get cm -o 'jq=[.items[].metadata.resourceVersion] | join(",")')
cat >"$D/bad.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: never
data:
  a: [1, 2
YAML
fails "a file that does not parse exits 1" 1 kx-apply -f "$D/dir/a.yaml" -f "$D/bad.yaml"
like "$(kx-apply -f "$D/dir/a.yaml" -f "$D/bad.yaml" 2>&1)" "bad\.yaml:[0-9]+" "the error names the file and line"
printf 'apiVersion: v1\nmetadata:\n  name: nokind\n' >"$D/nokind.yaml"
is "$(kx-apply -f "$D/dir/a.yaml" -f "$D/nokind.yaml" 2>&1)" \
	"kx-apply: error validating \"$D/nokind.yaml\": kind not set" "an object without a kind is refused by name"
fails "and exits 1" 1 kx-apply -f "$D/nokind.yaml"
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n' >"$D/widget.yaml"
like "$(kx-apply -f "$D/widget.yaml" 2>&1)" 'no matches for kind "Widget" in version "example.com/v1"' "an unknown kind is refused"
is "$(kx-get cm -o 'jq=[.items[].metadata.resourceVersion] | join(",")')" "$rv_before" "nothing was applied from a bad set of files"
fails "kx-get cm never: not found" 4 kx-get cm never

# dry runs
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n' >"$D/dry.yaml"
is "$(kx-apply -f "$D/dry.yaml" --dry-run=client)" "configmap/dry created (dry run)" "client dry run says what it would do"
fails "and does nothing" 4 kx-get cm dry
# a server dry run needs a store that honours ?dryRun=All: ask it first
api POST "/api/v1/namespaces/default/configmaps?dryRun=All" \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dryprobe"}}' >/dev/null
if kx-get cm dryprobe >/dev/null 2>&1; then
	api DELETE /api/v1/namespaces/default/configmaps/dryprobe >/dev/null
	skip "server dry run: this kx-store ignores ?dryRun=All and would store the object"
	skip "server dry run stores nothing: this kx-store ignores ?dryRun=All"
else
	is "$(kx-apply -f "$D/dry.yaml" --dry-run=server)" "configmap/dry created (server dry run)" "server dry run"
	fails "and stores nothing" 4 kx-get cm dry
fi
is "$(kx-apply -f "$D/cm.json" --dry-run=client)" "configmap/j configured (dry run)" "a client dry run of an existing object says configured, as kubectl does"

# namespaces
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nsd\n  namespace: other\n' >"$D/ns.yaml"
like "$(kx-apply -f "$D/ns.yaml" -n default 2>&1)" 'the namespace from the provided object "other" does not match the namespace "default"' \
	"-n naming another namespace than the manifest is refused"
fails "with exit 1" 1 kx-apply -f "$D/ns.yaml" -n default

# exit codes
fails "no -f is a usage error" 2 kx-apply
fails "a missing file exits 1" 1 kx-apply -f "$D/nosuch.yaml"
like "$(kx-apply -f "$D/nosuch.yaml" 2>&1)" 'the path ".*nosuch.yaml" does not exist' "and says so"
fails "an unreachable store exits 3" 3 kx-apply --server http://127.0.0.1:1 -f "$D/dry.yaml"
echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}' >"$D/invalid.json"
fails "an object the store refuses exits 4" 4 kx-apply -f "$D/invalid.json"
like "$(kx-apply -f "$D/invalid.json" 2>&1)" "kx-apply: Error from server \(.*\): error when creating \"$D/invalid.json\"" \
	"the refusal names the file, as kubectl does"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n' >"$D/fine.yaml"
out=$(kx-apply -f "$D/invalid.json" -f "$D/fine.yaml" 2>/dev/null)
is "$out" "configmap/fine created" "the other objects are still applied"

done_testing
