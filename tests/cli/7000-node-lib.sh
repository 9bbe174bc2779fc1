# 7000-node-lib.sh: what the kx-node-run tests share (sourced after lib.sh):
# skips unless root with docker-registry, skopeo, the CNI plugins and
# busybox; builds a busybox image and pushes it to a registry on loopback
# ($IMG); a bridge ($BR) and pod CIDR ($NET.0/24) of this test's own; NR
# runs kx-node-run with them, NR_exec does so in place of the shell (for bg),
# and everything is torn down at exit.
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v docker-registry >/dev/null || skip_all "needs docker-registry"
command -v skopeo >/dev/null || skip_all "needs skopeo"
[ -x /usr/lib/cni/bridge ] || skip_all "needs the CNI plugins"
BB=$(command -v busybox) || skip_all "needs busybox-static"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# an OCI layout holding one busybox image
mkdir -p "$T/bb/bin" "$T/bb/tmp" "$T/bb/etc"
cp "$BB" "$T/bb/bin/busybox"
for a in sh sleep httpd cat echo ls wget env id hostname true false dd touch rm head test; do
	ln -s busybox "$T/bb/bin/$a"
done
cat >"$T/mkoci.py" <<'PY'
import hashlib, io, json, os, sys, tarfile, gzip
lay, src = sys.argv[1], sys.argv[2]
os.makedirs(lay + "/blobs/sha256", exist_ok=True)
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open(lay + "/blobs/sha256/" + d, "wb").write(b)
    return {"digest": "sha256:" + d, "size": len(b)}
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    for n in sorted(os.listdir(src)):
        t.add(os.path.join(src, n), arcname=n)
raw = raw.getvalue()
layer = dict(blob(gzip.compress(raw, 6, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
cfg = dict(blob(json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"], "WorkingDir": "/"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()),
    mediaType="application/vnd.oci.image.config.v1+json")
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": [layer]}
m = dict(blob(json.dumps(man).encode()), mediaType=man["mediaType"], annotations={"org.opencontainers.image.ref.name": "bb"})
open(lay + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(lay + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [m]}))
PY
$PY "$T/mkoci.py" "$T/lay" "$T/bb" || skip_all "cannot build the image"

free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
REG=127.0.0.1:$(free_port)
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
	"$T/reg" "$REG" >"$T/reg.yml"
bg docker-registry serve "$T/reg.yml" 2>"$T/reg.log"
wait_for 10 curl -s -o /dev/null "http://$REG/v2/" || diag "the registry did not start"
skopeo copy --quiet --dest-tls-verify=false "oci:$T/lay:bb" "docker://$REG/test/bb:1" >"$T/push.log" 2>&1 ||
	diag "push failed: $(cat "$T/push.log")"
IMG=$REG/test/bb:1

# the node: its own bridge and pod network
BR=kxb$$
NET=10.$((100 + $$ % 100)).$((($$ / 100) % 250))
ROOT=$T/root
NR() { kx-node-run --node t$$ --root "$ROOT" --log-dir "$T/logs" --pod-cidr "$NET.0/24" \
	--bridge "$BR" --port 0 --cluster-dns 10.96.0.10 "$@"; }
# in the background the subshell becomes the agent, so that its PID is the agent's
NR_exec() { exec kx-node-run --node t$$ --root "$ROOT" --log-dir "$T/logs" --pod-cidr "$NET.0/24" \
	--bridge "$BR" --port 0 --cluster-dns 10.96.0.10 "$@"; }
cleanup() {
	[ -n "${AGENT:-}" ] && kill -9 "$AGENT" 2>/dev/null
	echo '{"kind":"List","apiVersion":"v1","items":[]}' >"$T/none.json"
	NR -f "$T/none.json" --once
	ip link del "$BR"
	for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		rmdir "$h/besteffort" "$h/burstable" "$h" 2>/dev/null
	done
}
at_exit cleanup

