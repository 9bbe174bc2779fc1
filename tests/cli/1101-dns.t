#!/usr/bin/env bash
# kx-dns against a real kx-store, queried with dig: every record kind of the
# Kubernetes DNS specification, changes in the store seen at once, TCP after
# truncation, forwarding to a dnsmasq upstream on loopback, FORMERR for a
# malformed query, and the errors a person meets first. Everything listens
# on 127.0.0.1; no query leaves loopback.
. "$(dirname "$0")/lib.sh"

command -v dig >/dev/null || skip_all "needs dig (dnsutils)"
command -v kx-dns >/dev/null || skip_all "needs kx-dns"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

# --- an upstream: dnsmasq on loopback, answering outside.test from a hosts file
UP=""
if command -v dnsmasq >/dev/null; then
	echo "192.0.2.7 outside.test" >"$T/hosts"
	for _ in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 30000))
		bg dnsmasq -k --port=$p --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
			--no-hosts --addn-hosts="$T/hosts" --local=/test/ --pid-file= --user=root \
			--log-facility=- 2>"$T/dnsmasq.log"
		if wait_for 3 grep -q 'read .*hosts' "$T/dnsmasq.log"; then UP=127.0.0.1:$p; break; fi
		kill "$BG_PID" 2>/dev/null
	done
fi

cat >"$T/objs.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.7.10
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: prod}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: prod
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5433, protocol: TCP}]
endpoints:
- addresses: [10.244.7.5]
  hostname: db-0
  conditions: {ready: true}
- addresses: [10.244.7.6]
  conditions: {ready: true}
- addresses: [10.244.7.7]
  conditions: {ready: false}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: outside.test}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: [{name: c, image: busybox}]}
EOF
ok "the objects are applied" kx-apply -f "$T/objs.yaml"
pod=$(kx-get pod p -o json | jq -c '.status = {"phase":"Running","podIP":"10.244.8.3"}')
api PUT /api/v1/namespaces/default/pods/p/status "$pod" >/dev/null
is "$API_CODE" 200 "the pod has an address"

# --- the server -------------------------------------------------------------------
upstream=(--upstream "${UP:-none}")
bg kx-dns --server "$KX_SERVER" --listen 127.0.0.1:0 "${upstream[@]}" -vv 2>"$T/dns.log"
DNS_PID=$BG_PID
wait_for 10 grep -q 'listening on' "$T/dns.log" || sed 's/^/#   /' "$T/dns.log"
PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/dns.log" | head -1)
like "$(cat "$T/dns.log")" "listening on 127.0.0.1:[0-9]+ \(udp, tcp\), zone cluster.local" "kx-dns says where it listens"

q() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 "$@" 2>&1; }
answer() { q +noall +answer "$@" | awk '{print $1, $4, $5, $6, $7, $8}' | sed 's/ *$//'; }
status() { q +noall +comments "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }

is "$(answer web.default.svc.cluster.local)" "web.default.svc.cluster.local. A 10.96.7.10" "A of a ClusterIP service"
is "$(answer WEB.Default.Svc.Cluster.Local)" "WEB.Default.Svc.Cluster.Local. A 10.96.7.10" \
	"any case, answered in the question's"
is "$(q +noall +comments web.default.svc.cluster.local | grep -o 'flags: [a-z ]*')" "flags: qr aa rd ra" \
	"an authoritative answer"
is "$(answer _http._tcp.web.default.svc.cluster.local SRV)" \
	"_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local." "SRV of a named port"
is "$(answer db.prod.svc.cluster.local | sort)" \
	"$(printf '%s\n' "db.prod.svc.cluster.local. A 10.244.7.5" "db.prod.svc.cluster.local. A 10.244.7.6")" \
	"a headless service: its ready endpoints"
is "$(answer db-0.db.prod.svc.cluster.local)" "db-0.db.prod.svc.cluster.local. A 10.244.7.5" "an endpoint's hostname"
is "$(answer _pg._tcp.db.prod.svc.cluster.local SRV | sort)" \
	"$(printf '%s\n' "_pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5433 10-244-7-6.db.prod.svc.cluster.local." \
		"_pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5433 db-0.db.prod.svc.cluster.local.")" \
	"headless SRV: one per ready endpoint"
is "$(answer -x 10.96.7.10)" "10.7.96.10.in-addr.arpa. PTR web.default.svc.cluster.local." "PTR of a cluster IP"
is "$(answer -x 10.244.7.5)" "5.7.244.10.in-addr.arpa. PTR db-0.db.prod.svc.cluster.local." "PTR of an endpoint"
is "$(answer ext.default.svc.cluster.local CNAME)" "ext.default.svc.cluster.local. CNAME outside.test." \
	"ExternalName: CNAME"
is "$(answer 10-244-8-3.default.pod.cluster.local)" "10-244-8-3.default.pod.cluster.local. A 10.244.8.3" \
	"a pod's record"
is "$(answer dns-version.cluster.local TXT)" 'dns-version.cluster.local. TXT "1.1.0"' "dns-version TXT"
is "$(status nothing.default.svc.cluster.local)" NXDOMAIN "a missing name: NXDOMAIN"
like "$(q +noall +authority nothing.default.svc.cluster.local)" \
	"^cluster.local.[[:space:]]+5[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns.dns.cluster.local. hostmaster.cluster.local." \
	"with the zone's SOA in the authority section"
is "$(status web.default.svc.cluster.local AAAA)/$(answer web.default.svc.cluster.local AAAA)" "NOERROR/" \
	"another type: NODATA"
like "$(q +noall +authority web.default.svc.cluster.local AAAA)" "SOA" "with the SOA too"
like "$(cat "$T/dns.log")" "kx-dns: udp 127.0.0.1:[0-9]+ web.default.svc.cluster.local. AAAA: NOERROR, 0 answers" \
	"-vv: a line per query"

# --- changes in the store -------------------------------------------------------------
t0=$(date +%s%N)
printf '%s\n' "apiVersion: v1" "kind: Service" "metadata: {name: api, namespace: default}" \
	"spec: {clusterIP: 10.96.7.20, ports: [{port: 80}]}" | kx-apply -f - >/dev/null
ok "a new service is answered within 2 s" wait_for 2 sh -c "dig @127.0.0.1 -p $PORT +short api.default.svc.cluster.local | grep -qx 10.96.7.20"
diag "seen after $((($(date +%s%N) - t0) / 1000000)) ms"
kx-delete service web >/dev/null
ok "a deleted one goes within 2 s" wait_for 2 sh -c "dig @127.0.0.1 -p $PORT +noall +comments web.default.svc.cluster.local | grep -q NXDOMAIN"

# the store goes away and comes back on the same port: the watches resume
port=${KX_SERVER##*:}
store_stop
sleep 0.5
is "$(answer api.default.svc.cluster.local)" "api.default.svc.cluster.local. A 10.96.7.20" \
	"with the store away, the index still answers"
bg kx-store --listen "127.0.0.1:$port" --data "$T/store" 2>"$T/store2.log"
wait_for 10 grep -q 'listening on http://' "$T/store2.log"
printf '%s\n' "apiVersion: v1" "kind: Service" "metadata: {name: late, namespace: default}" \
	"spec: {clusterIP: 10.96.7.30, ports: [{port: 80}]}" | kx-apply -f - >/dev/null
ok "after the store came back, its changes are seen again" wait_for 5 sh -c "dig @127.0.0.1 -p $PORT +short late.default.svc.cluster.local | grep -qx 10.96.7.30"

# kx-dns stopped while the store restarts with little history and changes
# move on past it: its resume gets 410 Gone, and it lists again, which also
# catches the deletion it never saw as an event
kill -STOP "$DNS_PID"
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
bg kx-store --listen "127.0.0.1:$port" --data "$T/store" --history 1 --compact-interval 100ms 2>"$T/store3.log"
wait_for 10 grep -q 'listening on http://' "$T/store3.log"
kx-delete service late >/dev/null
for i in 1 2 3; do
	printf '%s\n' "apiVersion: v1" "kind: ConfigMap" "metadata: {name: c$i, namespace: default}" | kx-apply -f - >/dev/null
done
sleep 0.5
kill -CONT "$DNS_PID"
ok "after 410 Gone the objects are listed again: a deletion missed is seen" \
	wait_for 5 sh -c "dig @127.0.0.1 -p $PORT +noall +comments late.default.svc.cluster.local | grep -q NXDOMAIN"
is "$(answer api.default.svc.cluster.local)" "api.default.svc.cluster.local. A 10.96.7.20" "and what stayed, stays"
like "$(cat "$T/dns.log")" "watch of /api/v1/services: too old resource version" "(it was 410 Gone, said at -v)"

# --- truncation: 60 endpoints do not fit in 512 bytes ----------------------------------
{
	printf '%s\n' "apiVersion: v1" "kind: Service" "metadata: {name: big, namespace: default}" \
		"spec: {clusterIP: None, ports: [{port: 80}]}" "---" "apiVersion: discovery.k8s.io/v1" "kind: EndpointSlice" \
		"metadata: {name: big-1, namespace: default, labels: {kubernetes.io/service-name: big}}" \
		"addressType: IPv4" "endpoints:"
	for i in $(seq 1 60); do echo "- addresses: [10.245.0.$i]"; done
} | kx-apply -f - >/dev/null
wait_for 3 sh -c "dig @127.0.0.1 -p $PORT +short big.default.svc.cluster.local | grep -q ."
out=$(q +noedns +ignore +notcp big.default.svc.cluster.local)
like "$out" "flags: qr aa tc rd ra;" "over UDP without EDNS0: the TC bit"
like "$out" "ANSWER: 0" "and no records"
out=$(q +noedns big.default.svc.cluster.local)
like "$out" "Truncated, retrying in TCP mode" "dig retries over TCP"
is "$(printf '%s\n' "$out" | grep -c '^big.default.svc.cluster.local.*IN.A')" 60 "and gets all 60 records"
is "$(q +bufsize=4096 +ignore +notcp +noall +answer big.default.svc.cluster.local | wc -l)" 60 \
	"an EDNS0 buffer of 4096 bytes takes them over UDP"
is "$(q +tcp +short api.default.svc.cluster.local)" "10.96.7.20" "plain TCP queries"

# --- forwarding -------------------------------------------------------------------
if [ -n "$UP" ]; then
	is "$(q +short outside.test)" "192.0.2.7" "a name outside the zone is forwarded to the upstream"
	is "$(q +tcp +short outside.test)" "192.0.2.7" "over TCP too"
	is "$(status nothere.test)" NXDOMAIN "the upstream's NXDOMAIN is passed on"
	is "$(answer ext.default.svc.cluster.local)" \
		"$(printf '%s\n' "ext.default.svc.cluster.local. CNAME outside.test." "outside.test. A 192.0.2.7")" \
		"an ExternalName alias comes with its target's address, from the upstream"
else
	for _ in 1 2 3 4; do echo "ok $((_n += 1)) # SKIP dnsmasq is not installed"; done
fi
# an upstream where nobody listens: SERVFAIL, quickly
printf '%s\n' '{"kind":"List","items":[]}' >"$T/empty.json"
bg kx-dns -f "$T/empty.json" --listen 127.0.0.1:0 --upstream 127.0.0.1:1 2>"$T/dns2.log"
wait_for 10 grep -q 'listening on' "$T/dns2.log"
P2=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/dns2.log" | head -1)
is "$(dig @127.0.0.1 -p "$P2" +time=5 +tries=1 +noall +comments outside.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" \
	SERVFAIL "no upstream answers: SERVFAIL"

# an upstream that is kx-dns itself is left out (it would loop)
for _ in 1 2 3 4 5; do
	X=$((20000 + RANDOM % 30000))
	bg kx-dns -f "$T/empty.json" --listen "127.0.0.1:$X" --upstream "127.0.0.1:$X" 2>"$T/dns4.log"
	wait_for 5 grep -q 'listening on\|cannot listen' "$T/dns4.log"
	grep -q 'listening on' "$T/dns4.log" && break
done
like "$(cat "$T/dns4.log")" "an upstream nameserver is this server itself: left out; names outside the cluster get SERVFAIL" \
	"an upstream that is the server itself is left out, with a notice"
is "$(dig @127.0.0.1 -p "$X" +time=3 +tries=1 +noall +comments outside.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" \
	SERVFAIL "and queries do not loop"

# --- malformed queries -------------------------------------------------------------------
# a header and a question that runs off the end of the message
formerr() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(bytes.fromhex("abcd01000001000000000000") + b"\x3fshort", ("127.0.0.1", int(sys.argv[1])))
r = s.recv(512)
print("%02x%02x rcode=%d qr=%d" % (r[0], r[1], r[3] & 15, r[2] >> 7))
EOF
}
is "$(formerr "$PORT")" "abcd rcode=1 qr=1" "a malformed query: FORMERR with its id"
is "$(answer api.default.svc.cluster.local)" "api.default.svc.cluster.local. A 10.96.7.20" "and the server answers on"
ok "kx-dns is still running" kill -0 "$DNS_PID"

# --- -f FILE, SIGHUP ------------------------------------------------------------------
kx-get services,endpointslices -A -o json >"$T/list.json"
bg kx-dns -f "$T/list.json" --listen 127.0.0.1:0 --upstream none --cluster-domain corp.example. --ttl 30 2>"$T/dns3.log"
F_PID=$BG_PID
wait_for 10 grep -q 'listening on' "$T/dns3.log"
P3=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/dns3.log" | head -1)
is "$(dig @127.0.0.1 -p "$P3" +noall +answer api.default.svc.corp.example | awk '{print $2, $5}')" "30 10.96.7.20" \
	"-f: answers from a file, in another cluster domain, with --ttl"
printf '%s\n' '{"kind":"List","items":[]}' >"$T/list.json"
kill -HUP "$F_PID"
ok "SIGHUP reads the file again" wait_for 3 sh -c "dig @127.0.0.1 -p $P3 +noall +comments api.default.svc.corp.example | grep -q NXDOMAIN"

# --- IPv6 -----------------------------------------------------------------------------
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
	bg kx-dns -f "$T/empty.json" --listen '[::1]:0' --upstream none 2>"$T/dns6.log"
	wait_for 10 grep -q 'listening on' "$T/dns6.log"
	P6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\).*/\1/p' "$T/dns6.log" | head -1)
	is "$(dig @::1 -p "$P6" +short dns-version.cluster.local TXT)" '"1.1.0"' "--listen [::1]:PORT answers over IPv6"
else
	echo "ok $((_n += 1)) # SKIP no IPv6 on loopback"
fi

# --- errors ---------------------------------------------------------------------------
fails "a bad --listen is a usage error" 2 kx-dns -f "$T/empty.json" --listen nowhere
like "$(kx-dns -f "$T/empty.json" --listen nowhere 2>&1)" '^kx-dns: --listen: "nowhere" is not IP:PORT$' "and says so"
fails "a port in use fails" 1 kx-dns -f "$T/empty.json" --listen "127.0.0.1:$PORT" --upstream none
fails "a bad --upstream is a usage error" 2 kx-dns -f "$T/empty.json" --upstream 'not an address'
fails "a bad --ttl too" 2 kx-dns --ttl -3
# a store not up yet (a boot, cron's @reboot): kx-dns says so once, waits,
# and answers once the store is there
SP=$(free_port)
bg kx-dns --server "http://127.0.0.1:$SP" --listen 127.0.0.1:0 --upstream none 2>"$T/wait.log"
WAITER=$BG_PID
ok "a store not up yet is waited for" wait_for 3 grep -q "cannot list api/v1/services: .*127.0.0.1:$SP.*; trying again every second" "$T/wait.log"
sleep 1.5
is "$(grep -c 'trying again' "$T/wait.log")" 1 "saying so once"
mkdir -p "$T/late"
bg kx-store --listen "127.0.0.1:$SP" --data "$T/late" 2>/dev/null
ok "kx-dns answers once the store is up" wait_for 10 grep -q 'listening on 127.0.0.1:' "$T/wait.log"
WP=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/wait.log")
like "$(dig @127.0.0.1 -p "${WP:-1}" +short kubernetes.default.svc.cluster.local 2>&1; dig @127.0.0.1 -p "${WP:-1}" +noall +comments nothere.default.svc.cluster.local 2>&1)" "NXDOMAIN" "from the store"
ok "--help" kx-dns --help
like "$(kx-dns --complete)" "--cluster-domain=" "--complete lists the options"
. "$TOP/completions/kx.bash"
COMP_WORDS=(kx-dns --ups) COMP_CWORD=1 COMPREPLY=()
_kx 2>/dev/null
is "${COMPREPLY[*]}" "--upstream=" "and bash completes them"

done_testing
