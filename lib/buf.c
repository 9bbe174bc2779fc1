#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"

static int grow(kx_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->max && need > b->max)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int kx_buf_add(kx_buf *b, const void *data, size_t n)
{
	if (grow(b, b->len + n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int kx_buf_adds(kx_buf *b, const char *s)
{
	return kx_buf_add(b, s, strlen(s));
}

int kx_buf_addc(kx_buf *b, char c)
{
	return kx_buf_add(b, &c, 1);
}

int kx_buf_addf(kx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, b->len + n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

void kx_buf_reset(kx_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

void kx_buf_free(kx_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *kx_buf_steal(kx_buf *b)
{
	char *p = b->p ? b->p : strdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *kx_buf_str(const kx_buf *b)
{
	return b->p ? b->p : "";
}

int kx_buf_read_fd(kx_buf *b, int fd, size_t max, kx_err *e)
{
	char chunk[65536];
	ssize_t n;
	size_t old = b->max;

	b->max = max;
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			b->max = old;
			return kx_err_set(e, KX_EFAIL, "read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		if (kx_buf_add(b, chunk, n) < 0) {
			b->max = old;
			return kx_err_set(e, KX_EFAIL, "larger than %zu bytes", max);
		}
	}
	b->max = old;
	if (!b->p)
		kx_buf_add(b, "", 0);
	return 0;
}

int kx_buf_read_file(kx_buf *b, const char *path, size_t max, kx_err *e)
{
	int fd, rc;

	if (!strcmp(path, "-"))
		return kx_buf_read_fd(b, 0, max, e) < 0 ? kx_err_wrap(e, "stdin") : 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot open \"%s\": %s", path, strerror(errno));
	rc = kx_buf_read_fd(b, fd, max, e);
	close(fd);
	if (rc < 0)
		return kx_err_wrap(e, "\"%s\"", path);
	return 0;
}
