/* imagestore.h: a content-addressed store of OCI images on local disk.
 *
 * The store under ROOT is itself an OCI image layout, so skopeo and umoci
 * can read it too:
 *   ROOT/oci-layout, ROOT/index.json  one descriptor per image, its name in
 *                                     the annotation org.opencontainers.image.ref.name
 *   ROOT/blobs/sha256/HEX             manifests, configs and layers, each
 *                                     verified against its digest before it
 *                                     is renamed into place
 *   ROOT/layers/sha256/HEX/           each layer unpacked once, in overlayfs
 *                                     form (whiteouts as 0:0 character
 *                                     devices, opaque directories with the
 *                                     trusted.overlay.opaque xattr), ready to
 *                                     be a lowerdir
 *   ROOT/tmp/                         downloads and unpacks in progress
 * Every file is written to tmp/ and renamed, so an interrupted pull leaves
 * nothing that `ls` lists or that a later pull trusts. index.json changes
 * under an flock on ROOT/lock. Layers shared by images are stored once.
 * An open store holds an flock on ROOT/gc.lock shared; garbage collection
 * (rm) takes it exclusive, so it waits for pulls in progress.
 *
 * What kx-node-run needs: kx_imagestore_open, kx_imagestore_resolve (ref ->
 * manifest and config), kx_imagestore_layer_dir (a layer's unpacked
 * directory, for overlayfs lowerdir=, in the manifest's order) and
 * kx_imagestore_unpack (a flat copy). */
#ifndef KX_IMAGESTORE_H
#define KX_IMAGESTORE_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

struct kx_err;

#define KX_IMAGE_DEFAULT_ROOT "/var/lib/kx/images"
#define KX_MAX_MANIFEST (4u << 20)  /* manifests, indexes, configs */

#define KX_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define KX_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define KX_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define KX_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* --- references ----------------------------------------------------------- */

/* A parsed image reference: [REGISTRY/]REPOSITORY[:TAG][@DIGEST].
 * "busybox" is docker.io/library/busybox:latest, as docker reads it. */
struct kx_imageref {
	char registry[256];   /* "docker.io", "127.0.0.1:5000" */
	char repo[512];       /* "library/busybox" */
	char tag[128];        /* "" when only a digest was given */
	char digest[80];      /* "sha256:..." or "" */
	char name[1024];      /* canonical: registry/repo:tag or registry/repo@digest */
};
int kx_imageref_parse(struct kx_imageref *r, const char *s, struct kx_err *e);
/* The registry's API host: docker.io is served by registry-1.docker.io. */
const char *kx_imageref_host(const struct kx_imageref *r);

/* True when d is "sha256:" and 64 lower-case hex digits. */
int kx_digest_valid(const char *d);
/* "sha256:<hex>" of n bytes into out (>= 72 bytes). */
void kx_digest_of(const void *data, size_t n, char *out);

/* From an image index (OCI index or Docker manifest list; borrowed), the
 * descriptor (a new jv) of the manifest for os/arch, or jv_invalid() with e
 * listing the platforms it has. */
jv kx_image_pick_platform(jv index, const char *os, const char *arch, struct kx_err *e);

/* --- the store -------------------------------------------------------------- */

typedef struct kx_imagestore kx_imagestore;

/* Open (creating its directories) the store at root. */
kx_imagestore *kx_imagestore_open(const char *root, struct kx_err *e);
void kx_imagestore_close(kx_imagestore *s);
const char *kx_imagestore_root(const kx_imagestore *s);

/* Path of a verified blob in buf; 0 when it is present, -1 when not. */
int kx_imagestore_blob_path(kx_imagestore *s, const char *digest, char *buf, size_t n);
/* Read a small blob (a manifest or config, at most KX_MAX_MANIFEST) and
 * parse it as JSON; jv_invalid() with e when missing or malformed. */
jv kx_imagestore_blob_json(kx_imagestore *s, const char *digest, struct kx_err *e);

/* Writing a blob: bytes go to a file under tmp/ while being hashed; commit
 * checks the size and the sha256 and only then renames it into blobs/. A
 * wrong digest is refused with a message naming both digests. */
typedef struct kx_blob_writer kx_blob_writer;
/* size < 0: not known in advance. */
kx_blob_writer *kx_blob_begin(kx_imagestore *s, const char *digest, int64_t size, struct kx_err *e);
int kx_blob_write(kx_blob_writer *w, const void *data, size_t n, struct kx_err *e);
int64_t kx_blob_written(const kx_blob_writer *w);
/* Frees w in every case. */
int kx_blob_commit(kx_blob_writer *w, struct kx_err *e);
void kx_blob_abort(kx_blob_writer *w);
/* Store n bytes whose digest is computed here; its digest into out (>= 72). */
int kx_imagestore_put(kx_imagestore *s, const void *data, size_t n, char *out, struct kx_err *e);

/* Name an image: ref (canonical name) -> the manifest descriptor (consumed:
 * an object with mediaType, digest, size). Replaces an older entry. */
int kx_imagestore_tag(kx_imagestore *s, const char *ref, jv desc, struct kx_err *e);
/* Every image: an array of {"ref","digest","size"} (size: config + layers),
 * sorted by ref. */
jv kx_imagestore_list(kx_imagestore *s, struct kx_err *e);
/* Find an image by reference (parsed and made canonical), by its manifest
 * digest, or by a unique prefix of that digest's hex. Returns an object:
 * {"ref","digest","manifest":{...},"config":{...}}; jv_invalid() with e
 * ("image \"x\" not found") otherwise. */
jv kx_imagestore_resolve(kx_imagestore *s, const char *ref, struct kx_err *e);
/* Remove the name, then every blob and unpacked layer no image uses.
 * Like kx_imagestore_gc it first waits until no other process has the
 * store open (see kx_imagestore_open). */
int kx_imagestore_remove(kx_imagestore *s, const char *ref, struct kx_err *e);
/* Remove unreferenced blobs, layers and stale temporary files. Every open
 * store holds ROOT/gc.lock shared, so that the blobs of a pull that are
 * committed but not yet tagged are never collected; this waits for the
 * lock exclusive. Do not call it with the same root open twice in one
 * process. */
int kx_imagestore_gc(kx_imagestore *s, struct kx_err *e);

/* The layer's directory in overlayfs form (unpacking it first when
 * needed), in buf. The blob must be present and is verified already. */
int kx_imagestore_layer_dir(kx_imagestore *s, const char *digest, char *buf, size_t n,
			    struct kx_err *e);
/* Unpack every layer of the image named ref, in order, into dir (created
 * if missing), applying whiteouts: a flat root file system. */
int kx_imagestore_unpack(kx_imagestore *s, const char *ref, const char *dir, struct kx_err *e);

/* --- one layer ---------------------------------------------------------------- */

enum kx_unpack_mode {
	KX_UNPACK_FLAT,     /* whiteouts delete what lower layers made in dir */
	KX_UNPACK_OVERLAY,  /* whiteouts become overlayfs whiteouts */
};
/* Unpack the tar (plain, gzip or zstd) in file path into dir. An entry
 * that would land outside dir (an absolute name, "..", a hard link to
 * outside, a path through a symbolic link) stops the unpack with an error
 * naming the entry. */
int kx_layer_unpack(const char *path, const char *dir, enum kx_unpack_mode mode,
		    struct kx_err *e);

#endif
