/* watch.c: the ring of recent events, shared by every watcher.
 *
 * Each committed batch publishes its events into a ring indexed by
 * revision and wakes the watchers; it never waits for them. Each watcher
 * keeps its own cursor (the last revision it has looked at), takes
 * references to the events after it, filters them (kind, namespace,
 * selectors) and writes them out at its own pace. One that falls so far
 * behind that the ring has moved past its cursor is sent an ERROR (410
 * Expired) and closed, as kube-apiserver does; a client then lists again.
 * A watch that starts from a revision older than the ring replays it from
 * the history table first. */
#include <limits.h>
#include <linux/futex.h>
#include <microhttpd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "selector.h"
#include "store.h"
#include "table.h"

/* The ring is read under a shared lock by every watcher at once and written
 * under the exclusive lock by the committing writer; watchers sleep on a
 * futex word bumped at every publish, so a wake-up of a thousand watchers
 * does not queue them all on one mutex. */
static pthread_rwlock_t rlock;
static atomic_uint seq;
static event **slots;
static int64_t cap, head; /* newest revision published; ring holds (head-cap, head] */
static int64_t oldest;    /* oldest revision the ring holds */
static atomic_int nwatchers;
atomic_long m_watch_events;

event *event_new(int64_t rev, const kx_kind *k, int type, const char *ns, const char *name,
		 char *obj, size_t objlen, char *prev)
{
	event *ev = calloc(1, sizeof *ev);

	atomic_init(&ev->ref, 1);
	ev->rev = rev;
	ev->kind = k;
	ev->type = type;
	ev->ns = strdup(ns ? ns : "");
	ev->name = strdup(name ? name : "");
	ev->obj = obj;
	ev->objlen = objlen;
	ev->prev = prev;
	return ev;
}

void event_unref(event *ev)
{
	if (ev && atomic_fetch_sub(&ev->ref, 1) == 1) {
		free(ev->ns);
		free(ev->name);
		free(ev->obj);
		free(ev->prev);
		free(ev);
	}
}

static void wake_all(void)
{
	atomic_fetch_add(&seq, 1);
	syscall(SYS_futex, (unsigned *)&seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Sleep until seq moves from s, or ms pass. */
static void wait_seq(unsigned s, int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	syscall(SYS_futex, (unsigned *)&seq, FUTEX_WAIT_PRIVATE, s, &ts, NULL, 0);
}

void ring_init(int n)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rlock, &a);
	cap = n > 16 ? n : 16;
	slots = calloc(cap, sizeof *slots);
	head = db_rev();
	oldest = head + 1;
}

void ring_publish(event **evs, int n)
{
	pthread_rwlock_wrlock(&rlock);
	for (int i = 0; i < n; i++) {
		event **s = &slots[evs[i]->rev % cap];
		event_unref(*s);
		*s = evs[i];
		head = evs[i]->rev;
		if (head - oldest >= cap)
			oldest = head - cap + 1;
	}
	pthread_rwlock_unlock(&rlock);
	wake_all();
}

void ring_shutdown(void)
{
	wake_all();
}

int watchers_count(void)
{
	return atomic_load(&nwatchers);
}

void ring_free(void)
{
	for (int64_t i = 0; slots && i < cap; i++)
		event_unref(slots[i]);
	free(slots);
	slots = NULL;
}

/* ---- one watcher ------------------------------------------------------- */

enum { PH_LIST, PH_HISTORY, PH_RING, PH_CLOSING };

struct watcher {
	struct watch_params p;
	kx_selector *ls;
	kx_fieldsel *fs;
	int phase;
	int64_t cursor;       /* last revision looked at */
	kx_buf out;
	size_t off;
	rconn *rc;            /* held while listing (one read snapshot) */
	char lastkey[1024];
	char prefix[512], prefix_end[512];
	int64_t deadline, next_bookmark;
	int sent_columns;     /* Tables: only the first carries columnDefinitions */
};

static const char *type_name(int t)
{
	return t == EV_ADDED ? "ADDED" : t == EV_MODIFIED ? "MODIFIED" : "DELETED";
}

static int filtered(const struct watcher *w)
{
	return w->ls || w->fs;
}

/* Does obj (borrowed) pass the selectors? */
static int obj_matches(const struct watcher *w, jv obj)
{
	if (w->ls) {
		jv labels = kx_jv_get(jv_copy(obj), "metadata.labels");
		int m = kx_selector_match(w->ls, labels);
		jv_free(labels);
		if (!m)
			return 0;
	}
	return !w->fs || kx_fieldsel_match(w->fs, obj);
}

static int text_matches(const struct watcher *w, const char *text, size_t n)
{
	kx_err e = KX_ERR_INIT;
	jv obj = kx_json_parse(text, n, &e);
	int m = jv_is_valid(obj) && obj_matches(w, obj);

	jv_free(obj);
	return m;
}

static void emit_raw(struct watcher *w, const char *type, const char *obj, size_t n);

/* Write one event; objects become Tables when the client asked for them. */
static void emit(struct watcher *w, const char *type, const char *obj, size_t n)
{
	kx_err ke = KX_ERR_INIT;
	jv v;
	char *s;

	if (!w->p.table || !strcmp(type, "ERROR") || !strcmp(type, "BOOKMARK")) {
		emit_raw(w, type, obj, n);
		return;
	}
	v = kx_json_parse(obj, n, &ke);
	if (!jv_is_valid(v)) {
		emit_raw(w, type, obj, n);
		return;
	}
	v = table_of(w->p.kind, v, w->p.include[0] ? w->p.include : NULL, time(NULL));
	if (w->sent_columns)
		v = jv_object_delete(v, jv_string("columnDefinitions"));
	w->sent_columns = 1;
	s = kx_json_dump(v, 0);
	emit_raw(w, type, s, strlen(s));
	free(s);
}

static void emit_raw(struct watcher *w, const char *type, const char *obj, size_t n)
{
	kx_buf_adds(&w->out, "{\"type\":\"");
	kx_buf_adds(&w->out, type);
	kx_buf_adds(&w->out, "\",\"object\":");
	kx_buf_add(&w->out, obj, n);
	kx_buf_adds(&w->out, "}\n");
	atomic_fetch_add(&m_watch_events, 1);
}

/* An event from the ring or history: filter it and write it out. */
static void consider(struct watcher *w, const kx_kind *k, int type, const char *ns,
		     const char *obj, size_t n, const char *prev)
{
	const char *t = type_name(type);

	if (k != w->p.kind || (w->p.ns[0] && strcmp(ns, w->p.ns)))
		return;
	if (filtered(w)) {
		int now = text_matches(w, obj, n);
		if (type == EV_MODIFIED) {
			int before = prev ? text_matches(w, prev, strlen(prev)) : now;
			if (!now && !before)
				return;
			t = now && before ? "MODIFIED" : now ? "ADDED" : "DELETED";
		} else if (!now) {
			return;
		}
	}
	emit(w, t, obj, n);
}

static void emit_status(struct watcher *w, int code, const char *reason, const char *msg)
{
	st_err e = {.code = code, .reason = reason};
	char *s;

	snprintf(e.msg, sizeof e.msg, "%s", msg);
	s = kx_json_dump(st_status(&e, NULL, NULL), 0);
	emit(w, "ERROR", s, strlen(s));
	free(s);
}

static void emit_bookmark(struct watcher *w)
{
	char av[128], rv[32];
	jv o;
	char *s;

	snprintf(rv, sizeof rv, "%lld", (long long)w->cursor);
	o = jv_object_set(jv_object(), jv_string("kind"), jv_string(w->p.kind->kind));
	o = jv_object_set(o, jv_string("apiVersion"),
			  jv_string(kx_kind_api_version(w->p.kind, av, sizeof av)));
	o = jv_object_set(o, jv_string("metadata"),
			  jv_object_set(jv_object(), jv_string("resourceVersion"), jv_string(rv)));
	s = kx_json_dump(o, 0);
	emit(w, "BOOKMARK", s, strlen(s));
	free(s);
}

/* The initial list, one page at a time, all in one read snapshot. */
static void fill_list(struct watcher *w)
{
	int rows = 0;
	kx_buf full = KX_BUF_INIT;

	if (!w->rc) {
		w->rc = db_reader();
		if (!w->rc) {
			emit_status(w, 500, "InternalError", "the store cannot read");
			w->phase = PH_CLOSING;
			return;
		}
		sqlite3_step(w->rc->begin);
		sqlite3_reset(w->rc->begin);
		if (sqlite3_step(w->rc->rev) == SQLITE_ROW)
			w->cursor = sqlite3_column_int64(w->rc->rev, 0);
		sqlite3_reset(w->rc->rev);
		snprintf(w->lastkey, sizeof w->lastkey, "%s", w->prefix);
	}
	sqlite3_stmt *s = w->rc->list;
	sqlite3_bind_text(s, 1, w->lastkey, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, w->prefix_end, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, 256);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);
		const char *val = (const char *)sqlite3_column_text(s, 1);
		rows++;
		snprintf(w->lastkey, sizeof w->lastkey, "%s", key);
		kx_buf_reset(&full);
		obj_full(&full, w->p.kind, val, strlen(val));
		if (!filtered(w) || text_matches(w, full.p, full.len))
			emit(w, "ADDED", full.p, full.len);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	kx_buf_free(&full);
	if (rows < 256) {
		sqlite3_step(w->rc->end);
		sqlite3_reset(w->rc->end);
		db_reader_put(w->rc);
		w->rc = NULL;
		w->phase = PH_HISTORY;
	}
}

/* Events older than the ring, from the history table. */
static void fill_history(struct watcher *w)
{
	rconn *r;
	int64_t upto;
	kx_buf full = KX_BUF_INIT;

	pthread_rwlock_rdlock(&rlock);
	upto = oldest - 1;
	pthread_rwlock_unlock(&rlock);
	if (w->cursor >= upto) {
		w->phase = PH_RING;
		return;
	}
	if (w->cursor < db_compacted()) {
		emit_status(w, 410, "Expired", "too old resource version");
		w->phase = PH_CLOSING;
		return;
	}
	r = db_reader();
	if (!r) {
		emit_status(w, 500, "InternalError", "the store cannot read");
		w->phase = PH_CLOSING;
		return;
	}
	sqlite3_stmt *s = r->hist;
	sqlite3_bind_int64(s, 1, w->cursor);
	sqlite3_bind_int64(s, 2, upto);
	sqlite3_bind_int(s, 3, 512);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t rev = sqlite3_column_int64(s, 0);
		const char *key = (const char *)sqlite3_column_text(s, 1);
		int type = sqlite3_column_int(s, 2);
		const char *val = (const char *)sqlite3_column_text(s, 3);
		char ns[256], name[256];
		const kx_kind *k = key_parse(key, ns, sizeof ns, name, sizeof name);
		if (k) {
			kx_buf_reset(&full);
			obj_full(&full, k, val, strlen(val));
			consider(w, k, type, ns, full.p, full.len, NULL);
		}
		w->cursor = rev;
	}
	sqlite3_reset(s);
	db_reader_put(r);
	kx_buf_free(&full);
	if (w->cursor < upto && w->out.len == 0) /* a gap: compacted under us */
		w->cursor = upto;
}

/* Wait for events after the cursor (or a deadline) and take them. */
static void fill_ring(struct watcher *w)
{
	event *got[256];
	int n = 0;
	int64_t now = kx_now_ms(), until = w->deadline;

	if (w->p.bookmarks && w->next_bookmark < until)
		until = w->next_bookmark;
	for (;;) {
		unsigned sq = atomic_load(&seq);
		int64_t h;
		pthread_rwlock_rdlock(&rlock);
		h = head;
		pthread_rwlock_unlock(&rlock);
		if (h > w->cursor || atomic_load(&stopping) || now >= until)
			break;
		wait_seq(sq, until - now < 1000 ? until - now : 1000);
		now = kx_now_ms();
	}
	pthread_rwlock_rdlock(&rlock);
	if (head > w->cursor && w->cursor + 1 < oldest) {
		pthread_rwlock_unlock(&rlock);
		if (w->cursor < db_compacted() || w->phase == PH_RING) {
			emit_status(w, 410, "Expired",
				    "the watch fell too far behind the store's writes; list again");
			w->phase = PH_CLOSING;
		} else {
			w->phase = PH_HISTORY;
		}
		return;
	}
	for (int64_t r = w->cursor + 1; r <= head && n < 256; r++) {
		event *ev = slots[r % cap];
		if (!ev || ev->rev != r)
			break;
		atomic_fetch_add(&ev->ref, 1);
		got[n++] = ev;
	}
	pthread_rwlock_unlock(&rlock);
	for (int i = 0; i < n; i++) {
		consider(w, got[i]->kind, got[i]->type, got[i]->ns, got[i]->obj, got[i]->objlen,
			 got[i]->prev);
		w->cursor = got[i]->rev;
		event_unref(got[i]);
	}
	now = kx_now_ms();
	if (w->p.bookmarks && now >= w->next_bookmark) {
		if (w->out.len == 0)
			emit_bookmark(w);
		w->next_bookmark = now + cfg.bookmark_ms;
	}
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watcher *w = cls;

	for (;;) {
		if (w->off < w->out.len) {
			size_t n = w->out.len - w->off;
			if (n > max)
				n = max;
			memcpy(buf, w->out.p + w->off, n);
			w->off += n;
			if (w->off == w->out.len) {
				kx_buf_reset(&w->out);
				w->off = 0;
			}
			return (ssize_t)n;
		}
		if (w->phase == PH_CLOSING || atomic_load(&stopping) || kx_now_ms() >= w->deadline)
			return MHD_CONTENT_READER_END_OF_STREAM;
		switch (w->phase) {
		case PH_LIST:
			fill_list(w);
			break;
		case PH_HISTORY:
			fill_history(w);
			break;
		default:
			fill_ring(w);
			break;
		}
	}
}

static void watch_free(void *cls)
{
	struct watcher *w = cls;

	if (w->rc)
		db_reader_put(w->rc);
	kx_selector_free(w->ls);
	kx_fieldsel_free(w->fs);
	free(w->p.label_sel);
	free(w->p.field_sel);
	kx_buf_free(&w->out);
	free(w);
	atomic_fetch_sub(&nwatchers, 1);
}

struct MHD_Response *watch_response(struct watch_params *p, st_err *e)
{
	struct watcher *w = calloc(1, sizeof *w);
	struct MHD_Response *r;
	kx_err ke = KX_ERR_INIT;
	kx_buf key = KX_BUF_INIT;

	w->p = *p;
	atomic_fetch_add(&nwatchers, 1);
	if (p->label_sel && *p->label_sel && !(w->ls = kx_selector_parse(p->label_sel, &ke))) {
		st_fail(e, 400, "BadRequest", "unable to parse requirement: %s", ke.msg);
		goto fail;
	}
	if (p->field_sel && *p->field_sel && !(w->fs = kx_fieldsel_parse(p->field_sel, &ke))) {
		st_fail(e, 400, "BadRequest", "invalid field selector: %s", ke.msg);
		goto fail;
	}
	if (p->from >= 0 && p->from < db_compacted()) {
		st_fail(e, 410, "Expired", "too old resource version: %lld (%lld)", (long long)p->from,
			(long long)db_compacted());
		goto fail;
	}
	key_make(&key, p->kind, p->ns[0] ? p->ns : NULL, NULL);
	snprintf(w->prefix, sizeof w->prefix, "%s", kx_buf_str(&key));
	snprintf(w->prefix_end, sizeof w->prefix_end, "%s", kx_buf_str(&key));
	w->prefix_end[strlen(w->prefix_end) - 1]++;
	kx_buf_free(&key);
	w->phase = p->from < 0 ? PH_LIST : PH_HISTORY;
	w->cursor = p->from < 0 ? 0 : p->from;
	w->deadline = kx_now_ms() + p->timeout_ms;
	w->next_bookmark = kx_now_ms() + cfg.bookmark_ms;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, watch_read, w, watch_free);
	if (!r) {
		st_fail(e, 500, "InternalError", "cannot start the watch");
		goto fail;
	}
	return r;
fail:
	w->p.label_sel = w->p.field_sel = NULL;
	watch_free(w);
	return NULL;
}
