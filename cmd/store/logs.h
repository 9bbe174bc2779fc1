/* logs.h: pods/{name}/log, served by the node that runs the pod.
 *
 * The contract with kx-node-run (the kubelet): a node publishes its port in
 * status.daemonEndpoints.kubeletEndpoint.Port and its address in
 * status.addresses, and answers GET /containerLogs/NS/POD/CONTAINER with the
 * kubelet's query parameters (follow, tailLines, previous, timestamps,
 * limitBytes, sinceSeconds). kx-store connects there and streams the answer
 * back, so `kubectl logs -f` follows the container. */
#ifndef KX_STORE_LOGS_H
#define KX_STORE_LOGS_H

#include <microhttpd.h>

#include "store.h"

/* A response streaming the logs of container (NULL: the pod's only one) of
 * pod (its stored JSON text) from node (its stored JSON text, or NULL when
 * the Node does not exist); query is passed on as it is ("" or "a=b&c=d").
 * NULL with e filled when no node can serve them, saying why. */
struct MHD_Response *logs_response(const char *pod, const char *node, const char *container,
				   const char *query, st_err *e);

#endif
