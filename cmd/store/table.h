/* table.h: the meta.k8s.io/v1 Table form of a get or a list, which kubectl
 * asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) to print
 * each kind's own columns. The columns and cells come from lib/print, the
 * same code kx-get prints with. */
#ifndef KX_STORE_TABLE_H
#define KX_STORE_TABLE_H

#include <time.h>
#include <jv.h>

#include "kinds.h"

/* Does this Accept header ask for a Table (v1 or v1beta1)? */
int table_wanted(const char *accept);
/* The Table for obj (consumed): one object, or a list with items.
 * include is the includeObject parameter: "None", "Metadata" (default,
 * also for NULL) or "Object". */
jv table_of(const kx_kind *k, jv obj, const char *include, time_t now);

#endif
