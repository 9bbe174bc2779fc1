/* manifest.h: the objects named by kubectl-style -f arguments.
 *
 * Each path is a file (YAML or JSON, any number of documents, kind: List
 * expanded), "-" for stdin, or a directory, whose *.yaml, *.yml and *.json
 * files are read in name order (and its subdirectories too, in the same
 * order, when recursive is set). Every file is parsed before anything is
 * returned, so a caller that stops on error applies nothing from a file that
 * does not parse. */
#ifndef KX_MANIFEST_H
#define KX_MANIFEST_H

#include <jv.h>

struct kx_err;

#define KX_MANIFEST_MAX (64u << 20) /* refuse larger files */

/* An array of {"file": NAME, "object": OBJECT} in reading order; NAME is
 * the path as given (or "<stdin>"). jv_invalid() with e naming the file
 * (and line, for YAML) on error; "no objects passed" when none were found
 * is left to the caller. */
jv kx_manifest_load(char *const *paths, int n, int recursive, struct kx_err *e);

#endif
