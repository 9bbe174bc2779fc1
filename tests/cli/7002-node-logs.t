#!/usr/bin/env bash
# kx-node-run's container logs: the copier writes the CRI log format, and
# the node serves /containerLogs/NS/POD/CONTAINER as the kubelet does
# (tailLines, timestamps, previous, follow, limitBytes).
. "$(dirname "$0")/lib.sh"

# A free port on loopback, from the kernel.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

L=$T/logs/ns1_web_uid$$/app
mkdir -p "$L" "$T/root"
printf 'hello\nworld\nno newline' >"$T/out"
printf 'oops\n' >"$T/err"
: >"$T/empty"
ok "the copier runs to the end of its streams" \
	sh -c "kx-node-run --copy-log '$L/0.log' 3<'$T/out' 4<'$T/empty'"
ok "and appends to the file" sh -c "kx-node-run --copy-log '$L/0.log' 3<'$T/empty' 4<'$T/err'"
like "$(cat "$L/0.log")" '^[0-9-]+T[0-9:.]+Z stdout F hello' "CRI format: time, stream, F, line"
like "$(grep stderr "$L/0.log")" 'stderr F oops$' "stderr is marked as such"
like "$(sed -n 3p "$L/0.log")" 'F no newline$' "a last line without newline is kept"

# rotation
yes 0123456789 | head -200 >"$T/big"
kx-node-run --log-max-size 1000 --copy-log "$T/rot.log" 3<"$T/big" 4<"$T/empty"
ok "a log over its size is rotated" test -s "$T/rot.log.1"
like "$(wc -c <"$T/rot.log")" '^[0-9]{1,4}$' "and the current file stays small"
# the copier program kx-node-run starts for each container does the same
"$TOP/libexec/kx/copy-log" 1000 "$T/rot2.log" 3<"$T/big" 4<"$T/err"
ok "libexec/kx/copy-log: the copier as a program of its own, rotating too" test -s "$T/rot2.log.1"
like "$(tail -1 "$T/rot2.log")" 'stderr F oops$' "with the same lines"
is "$(ldd "$TOP/libexec/kx/copy-log" | grep -c 'curl\|microhttpd\|ssl')" "0" "and none of kx-node-run's libraries"

printf 'before restart\n' >"$T/out0"
mv "$L/0.log" "$L/1.log"
kx-node-run --copy-log "$L/0.log" 3<"$T/out0" 4<"$T/empty"

P=$(free_port)
bg kx-node-run --node n$$ --root "$T/root" --log-dir "$T/logs" --port "$P" \
	--server http://127.0.0.1:1 2>"$T/node.err"
wait_for 5 kx-health-check --tcp 127.0.0.1:$P || diag "the log server did not start"
U=http://127.0.0.1:$P/containerLogs/ns1/web/app
is "$(curl -s "$U")" "$(printf 'hello\nworld\nno newline\noops')" "logs of the current run"
is "$(curl -s "$U?tailLines=1")" "oops" "tailLines"
like "$(curl -s "$U?tailLines=1&timestamps=true")" '^[0-9-]+T[0-9:.]+Z oops$' "timestamps"
is "$(curl -s "$U?previous=true")" "before restart" "previous: the run before"
is "$(curl -s "$U?limitBytes=5")" "hello" "limitBytes"
is "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$P/containerLogs/ns1/nope/app)" "404" \
	"an unknown pod is 404"
curl -sN "$U?follow=true&tailLines=1" >"$T/follow" &
CURL=$!
_pids="$_pids $CURL"
sleep 0.5
echo "2026-01-01T00:00:00.000000Z stdout F appended" >>"$L/1.log"
wait_for 5 grep -q appended "$T/follow"
is "$(cat "$T/follow")" "$(printf 'oops\nappended')" "follow streams new lines"
printf 'x\n' >"$L/2.log"
wait_for 5 sh -c "! kill -0 $CURL 2>/dev/null"
ok "follow ends when the container restarts" sh -c "! kill -0 $CURL 2>/dev/null"

done_testing
