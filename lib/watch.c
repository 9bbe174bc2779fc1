/* watch.c: list, then watch, then list again when needed (see watch.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "watch.h"

struct follow {
	const char *kind;
	const kx_watch_fns *fns;
	void *arg;
	char *rv;      /* the last version seen; NULL: list again */
};

static void set_rv(struct follow *f, const char *rv)
{
	free(f->rv);
	f->rv = rv ? strdup(rv) : NULL;
}

/* One line of the watch stream: one event. Non-zero stops the stream. */
static int on_event(void *arg, const char *line, size_t len)
{
	struct follow *f = arg;
	kx_err e = KX_ERR_INIT;
	char type[32], rv[64], kind[64];
	jv ev = kx_json_parse(line, len, &e), obj;

	if (!jv_is_valid(ev)) {
		jv_free(ev);
		return 0; /* an empty keep-alive line, or garbage: not an event */
	}
	kx_jv_str(ev, "type", type, sizeof type, "");
	obj = kx_jv_get(ev, "object");
	if (!strcmp(type, "ERROR")) {
		/* a Status: most often 410, the version is too old */
		kx_log_debug(1, "watch of %s: %s", f->kind,
			     kx_jv_str(obj, "message", rv, sizeof rv, "error event"));
		jv_free(obj);
		set_rv(f, NULL);
		return 1;
	}
	if (*kx_jv_str(obj, "metadata.resourceVersion", rv, sizeof rv, ""))
		set_rv(f, rv);
	if (!strcmp(type, "BOOKMARK") || jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return 0;
	}
	if (!*kx_jv_str(obj, "kind", kind, sizeof kind, ""))
		obj = jv_object_set(obj, jv_string("kind"), jv_string(f->kind));
	f->fns->event(f->arg, type, obj);
	return 0;
}

void kx_watch_follow(const char *server, const char *path, const char *kind, const char *rv,
		     const kx_watch_fns *fns, void *arg)
{
	struct follow f = {kind, fns, arg, rv ? strdup(rv) : NULL};
	kx_err e = KX_ERR_INIT;
	kx_client *c = kx_client_new(server, &e);

	if (!c) {
		kx_log_error("%s", e.msg);
		free(f.rv);
		return;
	}
	for (;;) {
		kx_buf url = KX_BUF_INIT;
		kx_err_clear(&e);
		if (!f.rv) {
			kx_client_set_timeout(c, 30000);
			jv items = kx_input_list(c, path, kind, &f.rv, &e);
			if (!jv_is_valid(items)) {
				jv_free(items);
				if (e.http == 404) {
					fns->list(arg, jv_array()); /* not served: there are none */
					break;
				}
				kx_log_debug(1, "cannot list %s: %s", path, e.msg);
				sleep(1);
				continue;
			}
			fns->list(arg, items);
		}
		kx_client_set_timeout(c, 0);
		kx_buf_addf(&url, "%s?watch=true&allowWatchBookmarks=true&resourceVersion=", path);
		kx_url_escape(&url, f.rv ? f.rv : "");
		kx_client_stream(c, kx_buf_str(&url), on_event, &f, &e);
		kx_buf_free(&url);
		if (e.http == 410 || e.http == 404)
			set_rv(&f, NULL);
		if (e.status) {
			kx_log_debug(1, "watch of %s: %s", path, e.msg);
			sleep(1); /* the store is away: do not spin */
		}
	}
	kx_client_free(c);
	free(f.rv);
}
