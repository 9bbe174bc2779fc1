#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

const char *kx_progname = "kx";
int kx_verbose;

void kx_log_init(const char *argv0)
{
	const char *s = argv0 ? strrchr(argv0, '/') : NULL;

	kx_progname = s ? s + 1 : (argv0 ? argv0 : "kx");
}

static void vlog(const char *fmt, va_list ap)
{
	char line[4096];
	int n = snprintf(line, sizeof line, "%s: ", kx_progname);

	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	/* one write per line so that concurrent threads do not interleave */
	fprintf(stderr, "%s\n", line);
}

void kx_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void kx_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void kx_log_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (kx_verbose < level)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
