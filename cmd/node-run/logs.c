#include "noderun.h"
int nr_serve_start(const struct nr_config *c, struct kx_err *e) { return 0; }
void nr_serve_stop(void) {}
