#!/usr/bin/env bash
# kx-get -w: changes as they happen; after the store restarts, the watch
# resumes from the last resourceVersion, losing and repeating nothing; after
# a 410 Gone it lists again and prints only what changed.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }
PORT=${KX_SERVER##*:}

cmp_=/api/v1/namespaces/default/configmaps
cm() { api POST $cmp_ "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\"}}" >/dev/null; }
setv() { CTYPE=application/merge-patch+json api PATCH $cmp_/$1 "{\"data\":{\"v\":\"$2\"}}" >/dev/null; }
lines() { [ "$(wc -l <"$T/w.out")" -ge "$1" ]; }

cm w1
bg kx-get cm -w -o 'jq=.metadata.name + "=" + (.data.v // "")' >"$T/w.out" 2>"$T/w.err"
WATCH=$BG_PID
wait_for 10 lines 1 || diag "the first list did not come"
cm w2
setv w1 2
wait_for 10 lines 3 || diag "the first changes did not come"
is "$(cat "$T/w.out")" "w1=
w2=
w1=2" "the list, then each change as it happens"

# the store goes away and comes back on the same port with the same data
store_stop
wait_for 10 grep -q "lost the store" "$T/w.err"
like "$(cat "$T/w.err")" "kx-get: lost the store .*; reconnecting" "a lost store is said once on stderr"
ok "the watch keeps running while the store is down" kill -0 $WATCH
bg kx-store --listen 127.0.0.1:$PORT --data "$T/store" 2>>"$T/store2.log"
STORE_PID=$BG_PID
wait_for 10 curl -sf "$KX_SERVER/readyz" || diag "kx-store did not come back"
cm w3
setv w2 5
api DELETE $cmp_/w1 >/dev/null
wait_for 10 lines 6 || diag "the changes after the restart did not come"
sleep 0.5 # anything repeated would show up now
is "$(cat "$T/w.out")" "w1=
w2=
w1=2
w3=
w2=5
w1=2" "after the restart: every change once, in order, none repeated"
ok "the watch is still running after printing a deletion" kill -0 $WATCH
is "$(grep -v 'lost the store\|store reached again' "$T/w.err")" "" "and said nothing else on stderr"
kill $WATCH 2>/dev/null

# --watch-only and a single object
bg kx-get cm w2 --watch-only -o name >"$T/w2.out" 2>&1
sleep 0.3
setv w3 1
setv w2 6
wait_for 10 test -s "$T/w2.out"
sleep 0.3
is "$(cat "$T/w2.out")" "configmap/w2" "watching one object prints only its changes"

# --timeout ends a watch with status 0
ok "--timeout ends the watch" kx-get cm -w --timeout 1s

# a 410 Gone: list again, print what changed since, resume from the list.
# A canned server plays the store: it knows the watch is too old once.
command -v python3 >/dev/null || { done_testing; exit; }
cat >"$T/gone.py" <<'PY'
import http.server, json, sys, time
n = {'list': 0, 'watch': 0}
def cm(name, rv, v): return {"metadata": {"name": name, "namespace": "default", "resourceVersion": str(rv)}, "data": {"v": v}}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        if 'watch=' not in self.path:
            n['list'] += 1
            items = [cm("a", 5, "1")] if n['list'] == 1 else [cm("a", 7, "3"), cm("b", 8, "1")]
            b = json.dumps({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": "5" if n['list'] == 1 else "9"}, "items": items}).encode()
            self.send_response(200); self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
            return
        n['watch'] += 1
        with open(sys.argv[1], 'a') as f: f.write(self.path + '\n')
        self.send_response(200); self.send_header('Content-Type', 'application/json'); self.send_header('Transfer-Encoding', 'chunked'); self.end_headers()
        def ev(o):
            line = (json.dumps(o) + '\n').encode(); self.wfile.write(b'%x\r\n%s\r\n' % (len(line), line)); self.wfile.flush()
        if n['watch'] == 1:
            ev({"type": "MODIFIED", "object": cm("a", 6, "2")})
            ev({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version: 6 (8)"}})
            self.wfile.write(b'0\r\n\r\n'); self.wfile.flush()
            return
        time.sleep(30)
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
PY
bg python3 "$T/gone.py" "$T/paths" >"$T/gone.port"
wait_for 10 test -s "$T/gone.port" || { diag "the canned server did not start"; done_testing; exit 1; }
kx-get cm -w --timeout 2s --server http://127.0.0.1:$(cat "$T/gone.port") \
	-o 'jq=.metadata.name + "=" + .data.v' >"$T/g.out" 2>&1
is "$(cat "$T/g.out")" "a=1
a=2
a=3
b=1" "after a 410: listed again, printing only what changed, once" 
is "$(sed 's/.*resourceVersion=\([0-9]*\).*/\1/' "$T/paths")" "5
9" "the watch started from the first list, then from the new list"

done_testing
