#!/usr/bin/env bash
# Compatibility with kubectl: the same manifests applied with `kubectl apply`
# (into namespace kc) and with kx-apply (into namespace kx) print the same
# lines and leave the same objects, compared with kx-get -o json ignoring
# uid, timestamps, resourceVersion, managedFields and allocated cluster IPs.
# Then each tool takes over the other's objects without changing them.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s "$@"; }
k api-resources >/dev/null 2>&1 || skip_all "kubectl cannot talk to kx-store yet (discovery fails)"

for ns in kc kx; do
	api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
done
M=$T/m
mkdir -p "$M"
cp "$TOP"/examples/app/*.yaml "$M/"
# YAML as people write it: comments, anchors and aliases, block scalars,
# empty documents, a List, flow style, quoted numbers
cat >"$M/zz-edge.yaml" <<'YAML'
# leading comment; anchors live within one document
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: edge
  labels: &labels {app: edge, tier: "1"}
  annotations:
    note: >
      folded
      text
data:
  literal: |
    line one
      indented
  kept: |+
    trailing

  quoted: "007"
  yes-string: "yes"
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: edge-secret
    labels: &l2 {app: edge, tier: "1"}
  stringData: {user: admin}
  type: Opaque
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: edge-sa, labels: *l2}
...
YAML

objects() { # ns: the objects as comparable JSON
	kx-get deploy,svc,cm,secret,sa -n "$1" -l 'app in (web,edge)' -o json |
		jq -S '[.items[] | del(.metadata.uid, .metadata.creationTimestamp, .metadata.resourceVersion,
			.metadata.managedFields, .metadata.generation, .spec.clusterIP, .spec.clusterIPs)
		| .metadata.namespace = "NS"
		| .metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] |=
			(if . then fromjson | .metadata.namespace = "NS" else . end)]'
}
both() { # args...: apply with both tools, same output expected
	local a b
	a=$(k apply --validate=false -n kc "$@" 2>&1)
	b=$(kx-apply -n kx "$@" 2>&1)
	is "$b" "$a" "kx-apply prints what kubectl apply prints: $*"
}

both -f "$M"
ok "objects were made" test "$(objects kx | jq length)" -ge 5
is "$(objects kx)" "$(objects kc)" "the first apply leaves the same objects"
both -f "$M"
is "$(objects kx)" "$(objects kc)" "a second apply changes the same nothing"

# another writer scales; the manifests change an image, drop a label and a key
for ns in kc kx; do
	CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/$ns/deployments/web '{"spec":{"replicas":4}}' >/dev/null
	CTYPE=application/merge-patch+json api PATCH /api/v1/namespaces/$ns/configmaps/edge '{"data":{"theirs":"x"}}' >/dev/null
	# inside a list merged by key: an env var in the container, a finalizer
	CTYPE=application/strategic-merge-patch+json api PATCH /apis/apps/v1/namespaces/$ns/deployments/web \
		'{"metadata":{"finalizers":["example.com/keep"]},"spec":{"template":{"spec":{"containers":[{"name":"httpd","env":[{"name":"THEIRS","value":"1"}]}]}}}}' >/dev/null
done
sed -i 's|image: localhost:5000/kx/httpd:1|image: localhost:5000/kx/httpd:2|' "$M/deployment.yaml"
sed -i 's/labels: &labels {app: edge, tier: "1"}/labels: \&labels {app: edge}/; /yes-string/d' "$M/zz-edge.yaml"
both -f "$M"
is "$(objects kx)" "$(objects kc)" "the three-way merge gives the same objects"
is "$(kx-get deploy web -n kx -o jq=.spec.replicas) $(kx-get cm edge -n kx -o 'jq=.data | keys | join(",")')" \
	"2 kept,literal,quoted,theirs" "(replicas named in the manifest win; another writer's key kept, a dropped one removed)"
is "$(kx-get deploy web -n kx -o 'jq=.spec.template.spec.containers[0] | .image + " " + .env[0].name')" \
	"localhost:5000/kx/httpd:2 THEIRS" "a list merged by key keeps another writer's field in its items"
# the manifest drops the readiness probe and the content volume (and its mount)
python3 - "$M/deployment.yaml" <<'PY'
import sys, re
p = sys.argv[1]; s = open(p).read()
s = re.sub(r"          readinessProbe:\n(            .*\n)+", "", s)
s = re.sub(r"          volumeMounts:\n(            .*\n)+", "", s)
s = re.sub(r"      volumes:\n(        .*\n)+", "", s)
open(p, "w").write(s)
PY
both -f "$M/deployment.yaml"
is "$(objects kx)" "$(objects kc)" "dropping items of keyed lists gives the same objects"
is "$(kx-get deploy web -n kx -o 'jq=.spec.template.spec | [.volumes, .containers[0].volumeMounts, .containers[0].readinessProbe, .containers[0].env[0].name] | tostring')" \
	'[null,null,null,"THEIRS"]' "(the dropped ones are gone, another writer's env stays)"
for ns in kc kx; do
	CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/$ns/deployments/web '{"metadata":{"finalizers":null}}' >/dev/null
done

# a single file from stdin, and a dry run
is "$(kx-apply -n kx -f - <"$M/service.yaml" 2>&1)" "$(k apply --validate=false -n kc -f - <"$M/service.yaml" 2>&1)" \
	"kx-apply prints what kubectl apply prints: -f - (stdin)"
both -f "$M/configmap.yaml" --dry-run=client
sed -i 's/Hello/Hi/' "$M/configmap.yaml"
both -f "$M/configmap.yaml" --dry-run=server
is "$(objects kx)" "$(objects kc)" "dry runs change nothing"

# each tool takes over the other's objects: nothing to do
out=$(kx-apply -n kc -f "$M" --dry-run=server 2>&1)
# (a Secret's stringData never shows in the object read back: kubectl too
# says such a Secret is configured on every apply)
is "$(printf "%s\n" "$out" | grep -v unchanged)" "configmap/web-content configured (server dry run)
secret/edge-secret configured (server dry run)" \
	"kx-apply reads kubectl's last-applied annotation (only the edited ConfigMap differs)"
is "$(k apply -n kx -f "$M/service.yaml" -f "$M/deployment.yaml" 2>&1)" "service/web unchanged
deployment.apps/web unchanged" "kubectl reads kx-apply's"

done_testing
