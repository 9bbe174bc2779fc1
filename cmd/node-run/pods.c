/* pods.c: running the pods bound to this node. */
#include "noderun.h"
#include "err.h"
#include <unistd.h>

void nr_pods_init(struct nr_config *c) { (void)c; }
int nr_pods_sync(kx_client *cl, struct nr_config *c, kx_err *e) { return 0; }
void nr_pods_wait(struct nr_config *c, int64_t ms) { if (ms > 0) usleep((useconds_t)ms * 1000); }
