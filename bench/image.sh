#!/usr/bin/env bash
# bench/image.sh: pull + unpack throughput from a docker-registry on
# loopback. kx-image pull + kx-image unpack against skopeo copy (to an OCI
# layout) + umoci unpack, of the same three-layer image (busybox-static,
# /usr/lib/python3.11, /usr/share/perl: about 25 MB compressed, 75 MB
# unpacked). Prints MB/s of compressed image and the ratio.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/bin:$PATH
RUNS=${RUNS:-3}
for c in docker-registry skopeo umoci busybox python3; do
	command -v $c >/dev/null || { echo "bench/image.sh: needs $c" >&2; exit 1; }
done
T=$(mktemp -d /tmp/kx-bench.XXXXXX)
REG_PID=
trap '[ -n "$REG_PID" ] && kill $REG_PID; rm -rf "$T"' EXIT

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
port=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
REG=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
	"$T/reg" "$REG" >"$T/reg.yml"
docker-registry serve "$T/reg.yml" 2>"$T/reg.log" &
REG_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done

# the image, built with umoci
umoci init --layout "$T/oci" >/dev/null
umoci new --image "$T/oci:bench" >/dev/null
umoci unpack --image "$T/oci:bench" "$T/bundle" >/dev/null
mkdir -p "$T/bundle/rootfs/bin"
cp "$(command -v busybox)" "$T/bundle/rootfs/bin/busybox"
umoci repack --image "$T/oci:bench" "$T/bundle" >/dev/null
for d in /usr/lib/python3.11 /usr/share/perl; do
	mkdir -p "$T/bundle/rootfs$(dirname $d)"
	cp -a "$d" "$T/bundle/rootfs$d"
	umoci repack --image "$T/oci:bench" "$T/bundle" >/dev/null
done
skopeo copy --quiet --dest-tls-verify=false "oci:$T/oci:bench" "docker://$REG/bench/img:1" >/dev/null
size=$(du -sb "$T/reg/docker/registry/v2/blobs" | cut -f1)
echo "image: $(echo "scale=1; $size/1048576" | bc) MB compressed in the registry"

best() { sort -n | head -1; }
now() { date +%s%N; }
kx=() sk=() kp=()
for ((r = 0; r < RUNS; r++)); do
	rm -rf "$T/kx" "$T/kxroot" "$T/sk" "$T/skroot"
	t0=$(now)
	kx-image --root "$T/kx" -q pull "$REG/bench/img:1" >/dev/null
	tp=$(now)
	kx-image --root "$T/kx" unpack "$REG/bench/img:1" "$T/kxroot"
	t1=$(now)
	skopeo copy --quiet --src-tls-verify=false "docker://$REG/bench/img:1" "oci:$T/sk:img" >/dev/null &&
		umoci unpack --image "$T/sk:img" "$T/skroot" >/dev/null 2>&1
	t2=$(now)
	kx+=($(((t1 - t0) / 1000000)))
	kp+=($(((tp - t0) / 1000000)))
	sk+=($(((t2 - t1) / 1000000)))
done
kxms=$(printf '%s\n' "${kx[@]}" | best)
skms=$(printf '%s\n' "${sk[@]}" | best)
kpms=$(printf '%s\n' "${kp[@]}" | best)
[ -x "$T/kxroot/bin/busybox" ] && [ -x "$T/skroot/rootfs/bin/busybox" ] || { echo "an unpack failed" >&2; exit 1; }
printf '%-34s %7d ms  %7.1f MB/s\n' "kx-image pull (layers for overlayfs)" "$kpms" "$(echo "$size/1048576/($kpms/1000)" | bc -l)"
printf '%-34s %7d ms  %7.1f MB/s\n' "kx-image pull + unpack (flat too)" "$kxms" "$(echo "$size/1048576/($kxms/1000)" | bc -l)"
printf '%-34s %7d ms  %7.1f MB/s\n' "skopeo copy + umoci unpack" "$skms" "$(echo "$size/1048576/($skms/1000)" | bc -l)"
printf '%-34s %7.2f x\n' "pull speed / skopeo+umoci" "$(echo "$skms/$kpms" | bc -l)"
printf '%-34s %7.2f x\n' "pull+unpack speed / skopeo+umoci" "$(echo "$skms/$kxms" | bc -l)"
# pull alone also unpacks each layer once for overlayfs (kx-node-run's form)
rm -rf "$T/kx"
t0=$(now)
kx-image --root "$T/kx" -q --no-unpack pull "$REG/bench/img:1" >/dev/null
t1=$(now)
printf '%-34s %7d ms  (download and verify only)\n' "kx-image pull --no-unpack" "$(((t1 - t0) / 1000000))"
