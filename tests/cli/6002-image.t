#!/usr/bin/env bash
# kx-image against a real docker-registry on loopback holding images built
# here from busybox-static: pull, ls, inspect, unpack with whiteouts across
# layers (gzip and zstd), layers stored once, a blob that does not match its
# digest, a truncated blob, path-escaping tar entries, load of an
# oci-archive, rm with garbage collection, basic auth, the progress bar.
. "$(dirname "$0")/lib.sh"

command -v docker-registry >/dev/null || skip_all "needs docker-registry"
command -v skopeo >/dev/null || skip_all "needs skopeo"
BB=$(command -v busybox) || skip_all "needs busybox-static"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# mkoci.py LAYOUT REFNAME LAYER...: an OCI image layout with one image.
# LAYER is DIR[:gz|zst|tar] or evil-dotdot|evil-abs|evil-link|evil-symlink.
cat >"$T/mkoci.py" <<'PY'
import hashlib, io, json, os, subprocess, sys, tarfile, gzip
layout, refname, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(layout + "/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(layout + "/blobs/sha256/" + d, "wb").write(data)
    return "sha256:" + d, len(data)
def tar_of_dir(path):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(path)):
            t.add(os.path.join(path, name), arcname=name)
    return b.getvalue()
def evil(kind):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        def add(name, data=b"x"):
            ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        add("ok.txt")
        if kind == "evil-dotdot": add("../../escaped.txt")
        if kind == "evil-abs": add("/tmp/abs-escaped-" + str(os.getpid()) + ".txt")
        if kind == "evil-link":
            ti = tarfile.TarInfo("hl"); ti.type = tarfile.LNKTYPE; ti.linkname = "../../etc/passwd"; t.addfile(ti)
        if kind == "evil-symlink":
            ti = tarfile.TarInfo("sl"); ti.type = tarfile.SYMTYPE; ti.linkname = os.environ["ESCAPE_DIR"]; t.addfile(ti)
            add("sl/through-symlink.txt")
    return b.getvalue()
layers, diffids = [], []
for s in specs:
    if s.startswith("evil-"):
        raw, comp = evil(s), "tar"
    else:
        path, _, comp = s.partition(":")
        comp = comp or "gz"
        raw = tar_of_dir(path)
    diffids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    if comp == "gz":
        data, mt = gzip.compress(raw, 6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    elif comp == "zst":
        data = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        mt = "application/vnd.oci.image.layer.v1.tar+zstd"
    else:
        data, mt = raw, "application/vnd.oci.image.layer.v1.tar"
    d, n = blob(data)
    layers.append({"mediaType": mt, "digest": d, "size": n})
config = {"architecture": os.environ.get("ARCH", "amd64"), "os": "linux", "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
          "rootfs": {"type": "layers", "diff_ids": diffids}}
cd, cn = blob(json.dumps(config).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
       "layers": layers}
md, mn = blob(json.dumps(man).encode())
open(layout + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
idx = {"schemaVersion": 2, "manifests": [{"mediaType": man["mediaType"], "digest": md, "size": mn,
       "annotations": {"org.opencontainers.image.ref.name": refname}}]}
open(layout + "/index.json", "w").write(json.dumps(idx))
print(md)
PY


# registry NAME [htpasswd-file]: a docker-registry on a free loopback port;
# sets REG (host:port) and REG_ROOT.
registry() {
	local port cfg=$T/$1.yml
	port=$(free_port)
	REG=127.0.0.1:$port
	REG_ROOT=$T/$1-data
	{
		printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
		printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$REG_ROOT"
		printf 'http:\n  addr: %s\n' "$REG"
		[ -n "${2-}" ] && printf 'auth:\n  htpasswd:\n    realm: kx-test\n    path: %s\n' "$2"
	} >"$cfg"
	bg docker-registry serve "$cfg" 2>"$T/$1.log"
	wait_for 10 curl -s -o /dev/null "http://$REG/v2/" || { diag "registry did not start"; cat "$T/$1.log"; }
}

# push LAYOUT NAME:TAG [skopeo options]
push() {
	local lay=$1 dest=$2
	shift 2
	skopeo copy --quiet --dest-tls-verify=false "$@" "oci:$lay:$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$lay/index.json")" "docker://$REG/$dest" >"$T/push.log" 2>&1 ||
		{ diag "push failed"; cat "$T/push.log"; }
}

# the digest of layer N of REPO:TAG as the registry holds it (skopeo
# compresses plain tar layers on the way)
reglayer() {
	curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$REG/v2/$1/manifests/$2" |
		jq -r ".layers[$3].digest"
}

# registry blob file of DIGEST
regblob() { echo "$REG_ROOT/docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/data"; }

S=$T/store
KI() { kx-image --root "$S" "$@"; }

# images: busybox; a two-layer image with whiteouts (gzip then zstd); a
# third sharing the busybox layer
mkdir -p "$T/bb/bin" "$T/l2/a" "$T/l2/d" "$T/l3/a" "$T/l3/d" "$T/l4/etc"
cp "$BB" "$T/bb/bin/busybox"
ln -s busybox "$T/bb/bin/sh"
echo keep >"$T/l3/a/keep"; echo gone >"$T/l3/a/gone"; echo old >"$T/l3/d/old"
touch "$T/l2/a/.wh.gone" "$T/l2/d/.wh..wh..opq"; echo new >"$T/l2/d/new"
echo shared >"$T/l4/etc/motd"
$PY "$T/mkoci.py" "$T/lay-bb" bb "$T/bb" >/dev/null
$PY "$T/mkoci.py" "$T/lay-wh" wh "$T/bb" "$T/l3:gz" "$T/l2:zst" >/dev/null
$PY "$T/mkoci.py" "$T/lay-sh" sh "$T/bb" "$T/l4:tar" >/dev/null

registry reg
push "$T/lay-bb" test/busybox:1
push "$T/lay-wh" test/wh:1
push "$T/lay-sh" test/shared:1

out=$(KI pull "$REG/test/busybox:1" 2>"$T/err")
like "$out" "^$REG/test/busybox:1	sha256:[0-9a-f]{64}$" "pull prints the name and the manifest digest"
is "$(cat "$T/err")" "" "and draws no progress bar in a pipe"
like "$(KI ls)" "^$REG/test/busybox:1	sha256:[0-9a-f]{64}	[0-9]+$" "ls lists the image"
dg=$(KI inspect "$REG/test/busybox:1" | jq -r .digest)
is "$dg" "$(printf '%s' "$out" | cut -f2)" "inspect gives the same digest"
is "$(KI inspect "${dg:7:12}" | jq -r .config.architecture)" "amd64" "inspect by digest prefix shows the config"
ok "the manifest is stored by its digest" test -f "$S/blobs/sha256/${dg#sha256:}"
ok "unpack writes a root file system" KI unpack "$REG/test/busybox:1" "$T/rootfs-bb"
is "$("$T/rootfs-bb/bin/busybox" echo hi)" "hi" "whose busybox runs"
ok "pull of an image already there" KI -v pull "$REG/test/busybox:1"
like "$(cat "$T/.out")" "already present" "downloads nothing again"

ok "pull an image with whiteouts in gzip and zstd layers" KI pull "$REG/test/wh:1"
KI unpack "$REG/test/wh:1" "$T/flat"
ok "a file from a lower layer stays" test -f "$T/flat/a/keep"
ok "a .wh. whiteout removes a lower layer's file" test ! -e "$T/flat/a/gone"
ok "an opaque directory hides the lower layer's content" test ! -e "$T/flat/d/old"
ok "and keeps its own" test -f "$T/flat/d/new"
ok "no whiteout files are left in the flat copy" sh -c "! find '$T/flat' -name '.wh.*' | grep -q ."
top=$(KI inspect "$REG/test/wh:1" | jq -r '.manifest.layers[2].digest')
is "$(stat -c '%F %t:%T' "$S/layers/sha256/${top#sha256:}/a/gone")" "character special file 0:0" \
	"the overlay form has a 0:0 character device as whiteout"
is "$($PY -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$S/layers/sha256/${top#sha256:}/d")" "y" \
	"and trusted.overlay.opaque on the opaque directory"
ok "pull an image sharing the busybox layer" KI pull "$REG/test/shared:1"
is "$(ls "$S/layers/sha256" | wc -l)" "4" "layers shared between images are stored once"

# a blob that does not match its digest
mkdir -p "$T/l5" && echo bad >"$T/l5/bad"
$PY "$T/mkoci.py" "$T/lay-bad" bad "$T/l5:gz" >/dev/null
push "$T/lay-bad" test/bad:1
bad=$(reglayer test/bad 1 0)
f=$(regblob "$bad")
$PY -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[-1]^=0xff; open(p,"wb").write(bytes(d))' "$f"
fails "a blob that does not match its digest is refused" 1 KI pull "$REG/test/bad:1"
like "$(cat "$T/.out")" "blob $bad does not match its digest" "naming the digest"
ok "the bad blob is not kept" test ! -e "$S/blobs/sha256/${bad#sha256:}"
ok "ls does not show the image" sh -c "! kx-image --root '$S' ls | grep -q test/bad"
is "$(ls "$S/tmp")" "" "nothing is left in tmp/"

# a truncated blob
mkdir -p "$T/l6" && head -c 100000 /dev/urandom >"$T/l6/big"
$PY "$T/mkoci.py" "$T/lay-tr" tr "$T/l6:gz" >/dev/null
push "$T/lay-tr" test/trunc:1
tr=$(reglayer test/trunc 1 0)
f=$(regblob "$tr")
truncate -s 100 "$f"
fails "a truncated download is refused" 1 KI pull "$REG/test/trunc:1"
like "$(cat "$T/.out")" "blob $tr is truncated" "naming the blob"
ok "a later pull does not trust it" test ! -e "$S/blobs/sha256/${tr#sha256:}"
ok "and ls does not show it" sh -c "! kx-image --root '$S' ls | grep -q test/trunc"

# path-escaping entries
mkdir -p "$T/outside"
export ESCAPE_DIR=$T/outside
for k in dotdot abs link symlink; do
	$PY "$T/mkoci.py" "$T/lay-$k" "$k" "evil-$k" >/dev/null
	push "$T/lay-$k" "test/evil-$k:1"
	fails "a layer with an escaping entry ($k) is refused" 1 KI pull "$REG/test/evil-$k:1"
	like "$(cat "$T/.out")" "escapes the root|symbolic link" "and the entry is named ($k)"
done
ok "nothing was written outside" sh -c "[ -z \"\$(ls '$T/outside')\" ] && ! ls /tmp/abs-escaped-* 2>/dev/null && [ ! -e '$S/escaped.txt' ]"
ok "no escaping image is listed" sh -c "! kx-image --root '$S' ls | grep -q evil"

fails "pull of a tag the registry does not have" 1 KI pull "$REG/test/busybox:nosuch"
like "$(cat "$T/.out")" "not found" "says not found"
fails "inspect of an unknown image" 1 KI inspect nosuch:1
like "$(cat "$T/.out")" 'image "nosuch:1" not found' "names it"
fails "a malformed reference" 1 KI pull "$REG/Test/UPPER"
like "$(cat "$T/.out")" "invalid image reference" "is refused"

# load an oci-archive as skopeo writes it
skopeo copy --quiet "oci:$T/lay-wh:wh" "oci-archive:$T/wh.tar:loaded:2" >/dev/null 2>&1
ok "load an oci-archive" kx-image --root "$T/store2" load "$T/wh.tar"
like "$(kx-image --root "$T/store2" ls)" "docker.io/library/loaded:2" "ls shows it by the archive's name"
ok "load with a name" kx-image --root "$T/store2" load "$T/wh.tar" "$REG/test/loaded:3"
kx-image --root "$T/store2" unpack loaded:2 "$T/flat2"
ok "and it unpacks with its whiteouts" sh -c "[ -f '$T/flat2/d/new' ] && [ ! -e '$T/flat2/d/old' ]"
echo garbage >"$T/garbage.tar"
fails "load of something that is not an archive" 1 kx-image --root "$T/store2" load "$T/garbage.tar"

# rm collects garbage only when no pull is in progress: a pull's blobs are
# in no index until it tags the image. A store held open (as a pull holds
# it) keeps rm waiting.
mkfifo "$T/hold"
flock -s "$S/gc.lock" sh -c "touch '$T/held'; cat '$T/hold' >/dev/null" &
holder=$!
wait_for 10 test -e "$T/held"
fails "rm waits while the store is open elsewhere" 124 timeout 1 kx-image --root "$S" rm "$REG/test/wh:1"
ok "and has removed nothing yet" sh -c "kx-image --root '$S' ls | grep -q test/wh"
echo >"$T/hold"
wait $holder

# rm with garbage collection: the shared busybox layer stays
ok "rm an image" KI rm "$REG/test/wh:1"
ok "ls no longer shows it" sh -c "! kx-image --root '$S' ls | grep -q test/wh"
is "$(ls "$S/layers/sha256" | wc -l)" "2" "its own layers are gone, the shared ones stay"
ok "the others still unpack" KI unpack "$REG/test/shared:1" "$T/flat3"
fails "rm of an unknown image" 1 KI rm nosuch:1

# the progress bar on a terminal
if command -v script >/dev/null; then
	script -qec "kx-image --root '$T/store3' pull $REG/test/busybox:1" /dev/null >"$T/tty.out" 2>&1
	like "$(cat "$T/tty.out")" "MiB" "a progress bar on a terminal"
fi

# an image index: the linux/amd64 entry is picked, whatever its place
ARCH=arm64 $PY "$T/mkoci.py" "$T/lay-arm" arm "$T/l4" >/dev/null
push "$T/lay-arm" test/multi:arm
push "$T/lay-bb" test/multi:amd
desc() { # desc TAG ARCH: an index entry for test/multi:TAG
	curl -s -D "$T/hdr" -o "$T/body" -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$REG/v2/test/multi/manifests/$1"
	jq -nc --arg d "$(tr -d '\r' <"$T/hdr" | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')" \
		--argjson n "$(stat -c %s "$T/body")" --arg a "$2" \
		'{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$n,platform:{os:"linux",architecture:$a}}'
}
arm=$(desc arm arm64) amd=$(desc amd amd64)
putindex() { # putindex TAG ENTRY...
	local tag=$1
	shift
	printf '%s\n' "$@" | jq -sc '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",manifests:.}' >"$T/index.json"
	curl -s -f -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
		--data-binary @"$T/index.json" "http://$REG/v2/test/multi/manifests/$tag" >/dev/null
}
putindex 1 "$arm" "$amd"
ok "pull of an image index" KI pull "$REG/test/multi:1"
is "$(KI inspect "$REG/test/multi:1" | jq -r .config.architecture)" "amd64" "resolves to the linux/amd64 image"
is "$(KI inspect "$REG/test/multi:1" | jq -r .digest)" "$(printf '%s' "$amd" | jq -r .digest)" "the amd64 manifest, not the first one"
putindex armonly "$arm"
fails "an index without linux/amd64" 1 KI pull "$REG/test/multi:armonly"
like "$(cat "$T/.out")" "linux/arm64" "is refused, listing the platforms it has"

# a registry named by a host name that is not loopback by its name is
# reached over HTTPS unless --insecure-registry names it
host=$(hostname)
if getent hosts "$host" | grep -q '^127\.'; then
	port=${REG##*:}
	fails "a non-loopback name is reached over HTTPS" 1 KI pull "$host:$port/test/busybox:1"
	ok "--insecure-registry allows plain HTTP" KI pull --insecure-registry "$host:$port" "$host:$port/test/busybox:1"
	like "$(KI ls)" "^$host:$port/test/busybox:1" "and stores the image under that name"
else
	diag "skipping --insecure-registry: $host does not resolve to loopback"
fi

# basic auth
pw=$($PY -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' 2>/dev/null | sed 's/^\$2b\$/$2a$/')
if [ -n "$pw" ]; then
	echo "kx:$pw" >"$T/htpasswd"
	registry authreg "$T/htpasswd"
	push "$T/lay-bb" test/busybox:1 --dest-creds kx:s3cret
	fails "a registry wanting credentials without them" 1 KI pull "$REG/test/busybox:1"
	like "$(cat "$T/.out")" "use --creds" "says how to give them"
	ok "pull with basic auth" KI pull --creds kx:s3cret "$REG/test/busybox:1"
	fails "wrong credentials are refused" 1 KI pull --creds kx:wrong "$REG/test/busybox:1"
fi

# bearer tokens, through a small proxy in front of the registry that wants
# one; it also stalls blob downloads half way while $T/slow exists, to
# interrupt a pull
registry reg3
cat >"$T/bearer.py" <<'PY'
import http.server, json, os, sys, time, urllib.request, urllib.error
port, upstream, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TOKEN = "kx-token-42"
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path.startswith("/token"):
            if "scope=repository" not in self.path: return self.send(400, b"no scope")
            return self.send(200, json.dumps({"token": TOKEN}).encode(), [("Content-Type", "application/json")])
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            ch = 'Bearer realm="http://127.0.0.1:%d/token",service="kx-test",scope="repository:test/busybox:pull"' % port
            return self.send(401, b'{"errors":[]}', [("WWW-Authenticate", ch)])
        req = urllib.request.Request(upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            r = urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:
            return self.send(e.code, e.read())
        body = r.read()
        self.send_response(200)
        for k in ("Content-Type", "Docker-Content-Digest"):
            if r.headers.get(k): self.send_header(k, r.headers[k])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if "/blobs/" in self.path and len(body) > 100000 and os.path.exists(slow):
            self.wfile.write(body[: len(body) // 2]); self.wfile.flush(); time.sleep(60); return
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
push "$T/lay-bb" test/busybox:1
bport=$(free_port)
bg $PY "$T/bearer.py" "$bport" "http://$REG" "$T/slow"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$bport/v2/"
ok "pull with a bearer token from the registry's realm" KI pull "127.0.0.1:$bport/test/busybox:1"

# an interrupted pull leaves nothing ls shows or a later pull trusts
touch "$T/slow"
S4=$T/store4
kx-image --root "$S4" pull "127.0.0.1:$bport/test/busybox:1" >/dev/null 2>&1 &
ipid=$!
wait_for 20 sh -c "ls '$S4/tmp' | grep -q blob-"
kill -9 $ipid
wait $ipid 2>/dev/null
is "$(kx-image --root "$S4" ls)" "" "an interrupted pull leaves no image"
bad=$(cd "$S4/blobs/sha256" && for f in *; do [ -e "$f" ] && [ "$(sha256sum <"$f" | cut -c1-64)" != "$f" ] && echo "$f"; done)
is "$bad" "" "and every blob in the store matches its digest"
ok "the half-downloaded layer is not among them" sh -c "! find '$S4/blobs' -size +100k | grep -q ."
rm -f "$T/slow"
ok "a later pull completes" kx-image --root "$S4" pull "127.0.0.1:$bport/test/busybox:1"
like "$(kx-image --root "$S4" ls)" "test/busybox:1" "and lists the image"

done_testing
