/* api.h: the request handler kx-store gives libmicrohttpd (api.c). */
#ifndef KX_STORE_API_H
#define KX_STORE_API_H

#include <microhttpd.h>

enum MHD_Result api_handler(void *cls, struct MHD_Connection *c, const char *url,
			    const char *method, const char *ver, const char *data, size_t *size,
			    void **ctx);
void api_completed(void *cls, struct MHD_Connection *c, void **ctx,
		   enum MHD_RequestTerminationCode toe);

#endif
