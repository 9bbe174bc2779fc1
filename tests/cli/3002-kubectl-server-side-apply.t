#!/usr/bin/env bash
# kubectl apply --server-side against kx-store: field managers, conflicts,
# --force-conflicts, pruning what a manager no longer applies; and the
# application/apply-patch+yaml edge cases with curl.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s "$@"; }
D=/apis/apps/v1/namespaces/default/deployments
# managedFields as stored (kubectl -o json hides them)
mf() { curl -s "$KX_SERVER$D/$1" | jq -c "$2"; }

cat >"$T/app.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1
        ports:
        - containerPort: 80
Y
is "$(k apply --server-side -f "$T/app.yaml" 2>&1)" "deployment.apps/web serverside-applied" \
	"apply --server-side creates, in kubectl's words"
is "$(k get deploy web -o jsonpath='{.spec.replicas} {.metadata.managedFields[*].manager} {.metadata.managedFields[*].operation}')" \
	"2 kubectl Apply" "the object is stored with kubectl's Apply entry"
rv=$(k get deploy web -o jsonpath='{.metadata.resourceVersion}')
is "$(k apply --server-side -f "$T/app.yaml" 2>&1)" "deployment.apps/web serverside-applied" "re-apply"
is "$(k get deploy web -o jsonpath='{.metadata.resourceVersion}')" "$rv" "an unchanged re-apply writes nothing"

out=$(k get deploy web -o yaml --show-managed-fields)
like "$out" 'fieldsType: FieldsV1' "--show-managed-fields shows the entries"
like "$out" 'k:\{"name":"httpd"\}:' "containers are owned by name"
like "$out" 'k:\{"containerPort":80,"protocol":"TCP"\}:' "ports by containerPort and protocol"
ok "kubectl get -o yaml hides managedFields by default" bash -c "! kubectl --server $KX_SERVER get deploy web -o yaml | grep -q managedFields"

# a second manager applying another value for replicas
sed 's/replicas: 2/replicas: 3/' "$T/app.yaml" >"$T/app3.yaml"
out=$(k apply --server-side --field-manager=ci -f "$T/app3.yaml" 2>&1)
like "$out" '^error: Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas' \
	"a conflicting apply is refused with Kubernetes' message"
like "$out" "please re-run the apply" "and kubectl's advice"
fails "kubectl exits 1 on a conflict" 1 k apply --server-side --field-manager=ci -f "$T/app3.yaml"
is "$(k get deploy web -o jsonpath='{.spec.replicas}')" "2" "nothing changed"

# two conflicting fields
sed 's/replicas: 2/replicas: 4/; s/tier: front/tier: back/' "$T/app.yaml" >"$T/app4.yaml"
out=$(k apply --server-side --field-manager=ci -f "$T/app4.yaml" 2>&1)
like "$out" "$(printf '^error: Apply failed with 2 conflicts: conflicts with "kubectl":\n- \\.metadata\\.labels\\.tier\n- \\.spec\\.replicas')" \
	"several conflicts are listed under their manager"

# the same values: shared ownership, no conflict
is "$(k apply --server-side --field-manager=ci -f "$T/app.yaml" 2>&1)" "deployment.apps/web serverside-applied" \
	"applying the same values as another manager is no conflict"
is "$(mf web '[.metadata.managedFields[].manager] | sort | join(",")')" '"ci,kubectl"' \
	"both managers are listed"

# --force-conflicts takes ownership
is "$(k apply --server-side --field-manager=ci --force-conflicts -f "$T/app3.yaml" 2>&1)" \
	"deployment.apps/web serverside-applied" "--force-conflicts applies"
is "$(k get deploy web -o jsonpath='{.spec.replicas}')" "3" "with the forced value"
is "$(mf web '[.metadata.managedFields[] | {manager, r: (.fieldsV1["f:spec"]["f:replicas"] != null)}] | sort_by(.manager)')" \
	'[{"manager":"ci","r":true},{"manager":"kubectl","r":false}]' "and replicas moved from kubectl to ci"

# dropping a field from the applied manifest removes it (when no one else owns it)
grep -v 'tier: front' "$T/app.yaml" | sed 's/labels: {app: web, tier: front}/labels: {app: web}/' >"$T/notier.yaml"
is "$(k apply --server-side --field-manager=ci -f "$T/notier.yaml" 2>&1)" "deployment.apps/web serverside-applied" \
	"ci applies its own value again, without tier"
is "$(k get deploy web -o jsonpath='{.metadata.labels.tier}')" "front" "a field another manager still applies stays"
is "$(k apply --server-side -f "$T/notier.yaml" 2>&1)" "deployment.apps/web serverside-applied" \
	"kubectl applies the same replicas as ci: shared, no conflict"
is "$(k get deploy web -o jsonpath='{.metadata.labels.tier}')" "" "once no manager applies it, it is removed"
cat >"$T/sidecar.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: log
        image: busybox:1
Y
k apply --server-side --field-manager=sidecar -f "$T/sidecar.yaml" >/dev/null 2>&1
is "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')" "httpd log" \
	"another manager adds its own container next to the first"
sed 's/- name: log/[]/; /image: busybox:1/d' "$T/sidecar.yaml" | sed 's/containers:$/containers: []/; /^      \[\]$/d' >"$T/nosidecar.yaml"
k apply --server-side --field-manager=sidecar -f "$T/nosidecar.yaml" >/dev/null 2>&1
is "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')" "httpd" \
	"and dropping it removes only its container"

# client-side apply and scale are Update managers; server-side apply conflicts with them
sed 's/name: web$/name: csa/' "$T/app.yaml" >"$T/csa.yaml"
k apply -f "$T/csa.yaml" >/dev/null
k scale deploy csa --replicas=5 >/dev/null
out=$(mf csa '[.metadata.managedFields[] | [.manager, .operation, (.subresource // "")]] | sort')
is "$out" '[["kubectl","Update","scale"],["kubectl-client-side-apply","Update",""]]' \
	"kubectl apply and kubectl scale are recorded as Update managers"
out=$(k apply --server-side -f "$T/csa.yaml" 2>&1)
like "$out" 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: \.spec\.replicas' \
	"a server-side apply conflicts with the scale, named as Kubernetes names it"
k apply --server-side --force-conflicts -f "$T/csa.yaml" >/dev/null 2>&1
is "$(k get deploy csa -o jsonpath='{.spec.replicas}')" "2" "--force-conflicts wins over the scale"

# dry run leaves the store alone
sed 's/replicas: 2/replicas: 9/' "$T/csa.yaml" >"$T/csa9.yaml"
k apply --server-side --force-conflicts --dry-run=server -f "$T/csa9.yaml" >/dev/null 2>&1
is "$(k get deploy csa -o jsonpath='{.spec.replicas}')" "2" "apply --server-side --dry-run=server changes nothing"

# ---- curl: the edge cases --------------------------------------------------
CTYPE=application/apply-patch+yaml
api PATCH "$D/nope" 'apiVersion: apps/v1
kind: Deployment
metadata: {name: nope}' >/dev/null
is "$API_CODE" 422 "an apply without fieldManager is refused (422)"
like "$API_OUT" 'fieldManager: Required value: is required for apply patch' "saying fieldManager is required"
api PATCH "$D/web?fieldManager=x" 'metadata: {name: web
  labels: [' >/dev/null
is "$API_CODE" 400 "malformed YAML is a 400"
like "$API_OUT" 'error decoding YAML: .*line' "naming what was wrong and where"
api PATCH "$D/web?fieldManager=x" 'apiVersion: apps/v1
kind: Deployment
metadata: {name: other}' >/dev/null
is "$API_CODE" 400 "a name that differs from the URL is a 400"
api PATCH "$D/web?fieldManager=x" 'apiVersion: v1
kind: Pod
metadata: {name: web}' >/dev/null
is "$API_CODE" 400 "a kind that differs from the URL is a 400"
api PATCH "$D/web?fieldManager=x" 'apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicaz: 1}' >/dev/null
is "$API_CODE" 200 "unknown fields pass without fieldValidation=Strict"
api PATCH "$D/web?fieldManager=x&fieldValidation=Strict" 'apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicaz: 1}' >/dev/null
like "$API_OUT" 'unknown field \\"spec.replicaz\\"' "and are refused with it"
api PATCH "$D/web?fieldManager=m2" 'apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 7}' >/dev/null
is "$API_CODE" 409 "a conflict is 409"
is "$(jq -r '.message' <<<"$API_OUT")" 'Apply failed with 2 conflicts: conflicts with "ci":
- .spec.replicas
conflicts with "kubectl":
- .spec.replicas' "a field two managers own conflicts with each"
is "$(jq -r '.reason' <<<"$API_OUT")" Conflict "reason Conflict"
is "$(jq -c '.details.causes' <<<"$API_OUT")" '[{"reason":"FieldManagerConflict","message":"conflict with \"ci\"","field":".spec.replicas"},{"reason":"FieldManagerConflict","message":"conflict with \"kubectl\"","field":".spec.replicas"}]' \
	"with one FieldManagerConflict cause per field"
api PATCH "$D/web?fieldManager=m2&force=true" '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":7}}' >/dev/null
is "$API_CODE/$(jq -r .spec.replicas <<<"$API_OUT")" "200/7" "JSON is YAML too; force=true takes the field"
api PATCH "/api/v1/namespaces/default/configmaps/cm?fieldManager=x" 'apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: "1"}' >/dev/null
is "$API_CODE" 201 "an apply of a new object creates it (201)"
is "$(jq -c '.metadata.managedFields[0].fieldsV1' <<<"$API_OUT")" '{"f:data":{"f:a":{}}}' \
	"owning the keys of its data"
api PATCH "/api/v1/namespaces/default/configmaps/cm/status?fieldManager=x" 'apiVersion: v1
kind: ConfigMap
metadata: {name: cm}' >/dev/null
is "$API_CODE" 404 "configmaps have no status subresource"
CTYPE=application/json
api PUT /api/v1/namespaces/default/configmaps/cm '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"a":"2"}}' >/dev/null
is "$(jq -c '[.metadata.managedFields[] | [.manager, .operation, .fieldsV1]]' <<<"$API_OUT")" \
	'[["curl","Update",{"f:data":{"f:a":{}}}]]' "a PUT makes its User-Agent the Update manager of what it changed"
done_testing
