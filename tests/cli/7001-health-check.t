#!/usr/bin/env bash
# kx-health-check one-shot mode against real servers on loopback: HTTP
# (status codes, headers, redirects, timeouts), TCP and exec probes, and
# Kubernetes probe objects with named ports.
. "$(dirname "$0")/lib.sh"

# A free port on loopback, from the kernel.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

mkdir -p "$T/www/cgi-bin"
echo ok >"$T/www/healthz"
cat >"$T/www/cgi-bin/tok" <<'SH'
#!/bin/sh
if [ "$HTTP_X_TOKEN" = secret ]; then printf 'Status: 200 OK\r\n\r\nok\n'
else printf 'Status: 500 Bad\r\n\r\nno\n'; fi
SH
cat >"$T/www/cgi-bin/moved" <<'SH'
#!/bin/sh
printf 'Status: 302 Found\r\nLocation: /healthz\r\n\r\n'
SH
cat >"$T/www/cgi-bin/ua" <<'SH'
#!/bin/sh
case "$HTTP_USER_AGENT" in kube-probe/*) printf 'Status: 200 OK\r\n\r\n';; *) printf 'Status: 403 No\r\n\r\n';; esac
SH
chmod +x "$T/www/cgi-bin/"*

HP=$(free_port)
bg busybox httpd -f -p 127.0.0.1:$HP -h "$T/www"
wait_for 5 kx-health-check --tcp 127.0.0.1:$HP || echo "# httpd did not start"

ok "http: 200 is healthy" kx-health-check http://127.0.0.1:$HP/healthz
fails "http: 404 is unhealthy" 1 kx-health-check http://127.0.0.1:$HP/nothing
like "$(kx-health-check http://127.0.0.1:$HP/nothing 2>&1)" "HTTP probe failed with statuscode: 404" \
	"and says why on stderr"
fails "http: 500 is unhealthy" 1 kx-health-check http://127.0.0.1:$HP/cgi-bin/tok
ok "http: a header is sent" kx-health-check -H 'X-Token: secret' http://127.0.0.1:$HP/cgi-bin/tok
ok "http: a redirect is followed" kx-health-check http://127.0.0.1:$HP/cgi-bin/moved
ok "http: the user agent is kube-probe" kx-health-check http://127.0.0.1:$HP/cgi-bin/ua

out=$(kx-health-check -o json http://127.0.0.1:$HP/healthz)
is "$(printf '%s' "$out" | jq -c '[.probe, .healthy, .reason]')" \
	"[\"http://127.0.0.1:$HP/healthz\",true,\"\"]" "-o json prints the result"
out=$(kx-health-check -o json http://127.0.0.1:$HP/nothing 2>/dev/null)
is "$(printf '%s' "$out" | jq -c '.healthy')" "false" "-o json says unhealthy too"

DP=$(free_port)
fails "http: a refused port is unhealthy" 1 kx-health-check http://127.0.0.1:$DP/
fails "tcp: a refused port is unhealthy" 1 kx-health-check --tcp 127.0.0.1:$DP
like "$(kx-health-check tcp://127.0.0.1:$DP 2>&1)" "connect: Connection refused" "and says refused"
ok "tcp: an open port is healthy" kx-health-check --tcp 127.0.0.1:$HP
ok "tcp://HOST:PORT works too" kx-health-check tcp://127.0.0.1:$HP

# A server that accepts and never answers: the probe times out.
SP=$(free_port)
mkfifo "$T/fifo"
bg sh -c 'exec busybox nc -l -p "$1" <>"$2" >/dev/null' sh "$SP" "$T/fifo"
wait_for 5 sh -c "ss -ltn | grep -q ':$SP '"
fails "http: a silent server times out" 1 kx-health-check --timeout 300ms http://127.0.0.1:$SP/
like "$(cat "$T/.out")" "[Tt]imeout|timed out" "and says it timed out"

ok "exec: exit 0 is healthy" kx-health-check --exec -- cat "$T/www/healthz"
fails "exec: exit 1 is unhealthy" 1 kx-health-check --exec -- cat "$T/nonexistent"
like "$(kx-health-check exec -- sh -c 'echo broken; exit 3' 2>&1)" "exited with status 3: broken" \
	"exec: the status and output are the reason"
fails "exec: a slow command times out" 1 kx-health-check --timeout 200ms --exec -- sleep 5

# Kubernetes probe objects
ok "--probe httpGet with a named port" kx-health-check --pod-ip 127.0.0.1 \
	--ports '[{"name":"web","containerPort":'$HP'}]' \
	--probe '{"httpGet":{"path":"/healthz","port":"web"},"timeoutSeconds":2}'
ok "--probe httpGet with headers" kx-health-check \
	--probe '{"httpGet":{"host":"127.0.0.1","path":"/cgi-bin/tok","port":'$HP',"httpHeaders":[{"name":"X-Token","value":"secret"}]}}'
fails "--probe httpGet on a failing path" 1 kx-health-check --pod-ip 127.0.0.1 \
	--probe '{"httpGet":{"path":"/nothing","port":'$HP'}}'
ok "--probe tcpSocket" kx-health-check --pod-ip 127.0.0.1 --probe '{"tcpSocket":{"port":'$HP'}}'
ok "--probe exec" kx-health-check --probe '{"exec":{"command":["test","-f","'"$T/www/healthz"'"]}}'
echo '{"exec":{"command":["false"]}}' >"$T/probe.json"
fails "--probe @FILE" 1 kx-health-check --probe @"$T/probe.json"

fails "a named port that does not exist is a usage error" 2 kx-health-check \
	--probe '{"httpGet":{"port":"nope"}}'
like "$(cat "$T/.out")" 'no container port named "nope"' "and says which"
fails "a probe with no handler is a usage error" 2 kx-health-check --probe '{"periodSeconds":3}'
fails "malformed JSON is a usage error" 2 kx-health-check --probe '{'
fails "no probe at all is a usage error" 2 kx-health-check
fails "two probes are a usage error" 2 kx-health-check --tcp 127.0.0.1:1 http://127.0.0.1:1/
fails "an unknown scheme is a usage error" 2 kx-health-check ftp://127.0.0.1/
fails "a bad timeout is a usage error" 2 kx-health-check --timeout soon tcp://127.0.0.1:1

done_testing
