#!/usr/bin/env bash
# kx-delete against a real kx-store: by name, TYPE/NAME, -f, -l, --all; the
# DeleteOptions sent (cascade, grace period); messages and exit codes.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

cm() { # NAME [LABEL]
	api POST /api/v1/namespaces/default/configmaps \
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\",\"labels\":{\"app\":\"${2:-x}\"}}}" >/dev/null
}
for n in a b c d e; do cm $n; done
cm w1 web
cm w2 web

is "$(kx-delete cm a)" 'configmap "a" deleted' "delete by name, as kubectl says it"
fails "it is gone" 4 kx-get cm a
is "$(kx-delete configmap/b cm/c)" 'configmap "b" deleted
configmap "c" deleted' "TYPE/NAME arguments"
is "$(kx-delete cm -l app=web)" 'configmap "w1" deleted
configmap "w2" deleted' "-l deletes what matches"
is "$(kx-delete cm -l app=nosuch 2>&1)" "kx-delete: No resources found" "-l matching nothing says so"
ok "and exits 0" kx-delete cm -l app=nosuch
is "$(kx-delete cm d -o name)" "configmap/d" "-o name"

is "$(kx-delete cm nosuch 2>&1)" 'kx-delete: Error from server (NotFound): configmaps "nosuch" not found' \
	"a missing object: kubectl's message"
fails "exits 4" 4 kx-delete cm nosuch
ok "--ignore-not-found" kx-delete cm nosuch --ignore-not-found
fails "no name is a usage error" 2 kx-delete cm
fails "no type is a usage error" 2 kx-delete
fails "a bad --cascade is a usage error" 2 kx-delete cm e --cascade=sideways
fails "an unknown type exits 1" 1 kx-delete widgets x
fails "an unreachable store exits 3" 3 kx-delete cm e --server http://127.0.0.1:1
fails "TYPE TYPE/NAME is a usage error, as in kubectl" 2 kx-delete pod pod/web
like "$(kx-delete pod pod/web 2>&1)" "no need to specify a resource type as a separate argument.*'kx-delete pod/web'" \
	"saying what to type instead"
is "$(kx-delete cm e --dry-run=client)" 'configmap "e" deleted (dry run)' "client dry run"
ok "and deletes nothing" kx-get cm e

# -f: the objects the manifests name
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f2\n' >"$T/f.yaml"
kx-apply -f "$T/f.yaml" >/dev/null
is "$(kx-delete -f "$T/f.yaml")" 'configmap "f1" deleted
configmap "f2" deleted' "-f deletes what the manifests name"
is "$(kx-delete -f "$T/f.yaml" 2>&1)" "kx-delete: Error from server (NotFound): error when deleting \"$T/f.yaml\": configmaps \"f1\" not found
kx-delete: Error from server (NotFound): error when deleting \"$T/f.yaml\": configmaps \"f2\" not found" \
	"objects from -f that are gone: kubectl's message, naming the file"
# many objects from one file
for i in $(seq 1 40); do printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many-%s\n' $i; done >"$T/many.yaml"
kx-apply -f "$T/many.yaml" >/dev/null
is "$(kx-delete -f "$T/many.yaml" | wc -l)" 40 "-f with 40 objects deletes 40"
is "$(kx-get cm -o name | grep -c many-)" 0 "and none is left"

# What is sent: kubectl's DeleteOptions. A recording server on loopback
# answers like the store and keeps each request body.
command -v python3 >/dev/null || { done_testing; exit; }
cat >"$T/rec.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_DELETE(self):
        n = int(self.headers.get('Content-Length') or 0)
        with open(sys.argv[1], 'a') as f: f.write(self.path + ' ' + self.rfile.read(n).decode() + '\n')
        self.reply({"kind": "Status", "apiVersion": "v1", "status": "Success"})
    def do_GET(self):
        self.send_response(404); self.send_header('Content-Type', 'application/json'); b = json.dumps({"kind": "Status", "code": 404, "reason": "NotFound", "message": "gone"}).encode()
        self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
    def reply(self, o):
        b = json.dumps(o).encode(); self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
bg python3 "$T/rec.py" "$T/bodies" >"$T/rec.port"
wait_for 10 test -s "$T/rec.port" || { diag "the recording server did not start"; done_testing; exit 1; }
R=http://127.0.0.1:$(cat "$T/rec.port")
body() { tail -1 "$T/bodies" | cut -d' ' -f2- | jq -cS .; }
kx-delete --server "$R" deploy web >/dev/null
is "$(body)" '{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Background"}' "the default cascade is background"
is "$(tail -1 "$T/bodies" | cut -d' ' -f1)" "/apis/apps/v1/namespaces/default/deployments/web" "at the object's path"
kx-delete --server "$R" deploy web --cascade=foreground >/dev/null
is "$(body)" '{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground"}' "--cascade=foreground"
kx-delete --server "$R" rs web-1 -n prod --cascade=orphan >/dev/null
is "$(body)" '{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Orphan"}' "--cascade=orphan"
is "$(tail -1 "$T/bodies" | cut -d' ' -f1)" "/apis/apps/v1/namespaces/prod/replicasets/web-1" "in the namespace given"
kx-delete --server "$R" pod p --grace-period=7 >/dev/null
is "$(body)" '{"apiVersion":"v1","gracePeriodSeconds":7,"kind":"DeleteOptions","propagationPolicy":"Background"}' "--grace-period"
kx-delete --server "$R" pod p --now >/dev/null
is "$(body | jq .gracePeriodSeconds)" 1 "--now is a grace period of 1"
kx-delete --server "$R" pod p --force --grace-period=0 >/dev/null
is "$(body | jq .gracePeriodSeconds)" 0 "--force --grace-period=0"
kx-delete --server "$R" pod p --grace-period=0 >/dev/null
is "$(body | jq .gracePeriodSeconds)" 1 "--grace-period=0 without --force becomes 1, as in kubectl"
kx-delete --server "$R" pod p --dry-run=server >/dev/null
like "$(tail -1 "$T/bodies" | cut -d' ' -f1)" "dryRun=All" "--dry-run=server asks the store for a dry run"

done_testing
