#!/usr/bin/env bash
# build.sh: the example image, made here from busybox-static, offline.
#
#   examples/image/build.sh DIR          an OCI image layout in DIR, image "httpd"
#   examples/image/build.sh DIR REF      ... and pushed to a registry as REF,
#                                        e.g. 127.0.0.1:5000/kx/httpd:1
#
# The image is one layer: /bin/busybox and its applets as symbolic links
# (sh, httpd, wget, ...), with PATH=/bin and "sh" as its command. umoci
# writes the layout, skopeo pushes it. `skopeo copy oci:DIR:httpd
# oci-archive:httpd.tar` and `kx-image load httpd.tar REF` do without a
# registry.
set -eu
dir=${1:?usage: build.sh DIR [REF]}
ref=${2:-}
bb=$(command -v busybox) || { echo "build.sh: needs busybox (busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# an empty image "httpd" in a new OCI image layout, unpacked as a bundle
rm -rf "$dir"
umoci init --layout "$dir"
umoci new --image "$dir:httpd"
umoci unpack --image "$dir:httpd" "$tmp/bundle"

# its root file system: busybox and links to it
r=$tmp/bundle/rootfs
mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/www"
chmod 1777 "$r/tmp"
cp "$bb" "$r/bin/busybox"
for a in sh ash cat echo env hostname httpd id ls nc ps sleep sed grep test true false wget; do
	ln -s busybox "$r/bin/$a"
done
echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
echo 'root:x:0:' >"$r/etc/group"
echo 'hello from kx' >"$r/www/index.html"

# back into the image as one layer
umoci repack --image "$dir:httpd" "$tmp/bundle"
umoci config --image "$dir:httpd" --config.env PATH=/bin --config.cmd sh \
	--config.workingdir / --architecture amd64 --os linux
umoci gc --layout "$dir"

# and into a registry
if [ -n "$ref" ]; then
	skopeo copy --quiet --dest-tls-verify=false "oci:$dir:httpd" "docker://$ref"
fi
