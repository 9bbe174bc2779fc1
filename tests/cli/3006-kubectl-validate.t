#!/usr/bin/env bash
# kubectl's field validation against kx-store: a List is validated by
# kubectl itself against /openapi/v2 (protobuf), single objects by the
# server (fieldValidation=Strict, or Warn with Warning headers).
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s --cache-dir "$T/cache" "$@"; }

cat >"$T/list.yaml" <<'Y'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
  data: {color: blue}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers:
        - name: httpd
          image: busybox:1
Y
is "$(k apply -f "$T/list.yaml" 2>&1)" "configmap/settings created
deployment.apps/web created" "apply -f of a List with kubectl's default validation"
is "$(k apply -f "$T/list.yaml" 2>&1)" "configmap/settings unchanged
deployment.apps/web unchanged" "applied again, nothing changes"
k apply -f "$T/list.yaml" -v=6 >"$T/v6" 2>&1
like "$(grep -o 'GET [^ ]*/openapi/v2[^ ]* 200' "$T/v6")" "openapi/v2.* 200" "kubectl read /openapi/v2 to validate the items"

sed 's/image: busybox:1/image: busybox:1\n          imagex: oops/' "$T/list.yaml" >"$T/bad.yaml"
out=$(k apply -f "$T/bad.yaml" 2>&1)
is "$out" "error: error validating \"$T/bad.yaml\": error validating data: ValidationError(Deployment.spec.template.spec.containers[0]): unknown field \"imagex\" in io.k8s.api.core.v1.Container; if you choose to ignore these errors, turn validation off with --validate=false" \
	"an unknown field in a List item is refused by kubectl, in its own words"
fails "and kubectl exits 1" 1 k apply -f "$T/bad.yaml"
sed 's/replicas: 2/replicas: two/' "$T/list.yaml" >"$T/type.yaml"
like "$(k apply -f "$T/type.yaml" 2>&1)" 'ValidationError\(Deployment.spec.replicas\): invalid type for io.k8s.api.apps.v1.DeploymentSpec.replicas: got "string", expected "integer"' \
	"a wrong type in a List item is refused too"
sed '/- name: httpd/d; s/^          image: busybox:1/        - image: busybox:1/' "$T/list.yaml" >"$T/req.yaml"
like "$(k apply -f "$T/req.yaml" 2>&1)" 'ValidationError\(Deployment.spec.template.spec.containers\[0\]\): missing required field "name" in io.k8s.api.core.v1.Container' \
	"and a missing required field"
is "$(k get deploy web -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image}')" "2 busybox:1" "nothing was changed by the refused Lists"
is "$(k apply --validate=false -f "$T/bad.yaml" 2>&1)" "configmap/settings unchanged
deployment.apps/web configured" "--validate=false skips kubectl's check (the last-applied annotation changes)"

# the documents
is "$(curl -s "$KX_SERVER/openapi/v2" | jq -c '[.swagger, .definitions["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"], .definitions["io.k8s.api.apps.v1.DeploymentSpec"].properties.template["$ref"]]')" \
	'["2.0",[{"group":"apps","kind":"Deployment","version":"v1"}],"#/definitions/io.k8s.api.core.v1.PodTemplateSpec"]' \
	"/openapi/v2 as JSON: Swagger 2.0 definitions with their kinds"
is "$(curl -s "$KX_SERVER/openapi/v2" | jq -c '.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch | [.["x-kubernetes-group-version-kind"].kind, (.parameters | map(.name) | join(","))]')" \
	'["Deployment","dryRun,fieldManager,fieldValidation"]' "and paths from the kinds table"
curl -s -D "$T/h" -o "$T/pb" -H 'Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf' "$KX_SERVER/openapi/v2"
like "$(tr -d '\r' <"$T/h")" "Content-Type: application/com.github.proto-openapi.spec.v2.v1.0\+protobuf" "protobuf when kubectl asks for it"
is "$(head -c 5 "$T/pb" | od -An -tx1 | tr -d ' \n')" "0a03322e30" "starting with the Document's swagger field, \"2.0\""

out=$(k explain deploy.spec.replicas --output=plaintext-openapiv2 2>&1)
like "$out" "FIELD: +replicas <integer>" "kubectl explain --output=plaintext-openapiv2 reads the protobuf document too"
like "$out" "Number of desired pods" "with the field's description"

# fieldValidation=Warn: Warning headers, which kubectl prints
cat >"$T/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: odd, colour: red}
data: {a: "1"}
extra: true
Y
out=$(k apply --validate=warn -f "$T/cm.yaml" 2>&1)
is "$out" 'Warning: unknown field "extra"
Warning: unknown field "metadata.colour"
configmap/odd created' "apply --validate=warn: one warning for each unknown field, and the object is created"
is "$(k get cm odd -o jsonpath='{.data.a}')" "1" "with its known fields"
out=$(sed 's/name: odd/name: odder/' "$T/cm.yaml" | k apply --validate=strict -f - 2>&1)
like "$out" 'strict decoding error: unknown field "extra", unknown field "metadata.colour"' \
	"Strict names every unknown field, as the apiserver does"
api POST '/api/v1/namespaces/default/configmaps?fieldValidation=Warn' '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w"},"spec":{"foo":1}}' >/dev/null
curl -s -D "$T/h2" -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
	--data-binary '{"spec":{"foo":2}}' "$KX_SERVER/api/v1/namespaces/default/configmaps/w?fieldValidation=Warn"
is "$(tr -d '\r' <"$T/h2" | grep '^Warning:')" 'Warning: 299 - "unknown field \"spec\""' \
	"the header is the apiserver's: code 299, no agent, the text quoted"
curl -s -D "$T/h3" -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
	--data-binary '{"data":{"b":"2"}}' "$KX_SERVER/api/v1/namespaces/default/configmaps/w?fieldValidation=Warn"
is "$(tr -d '\r' <"$T/h3" | grep -c '^Warning:')" "0" "no warning when every field is known"
done_testing
