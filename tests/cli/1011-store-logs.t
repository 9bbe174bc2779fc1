#!/usr/bin/env bash
# kx-store: pods/{name}/log is streamed from the node that runs the pod.
# A fake node on loopback answers /containerLogs/NS/POD/CONTAINER, as
# kx-node-run does, and records the query it was asked.
. "$(dirname "$0")/lib.sh"
store_start || exit 1
N=/api/v1/namespaces/default

cat >"$T/node.py" <<'PY'
import http.server, sys, time, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        open(sys.argv[2], "a").write(self.path + "\n")
        if u.path != "/containerLogs/default/web/app":
            self.send_response(404); self.end_headers()
            self.wfile.write(b"container not found (\"nosuch\")\n"); return
        self.send_response(200); self.send_header("Content-Type", "text/plain"); self.end_headers()
        q = urllib.parse.parse_qs(u.query)
        self.wfile.write(b"line one\nline two\n"); self.wfile.flush()
        if q.get("follow") == ["true"]:
            time.sleep(0.5); self.wfile.write(b"line three, later\n"); self.wfile.flush()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
bg python3 "$T/node.py" "$T/port" "$T/asked"
wait_for 10 test -s "$T/port" || { echo "Bail out! the fake node did not start"; exit 1; }
port=$(cat "$T/port")

api POST $N/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"x"}]}}' >/dev/null
api GET $N/pods/web/log >/dev/null
is "$API_CODE $(printf '%s' "$API_OUT" | jq -r .message)" \
	'400 no node serves logs for pod "web": it is not bound to a node yet' "a pod on no node: no node serves its logs"

api POST $N/pods/web/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"n1"}}' >/dev/null
api GET $N/pods/web/log >/dev/null
is "$API_CODE $(printf '%s' "$API_OUT" | jq -r .reason)" "503 ServiceUnavailable" "a node that does not exist: 503"
like "$(printf '%s' "$API_OUT" | jq -r .message)" 'node "n1" does not exist' "saying so"

api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}' >/dev/null
api GET $N/pods/web/log >/dev/null
like "$API_CODE $(printf '%s' "$API_OUT" | jq -r .message)" '^503 .*publishes no kubelet endpoint' "a node without a kubelet endpoint: 503, saying why"

api PUT /api/v1/nodes/n1/status "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":$port}}}}" >/dev/null
is "$API_CODE" 200 "the node publishes its kubelet endpoint"
is "$(curl -s "$KX_SERVER$N/pods/web/log")" "line one
line two" "the logs come from the node"
curl -s "$KX_SERVER$N/pods/web/log?tailLines=5&timestamps=true" >/dev/null
like "$(tail -1 "$T/asked")" '^/containerLogs/default/web/app\?(tailLines=5&timestamps=true|timestamps=true&tailLines=5)$' \
	"the query goes to the node (the only container chosen)"
is "$(curl -s "$KX_SERVER$N/pods/web/log?follow=true")" "line one
line two
line three, later" "follow streams what the node writes later"
api GET "$N/pods/web/log?container=nosuch" >/dev/null
is "$API_CODE $(printf '%s' "$API_OUT" | jq -r .message)" "400 container nosuch is not valid for pod web" "an unknown container is 400"
if command -v kubectl >/dev/null; then
	is "$(KUBECONFIG=/dev/null kubectl --server "$KX_SERVER" logs web 2>&1)" "line one
line two" "kubectl logs prints them"
	is "$(KUBECONFIG=/dev/null kubectl --server "$KX_SERVER" logs -f web 2>&1)" "line one
line two
line three, later" "kubectl logs -f follows"
fi
done_testing
