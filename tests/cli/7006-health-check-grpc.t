#!/usr/bin/env bash
# kx-health-check's gRPC probes (the gRPC health checking protocol, as the
# kubelet's grpc probe) against a real gRPC server on loopback (grpcio):
# SERVING is healthy; NOT_SERVING, an unknown service and a refused port are
# not; as a URL and as a Kubernetes probe object.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import grpc' 2>/dev/null || skip_all "needs python3-grpcio"
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# grpc.health.v1.Health/Check without generated code: the request's field 1
# is the service name, the answer's field 1 the status (1 SERVING, 2
# NOT_SERVING); an unknown service is NOT_FOUND, as the reference server.
cat >"$T/health.py" <<'PY'
import sys, time
from concurrent import futures
import grpc
status = {"": 1, "web": 1, "db": 2}
def check(req, ctx):
    name = req[2:2 + req[1]].decode() if len(req) > 2 and req[0] == 0x0a else ""
    if name not in status:
        ctx.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
    return bytes([0x08, status[name]])
handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
    "Check": grpc.unary_unary_rpc_method_handler(check, request_deserializer=None, response_serializer=None)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("127.0.0.1:" + sys.argv[1])
server.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
PY
GP=$(free_port)
bg $PY "$T/health.py" "$GP" >"$T/grpc.log" 2>&1
wait_for 10 grep -q ready "$T/grpc.log" || diag "the gRPC server did not start: $(cat "$T/grpc.log")"

ok "grpc: a SERVING server is healthy" kx-health-check grpc://127.0.0.1:$GP
ok "grpc: a SERVING service is healthy" kx-health-check grpc://127.0.0.1:$GP/web
fails "grpc: a NOT_SERVING service is unhealthy" 1 kx-health-check grpc://127.0.0.1:$GP/db
like "$(cat "$T/.out")" 'service unhealthy \(responded with "NOT_SERVING"\)' "and says so, as the kubelet"
fails "grpc: an unknown service is unhealthy" 1 kx-health-check grpc://127.0.0.1:$GP/nope
like "$(cat "$T/.out")" 'health rpc probe failed: .*grpc-status 5' "with the gRPC status (NOT_FOUND)"
DP=$(free_port)
fails "grpc: a refused port is unhealthy" 1 kx-health-check grpc://127.0.0.1:$DP
like "$(kx-health-check -o json grpc://127.0.0.1:$GP/web)" "\"probe\":\"grpc://127.0.0.1:$GP/web\",\"healthy\":true" \
	"-o json names the probe"

# Kubernetes probe objects
ok "--probe grpc" kx-health-check --pod-ip 127.0.0.1 --probe '{"grpc":{"port":'$GP'}}'
ok "--probe grpc with a service" kx-health-check --pod-ip 127.0.0.1 --probe '{"grpc":{"port":'$GP',"service":"web"}}'
fails "--probe grpc, NOT_SERVING" 1 kx-health-check --pod-ip 127.0.0.1 --probe '{"grpc":{"port":'$GP',"service":"db"}}'
fails "--probe grpc with a named port is a usage error, as in Kubernetes" 2 kx-health-check \
	--probe '{"grpc":{"port":"web"}}'

done_testing
