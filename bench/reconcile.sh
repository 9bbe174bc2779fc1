#!/usr/bin/env bash
# bench/reconcile.sh: one kx-reconcile pass over 10,000 pods, 1,000
# ReplicaSets and 1,000 Services, (1) when nothing needs doing and (2) when
# 1,000 pods must be created; prints seconds and writes.
# The real peer, kube-controller-manager, needs a kube-apiserver and etcd,
# which this machine does not have: figures are printed without ratios.
# Usage: bench/reconcile.sh [PODS_PER_RS (10)] [REPLICASETS (1000)]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
PER=${1:-10}
NRS=${2:-1000}
T=$(mktemp -d /tmp/kx-bench.XXXXXX)
trap 'kill $STORE 2>/dev/null; wait $STORE 2>/dev/null; rm -rf "$T"' EXIT

kx-store --listen 127.0.0.1:0 --data "$T/store" 2>"$T/store.log" &
STORE=$!
for _ in $(seq 100); do grep -q 'listening on http://' "$T/store.log" 2>/dev/null && break; sleep 0.1; done
export KX_SERVER=$(grep -o 'http://[0-9.:]*' "$T/store.log" | head -1)
echo "kx-store at $KX_SERVER; loading $NRS ReplicaSets x $PER pods and $NRS Services..."

/usr/bin/python3 - "$KX_SERVER" "$NRS" "$PER" <<'PY'
import http.client, json, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1]); nrs = int(sys.argv[2]); per = int(sys.argv[3])
c = http.client.HTTPConnection(url.hostname, url.port)
def post(path, obj, also=()):
    c.request("POST", path, json.dumps(obj), {"Content-Type": "application/json"})
    r = c.getresponse(); body = r.read()
    if r.status in also: return None
    if r.status not in (200, 201): sys.exit("POST %s: %d %s" % (path, r.status, body[:200]))
    return json.loads(body)
post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}, (409,))
post("/api/v1/namespaces/default/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}, (409,))
for i in range(nrs):
    app = "app%d" % i
    tmpl = {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 8080}]}]}}
    rs = post("/apis/apps/v1/namespaces/default/replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": app}, "spec": {"replicas": per, "selector": {"matchLabels": {"app": app}}, "template": tmpl}})
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": app, "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    for k in range(per):
        post("/api/v1/namespaces/default/pods", {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "%s-%d" % (app, k), "labels": {"app": app}, "ownerReferences": [ref]}, "spec": tmpl["spec"]})
    post("/api/v1/namespaces/default/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": app},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": "http"}]}})
PY

# CPU seconds (user + system) the store has used so far
store_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$STORE/stat; }
pass() { # label
	local t0 t1 w s0 s1
	s0=$(store_cpu)
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$T/cpu" kx-reconcile -v 2>"$T/pass.log"
	t1=$(date +%s.%N)
	s1=$(store_cpu)
	w=$(grep -o 'pass done: [0-9]* writes' "$T/pass.log" | grep -o '[0-9]*' | head -1)
	printf '%-44s %7.3f s wall %6.2f s cpu (store %5.2f s) %6s writes\n' "$1" "$(echo "$t1 - $t0" | bc)" \
		"$(awk '{ print $1 + $2 }' "$T/cpu")" "$(echo "$s1 - $s0" | bc)" "${w:-?}"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall time suffers from it; cpu does not)"
pass "first pass (statuses, endpoints, slices)"
pass "no-op pass ($((NRS * PER)) pods, $NRS rs, $NRS svc)"
pass "no-op pass again"
# 1,000 pods to create: 100 ReplicaSets (or all, if fewer) get PER more replicas each
n=$((1000 / PER)); [ "$n" -gt "$NRS" ] && n=$NRS
/usr/bin/python3 - "$KX_SERVER" "$n" "$PER" <<'PY'
import http.client, json, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[2]); per = int(sys.argv[3])
c = http.client.HTTPConnection(url.hostname, url.port)
for i in range(n):
    p = "/apis/apps/v1/namespaces/default/replicasets/app%d" % i
    c.request("GET", p); rs = json.loads(c.getresponse().read())
    rs["spec"]["replicas"] = 2 * per
    c.request("PUT", p, json.dumps(rs), {"Content-Type": "application/json"}); c.getresponse().read()
PY
pass "pass creating $((n * PER)) pods"
pass "no-op pass after"
echo "(no kube-controller-manager here to compare with: see the header)"
