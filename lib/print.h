/* print.h: objects as kubectl prints them: tables with each kind's columns,
 * the identity kubectl names objects by, JSON, YAML and name output.
 *
 * Row and header functions return jv arrays of strings (pure, for tests);
 * kx_table_write lays rows out as kubectl's tabwriter does (columns three
 * spaces apart, at least six wide, the last one unpadded). */
#ifndef KX_PRINT_H
#define KX_PRINT_H

#include <time.h>
#include <jv.h>

#include "buf.h"
#include "kinds.h"

enum {
	KX_PRINT_WIDE = 1,      /* -o wide */
	KX_PRINT_NAMESPACE = 2, /* -A: a NAMESPACE column first */
	KX_PRINT_LABELS = 4,    /* --show-labels: a LABELS column last */
	KX_PRINT_KIND = 8,      /* several types: NAME is "pod/web" */
};

/* The column headers for kind k (NULL: NAME AGE) with flags. */
jv kx_print_header(const kx_kind *k, int flags);
/* One row for obj (borrowed), its age measured at now. */
jv kx_print_row(const kx_kind *k, jv obj, int flags, time_t now);
/* Lay out rows (consumed: an array of arrays of strings) into b, as Go's
 * tabwriter with kubectl's settings: cells padded by three spaces to the
 * widest in their column, at least six wide. With remember (an array of
 * KX_TABLE_MAX_COLS zeroes at first), widths only grow from one call to the
 * next, so that rows printed one at a time (a watch) stay aligned. */
#define KX_TABLE_MAX_COLS 64
int kx_table_write(kx_buf *b, jv rows, size_t *remember);

/* "deployment.apps/web", "service/web": kind lower-cased, dot group, slash
 * name; from obj (borrowed) and its kind k (NULL: from obj's apiVersion). */
const char *kx_obj_ident(jv obj, char *buf, size_t n);
/* "deployments.apps", "pods": how the store's messages name a resource. */
const char *kx_kind_qualified(const kx_kind *k, char *buf, size_t n);

/* kubectl's STATUS column of a pod (borrowed); restarts and the time of the
 * last restart (0 if none) are returned when the pointers are not NULL. */
const char *kx_pod_status(jv pod, char *buf, size_t n, int *restarts, time_t *last_restart);

/* v with every object's keys sorted, recursively (consumed). */
jv kx_jv_sorted(jv v);
/* As kubectl -o json: keys sorted, four-space indent, '<' '>' '&' escaped
 * as Go does, with a final newline. v consumed. */
int kx_print_json(kx_buf *b, jv v);
/* Go's encoding/json of v (consumed): keys sorted, HTML characters escaped;
 * compact when indent is 0, else indented by that many spaces. */
int kx_go_json(kx_buf *b, jv v, int indent);
/* A List of items (consumed), as kubectl prints several objects. */
jv kx_print_list(jv items);

#endif
