#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"

int kx_err_set(kx_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->status = status;
	e->http = 0;
	e->reason[0] = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int kx_err_wrap(kx_err *e, const char *fmt, ...)
{
	char ctx[512], old[sizeof e->msg];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	snprintf(e->msg, sizeof e->msg, "%s: %s", ctx, old);
	if (!e->status)
		e->status = KX_EFAIL;
	return -1;
}

void kx_err_clear(kx_err *e)
{
	memset(e, 0, sizeof *e);
}

void kx_err_print(const kx_err *e)
{
	kx_log_error("%s", e->msg[0] ? e->msg : "unknown error");
}
