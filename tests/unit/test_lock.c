/* Unit tests of lib/lock: a second holder is refused at once. */
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"
#include "tap.h"

int main(void)
{
	kx_err e = KX_ERR_INIT;
	char path[] = "/tmp/kx-lock-test.XXXXXX";
	int tmp = mkstemp(path);
	int a, b;

	close(tmp);
	a = kx_lock_acquire(path, 0, &e);
	ok(a >= 0, "first run takes the lock");
	b = kx_lock_acquire(path, 0, &e);
	ok(b < 0, "a second run is refused without waiting");
	ok(strstr(e.msg, "another run holds") != NULL, "and told why: %s", e.msg);
	kx_lock_release(a);
	b = kx_lock_acquire(path, 0, &e);
	ok(b >= 0, "after release the lock is free again");
	kx_lock_release(b);
	ok(kx_lock_acquire("/nonexistent/dir/lock", 0, &e) < 0, "an unopenable path is an error: %s", e.msg);
	unlink(path);
	return done_testing();
}
