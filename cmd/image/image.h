/* image.h: what kx-image's files share. */
#ifndef KX_IMAGE_H
#define KX_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "imagestore.h"

struct pull_opts {
	kx_imagestore *store;
	const char *creds;          /* USER:PASSWORD, or NULL */
	const char **insecure;      /* registries reached over plain HTTP */
	int ninsecure;
	int progress;               /* draw a progress bar on stderr */
	int no_unpack;
	int64_t bytes;              /* downloaded, for the summary */
	char digest[80];            /* the manifest pulled */
};

/* Pull name into the store; its canonical name into out_ref. */
int image_pull(struct pull_opts *o, const char *name, char *out_ref, size_t n, kx_err *e);
/* Size in bytes of the blob digest in the store, 0 when absent. */
int64_t image_size_of(kx_imagestore *s, const char *digest);

#endif
