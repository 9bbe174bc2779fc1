#!/usr/bin/env bash
# kx-store: concurrent read-modify-write. 8 writers each increment a counter
# 50 times (read, add one, update with the resourceVersion read, retry on
# 409). No update may be lost: the counter ends at 400, and the store
# answered 409 to some of them.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3"
store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
U=$KX_SERVER/api/v1/namespaces/default/configmaps
curl -s -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"counter"},"data":{"n":"0"}}' "$U" >/dev/null

# each writer keeps one connection, as a controller would
/usr/bin/python3 - "$KX_SERVER" >"$T/out" <<'PY'
import http.client, json, sys, threading
host = sys.argv[1].split("//")[1]
path = "/api/v1/namespaces/default/configmaps/counter"
conflicts, errors = [0], []
lock = threading.Lock()
def writer():
    c = http.client.HTTPConnection(host, timeout=30)
    done = 0
    while done < 50:
        c.request("GET", path); r = c.getresponse(); cur = json.loads(r.read())
        cur["data"]["n"] = str(int(cur["data"]["n"]) + 1)
        c.request("PUT", path, json.dumps(cur), {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status == 200: done += 1
        elif r.status == 409:
            with lock: conflicts[0] += 1
        else:
            errors.append(r.status); return
ts = [threading.Thread(target=writer) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(conflicts[0], len(errors))
PY
read -r conflicts errors <"$T/out"
is "$errors" "0" "every writer finished its 50 increments without an unexpected status"
is "$(curl -s "$U/counter" | jq -r .data.n)" "400" "the counter is 400: no update was lost"
diag "409 conflicts retried: $conflicts"
ok "some writers were told 409 and retried" test "$conflicts" -gt 0

# the history holds every increment, in order
rv=$(curl -s "$U/counter" | jq -r .metadata.resourceVersion)
curl -sN "$U?watch=1&resourceVersion=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dcounter" >"$T/w"
is "$(jq -r .object.data.n "$T/w" | paste -sd' ')" "$(seq 0 400 | paste -sd' ')" "the watch saw 0..400 in order"
is "$(tail -1 "$T/w" | jq -r .object.metadata.resourceVersion)" "$rv" "the last event is the current version"

done_testing
