/* input.h: the objects an acting program observes, from a file or the store.
 *
 * `-f FILE` takes what `kx-get pods,nodes -o json` prints (a List), any JSON
 * or YAML file with one or many objects, or "-" for stdin. Lists are
 * flattened, so callers always get a jv array of single objects, each with
 * its kind and apiVersion. */
#ifndef KX_INPUT_H
#define KX_INPUT_H

#include <jv.h>

#include "http.h"

struct kx_err;

#define KX_INPUT_MAX (512u << 20) /* refuse larger inputs */

/* Read path ("-" is stdin): JSON or YAML, one or several documents. Returns a
 * jv array of objects, or jv_invalid() with e naming the file. */
jv kx_input_load(const char *path, struct kx_err *e);
/* Parse text already read (name is used in messages). */
jv kx_input_parse(const char *text, size_t n, const char *name, struct kx_err *e);
/* Flatten Lists (kind: List, or any *List with items) into their items,
 * filling each item's kind and apiVersion from the list when absent.
 * Consumes docs (an array); returns an array. */
jv kx_input_flatten(jv docs);

/* GET a collection path from the store ("/api/v1/pods") and return its items
 * with kind and apiVersion filled in (the store, like Kubernetes, leaves them
 * out of list items). kind may be NULL: it is derived from the list's kind
 * ("PodList" -> "Pod"). If rv is not NULL it receives the list's
 * resourceVersion (malloc'd; the caller frees), to start a watch from. */
jv kx_input_list(kx_client *c, const char *path, const char *kind, char **rv,
		 struct kx_err *e);

#endif
