/* buf.h: one growable byte buffer, always NUL-terminated, with a hard size
 * limit for data that comes from outside (max == 0 means no limit). */
#ifndef KX_BUF_H
#define KX_BUF_H

#include <stddef.h>

typedef struct kx_buf {
	char *p;     /* NULL until the first append; p[len] == 0 after */
	size_t len;
	size_t cap;
	size_t max;  /* refuse to grow past this many bytes; 0: unlimited */
} kx_buf;

#define KX_BUF_INIT {NULL, 0, 0, 0}

/* Append n bytes; -1 (and nothing appended) if max would be exceeded or
 * memory ran out. */
int kx_buf_add(kx_buf *b, const void *data, size_t n);
int kx_buf_adds(kx_buf *b, const char *s);
int kx_buf_addf(kx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kx_buf_addc(kx_buf *b, char c);
void kx_buf_reset(kx_buf *b);     /* len = 0, keeps memory */
void kx_buf_free(kx_buf *b);
/* Hand the bytes to the caller (who frees them) and reset b. Never NULL. */
char *kx_buf_steal(kx_buf *b);
const char *kx_buf_str(const kx_buf *b); /* "" when empty */

/* Read a whole file ("-" is stdin) into b, refusing more than max bytes. */
struct kx_err;
int kx_buf_read_file(kx_buf *b, const char *path, size_t max, struct kx_err *e);
int kx_buf_read_fd(kx_buf *b, int fd, size_t max, struct kx_err *e);

#endif
