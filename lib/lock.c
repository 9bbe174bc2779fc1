#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"

int kx_lock_acquire(const char *path, int wait, kx_err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot open lock file \"%s\": %s", path,
				  strerror(errno));
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int err = errno;
		if (err == EINTR)
			continue;
		close(fd);
		if (err == EWOULDBLOCK)
			return kx_err_set(e, KX_EFAIL, "another run holds \"%s\"", path);
		return kx_err_set(e, KX_EFAIL, "cannot lock \"%s\": %s", path, strerror(err));
	}
	return fd;
}

void kx_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the flock */
}
