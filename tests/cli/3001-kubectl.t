#!/usr/bin/env bash
# Real kubectl against kx-store: what a user types and what kubectl prints.
. "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || skip_all "kubectl is not installed"
store_start || exit 1
export KUBECONFIG=/dev/null
k() { kubectl --server "$KX_SERVER" --request-timeout=20s "$@"; }

like "$(k version 2>&1)" "Server Version: v1\.[0-9]+" "kubectl version reads the server's version"
like "$(k api-resources 2>&1)" "deployments +deploy +apps/v1 +true +Deployment" "api-resources lists deployments with short names"
like "$(k api-versions 2>&1)" "coordination.k8s.io/v1" "api-versions lists the groups"

cat >"$T/app.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
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
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
Y
is "$(k apply -f "$T/app.yaml" 2>&1)" "deployment.apps/web created
service/web created" "apply creates, in kubectl's words"
is "$(k apply -f "$T/app.yaml" 2>&1)" "deployment.apps/web unchanged
service/web unchanged" "a second apply changes nothing"

is "$(k diff -f "$T/app.yaml" 2>&1)" "" "kubectl diff after apply: no difference"
sed 's/replicas: 2/replicas: 5/' "$T/app.yaml" >"$T/app5.yaml"
k diff -f "$T/app5.yaml" >"$T/diff" 2>&1
is "$(grep '^[-+] ' "$T/diff")" "-  generation: 1
+  generation: 2
-  replicas: 2
+  replicas: 5" "kubectl diff shows the change and the generation it bumps, as against a cluster (a dry run keeps the resourceVersion)"

# kubectl's default validation: the server validates fields (OpenAPI v3 says so)
sed 's/image: busybox:1/image: busybox:1\n        imagex: oops/' "$T/app.yaml" >"$T/bad.yaml"
out=$(k apply -f "$T/bad.yaml" 2>&1)
like "$out" 'strict decoding error: unknown field "spec.template.spec.containers\[0\].imagex"' \
	"apply of an unknown field is refused, naming the field as Kubernetes does"
fails "and kubectl exits 1" 1 k apply -f "$T/bad.yaml"
is "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" "busybox:1" "and nothing changed"
out=$(k explain deployment.spec.template.spec.containers.ports 2>&1)
like "$out" "FIELD: ports <\[\]ContainerPort>" "explain reads the OpenAPI v3 schemas"
like "$out" "containerPort.*<integer> -required-" "with the fields, their types and what is required"
like "$(k explain pods 2>&1)" "KIND: +Pod" "explain pods"
is "$(k explain deploy 2>&1 | grep -c ":return:\|:rtype:")" "0" "explain shows no docstring markup of the Python models"

out=$(k get deploy 2>&1)
like "$out" "^NAME +READY +UP-TO-DATE +AVAILABLE +AGE" "get deploy prints kubectl's deployment columns (server-side Table)"
like "$out" "web +0/2 +0 +0 +[0-9]+s" "with the row for web"
like "$(k get svc web 2>&1)" "web +ClusterIP +10\.[0-9.]+ +<none> +80/TCP" "get svc prints TYPE CLUSTER-IP PORT(S)"
like "$(k get deploy -o wide 2>&1 | head -1)" "CONTAINERS +IMAGES +SELECTOR" "-o wide adds the wide columns"
like "$(k get deploy -A 2>&1 | head -1)" "^NAMESPACE +NAME" "-A adds a NAMESPACE column"
like "$(k get deploy --show-labels 2>&1)" "app=web" "--show-labels shows labels from the row's metadata"
is "$(k get deploy,svc -o name 2>&1)" "deployment.apps/web
service/web" "-o name"
is "$(k get deploy web -o jsonpath='{.spec.replicas}' 2>&1)" "2" "-o jsonpath"
is "$(k get deploy web -o json 2>&1 | jq -r .spec.template.spec.containers[0].image)" "busybox:1" "-o json"
like "$(k get deploy web -o yaml 2>&1)" "kind: Deployment" "-o yaml"
like "$(k get deploy -l app=web -o name 2>&1)" "deployment.apps/web" "-l selects"
is "$(k get deploy -l app=nope 2>&1)" "No resources found in default namespace." "-l with no match says so"

is "$(k patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"httpd","image":"busybox:2"}]}}}}' 2>&1)" \
	"deployment.apps/web patched" "strategic merge patch (kubectl's default)"
is "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}/{.spec.template.spec.containers[*].image}')" \
	"httpd/busybox:2" "merges the container by name"
is "$(k patch deploy web --type=merge -p '{"metadata":{"labels":{"tier":"front"}}}' 2>&1)" "deployment.apps/web patched" "merge patch"
is "$(k patch deploy web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":3}]' 2>&1)" "deployment.apps/web patched" "JSON patch"
is "$(k get deploy web -o jsonpath='{.spec.replicas} {.metadata.labels.tier}')" "3 front" "both took effect"
is "$(k scale deploy web --replicas=4 2>&1)" "deployment.apps/web scaled" "scale"
is "$(k label deploy web z=1 2>&1)" "deployment.apps/web labeled" "label"
is "$(k annotate deploy web note=hi 2>&1)" "deployment.apps/web annotated" "annotate"
is "$(k rollout restart deploy web 2>&1)" "deployment.apps/web restarted" "rollout restart"
like "$(k get deploy web -o jsonpath='{.spec.template.metadata.annotations}')" "kubectl.kubernetes.io/restartedAt" "restart stamps the template"

out=$(k describe deploy web 2>&1)
like "$out" "Replicas: +4 desired" "describe deployment"
like "$out" "Image: +busybox:2" "describe shows the pod template"
api POST /api/v1/namespaces/default/pods \
	'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
like "$(k get pods -o wide 2>&1)" "p1 +0/1 +Pending +0 +[0-9]+s +<none> +<none>" "get pods -o wide: READY STATUS RESTARTS AGE IP NODE"
is "$(k run p2 --image=busybox:1 2>&1)" "pod/p2 created" "kubectl run"
like "$(k get pod p2 2>&1)" "p2 +0/1 +Pending +0 " "its pod is Pending (kubectl sends an empty status)"
like "$(k describe pod p1 2>&1)" "Status: +Pending" "describe pod"
like "$(k describe ns default 2>&1)" "Status: +Active" "describe namespace"

# get -w: the watch streams Tables too, so rows keep the kind's columns
k get cm -w >"$T/watch" 2>&1 &
wpid=$!
wait_for 10 grep -q NAME "$T/watch"
api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w"},"data":{"a":"1"}}' >/dev/null
CTYPE=application/merge-patch+json api PATCH /api/v1/namespaces/default/configmaps/w '{"data":{"b":"2"}}' >/dev/null
wait_for 10 grep -Eq '^w +2 ' "$T/watch"
kill $wpid 2>/dev/null
like "$(head -1 "$T/watch")" "^NAME +DATA +AGE" "get -w prints the configmap columns once"
like "$(grep -E '^w ' "$T/watch" | tr '\n' '|')" "^w +1 +[0-9]+s\|w +2 +[0-9]+s\|$" "and a row for each change"

is "$(k delete deploy web 2>&1)" 'deployment.apps "web" deleted' "delete"
like "$(k get deploy web 2>&1)" 'Error from server \(NotFound\): deployments.apps "web" not found' "a missing object is NotFound"
fails "and kubectl exits 1" 1 k get deploy web
done_testing
