/* copier.c: a container's log copier. It writes the container's stdout
 * and stderr in the CRI log format (what kubelet and containerd write under
 * /var/log/pods), one file per run of the container, N.log with N its
 * restartCount. It runs as a program of its own (copier/main.c,
 * libexec/kx/copy-log), one per container, outliving kx-node-run; it links
 * nothing but libc and lib/clock, so that starting it is cheap. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "clock.h"
#include "noderun.h"

#define LINE_MAX_BYTES (16 << 10) /* longer lines are split as partial (P) */

/* ---- the copier ------------------------------------------------------------ */

struct stream {
	int fd;
	const char *name;
	char buf[LINE_MAX_BYTES];
	size_t len;
};

static int emit(FILE **f, const char *path, int64_t max, int64_t *size, const char *stream,
		const char *data, size_t n, int partial)
{
	struct timespec ts;
	char t[48];
	int w;

	clock_gettime(CLOCK_REALTIME, &ts);
	kx_time_format_micro(&ts, t, sizeof t);
	if (max > 0 && *size >= max) {
		char old[4200];
		fclose(*f);
		snprintf(old, sizeof old, "%s.1", path);
		rename(path, old);
		*f = fopen(path, "a");
		*size = 0;
		if (!*f)
			return -1;
	}
	w = fprintf(*f, "%s %s %c %.*s\n", t, stream, partial ? 'P' : 'F', (int)n, data);
	fflush(*f);
	if (w > 0)
		*size += w;
	return w < 0 ? -1 : 0;
}

int nr_copy_log(const char *path, int64_t max)
{
	struct stream s[2] = {{3, "stdout", {0}, 0}, {4, "stderr", {0}, 0}};
	FILE *f = fopen(path, "a");
	struct stat st;
	int64_t size = 0;
	int open_n = 2;

	if (!f)
		return 1;
	if (fstat(fileno(f), &st) == 0)
		size = st.st_size;
	while (open_n > 0) {
		struct pollfd pf[2];
		for (int i = 0; i < 2; i++)
			pf[i] = (struct pollfd){s[i].fd, POLLIN, 0};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (s[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(s[i].fd, s[i].buf + s[i].len, sizeof s[i].buf - s[i].len);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				if (s[i].len)
					emit(&f, path, max, &size, s[i].name, s[i].buf, s[i].len, 0);
				s[i].len = 0;
				close(s[i].fd);
				s[i].fd = -1;
				open_n--;
				continue;
			}
			s[i].len += (size_t)n;
			char *start = s[i].buf, *nl;
			while ((nl = memchr(start, '\n', s[i].len - (size_t)(start - s[i].buf)))) {
				emit(&f, path, max, &size, s[i].name, start, (size_t)(nl - start), 0);
				start = nl + 1;
			}
			s[i].len -= (size_t)(start - s[i].buf);
			memmove(s[i].buf, start, s[i].len);
			if (s[i].len == sizeof s[i].buf) {
				emit(&f, path, max, &size, s[i].name, s[i].buf, s[i].len, 1);
				s[i].len = 0;
			}
		}
	}
	fclose(f);
	return 0;
}
