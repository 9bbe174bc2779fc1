/* lock.h: one run at a time. A one-shot pass takes an exclusive flock on a
 * lock file so that overlapping cron runs cannot race. */
#ifndef KX_LOCK_H
#define KX_LOCK_H

struct kx_err;

/* Open (creating if needed) and lock path. With wait, block until the lock
 * is free; without, fail at once with "another run holds PATH". Returns the
 * descriptor to keep open for the whole run, or -1 with e filled. */
int kx_lock_acquire(const char *path, int wait, struct kx_err *e);
void kx_lock_release(int fd);

#endif
