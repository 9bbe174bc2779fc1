/* store.h: what the files of kx-store share.
 *
 * main.c     options, start and stop
 * db.c       SQLite: schema, read connections, group commit
 * watch.c    the ring of recent events and the watchers that read it
 * objects.c  the rules for objects: defaults, validation, create, update,
 *            delete, status, scale and binding, as pure functions on jv
 * api.c      HTTP: routing, requests and responses, discovery, metrics */
#ifndef KX_STORE_H
#define KX_STORE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jv.h>

#include "buf.h"
#include "kinds.h"

#define MAX_BODY (3u << 20)

/* kx_jv_str that always fills buf (with def, or "" when def is NULL); returns
 * what kx_jv_str returns (NULL when absent and def is NULL). v borrowed. */
#include <stdio.h>
#include "json.h"
static inline const char *jstr(jv v, const char *path, char *buf, size_t n, const char *def)
{
	const char *r = kx_jv_str(v, path, buf, n, def);

	if (r != buf)
		snprintf(buf, n, "%s", r ? r : "");
	return r;
}

/* ---- configuration (main.c) ------------------------------------------- */
struct store_config {
	const char *data;
	int64_t history;         /* revisions of history kept */
	int64_t compact_ms;      /* compaction interval */
	int64_t bookmark_ms;     /* watch bookmark interval */
	int ring;                /* events kept in memory for watchers */
	uint32_t svc_net, svc_mask; /* --service-cidr, host order */
};
extern struct store_config cfg;
extern atomic_int stopping;

/* ---- a failure as Kubernetes reports it -------------------------------- */
typedef struct st_err {
	int code;            /* HTTP status */
	const char *reason;  /* NotFound, Conflict, ... */
	char msg[1024];
	char field[128];     /* for Invalid: the field named */
} st_err;

int st_fail(st_err *e, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The Status object for e, for kind k (may be NULL) and object name. */
jv st_status(const st_err *e, const kx_kind *k, const char *name);

/* ---- keys ---------------------------------------------------------------- */
/* The storage name of a kind's resource: the plural, qualified by group
 * when another group uses the same plural. */
const char *kind_kres(const kx_kind *k);
const kx_kind *kind_by_kres(const char *kres, size_t n);
/* /registry/{kres}/{ns}/{name} or /registry/{kres}/{name} */
void key_make(kx_buf *b, const kx_kind *k, const char *ns, const char *name);
/* Parse a key back; ns and name point into key (ns NULL when cluster-scoped). */
const kx_kind *key_parse(const char *key, char *ns, size_t nsn, char *name, size_t namen);

/* Stored text is the object without kind and apiVersion ("{"metadata":..}");
 * this writes the full object (kind and apiVersion first). */
int obj_full(kx_buf *b, const kx_kind *k, const char *stored, size_t n);

/* ---- the database (db.c) ------------------------------------------------ */
typedef struct txn txn;

enum { EV_ADDED = 1, EV_MODIFIED, EV_DELETED };

int db_open(const char *dir, char *err, size_t errn);
void db_close(void);
int64_t db_rev(void);        /* newest committed revision */
int64_t db_compacted(void);  /* oldest revision still in history - 1 */
void db_compact(void);       /* drop history older than cfg.history revisions */
void db_checkpoint(void);    /* copy the WAL into the database, off the write path */

/* Read connections, one per thread at a time. */
typedef struct rconn {
	sqlite3 *db;
	sqlite3_stmt *get, *list, *rev, *hist, *begin, *end;
	struct rconn *next;
} rconn;
rconn *db_reader(void);
void db_reader_put(rconn *r);
/* The stored text of key (malloc'd) and its revision; NULL when absent. */
char *db_get(rconn *r, const char *key, int64_t *rev);

/* A write: fn runs (on the leader's thread) inside the batch's transaction
 * (in its own savepoint: a failure undoes only this request). It reads with
 * txn_get and writes with txn_put / txn_del; it returns 0 or -1 with err
 * filled. Then db_write returns, once the batch is durable. */
typedef struct wreq wreq;
typedef int (*write_fn)(wreq *w, txn *t);
struct wreq {
	write_fn fn;
	void *arg;
	st_err err;
	jv result;           /* set by fn: what the request answers */
	int code;            /* HTTP status to answer with */
	int64_t rev;         /* revision of the last change made */
	int dry_run;         /* answer as if written, then roll back (?dryRun=All) */
	/* private to db.c */
	int done;
	struct wreq *next;
	int lead;            /* woken to lead the next batch */
	void *cv;            /* the writer thread's semaphore */
};
int db_write(wreq *w);   /* 0, or -1 with w->err */

/* Inside a write: the current stored text of key (borrowed until the write
 * ends) or NULL, and put/delete. put takes the full object (consumed, with
 * kind and apiVersion; its resourceVersion is set here) and returns the
 * revision. */
const char *txn_get(txn *t, const char *key);
int64_t txn_next_rev(txn *t);
int64_t txn_put(txn *t, const char *key, const kx_kind *k, jv obj, st_err *e);
int64_t txn_del(txn *t, const char *key, const kx_kind *k, jv obj, st_err *e);
/* Create key from pre-rendered text: the full object is head, the new
 * revision, then tail (head ends inside metadata.resourceVersion's quotes:
 * {"kind":K,"apiVersion":AV,"metadata":{"resourceVersion":" ). */
int64_t txn_create_text(txn *t, const char *key, const kx_kind *k, const char *head,
			const char *tail, st_err *e);
/* The full text of the last change made (borrowed). */
const char *txn_last_text(txn *t);
/* Allocation table (cluster IPs, node ports): 0 when claimed, -1 when taken. */
int txn_claim(txn *t, const char *what, const char *owner);
void txn_release_owner(txn *t, const char *owner);
/* Keys with a prefix inside the transaction (for namespace checks etc.). */
int txn_count_prefix(txn *t, const char *prefix);
/* Call fn for each key with a prefix, in key order, until it returns non-zero;
 * key and value are borrowed for the call. Returns how many rows were seen. */
typedef int (*txn_row_fn)(void *arg, const char *key, const char *value);
int txn_list_prefix(txn *t, const char *prefix, txn_row_fn fn, void *arg);

/* ---- watch (watch.c) ------------------------------------------------------ */
typedef struct event {
	atomic_int ref;
	int64_t rev;
	const kx_kind *kind;
	int type;
	char *ns, *name;
	char *obj;           /* full object JSON */
	size_t objlen;
	char *prev;          /* the object before a MODIFIED (stored text), or NULL */
} event;
event *event_new(int64_t rev, const kx_kind *k, int type, const char *ns, const char *name,
		 char *obj, size_t objlen, char *prev);
void event_unref(event *ev);
void ring_init(int cap);
void ring_publish(event **evs, int n);  /* takes the references */
void ring_shutdown(void);
void ring_free(void);
int watchers_count(void);

struct MHD_Response;
struct watch_params {
	const kx_kind *kind;
	char ns[256];
	char *label_sel, *field_sel;  /* malloc'd or NULL */
	int64_t from;                 /* resourceVersion to start after; -1: list first */
	int bookmarks;
	int64_t timeout_ms;
	int table;                    /* send meta.k8s.io Tables (kubectl get -w) */
	char include[16];             /* includeObject for Tables */
};
/* A streaming response for a watch (takes p's strings), or NULL with e. */
struct MHD_Response *watch_response(struct watch_params *p, st_err *e);

/* ---- objects (objects.c) --------------------------------------------------- */
struct req;  /* api.c */
int obj_is_core_default_ns(const char *ns);

/* ---- metrics ---------------------------------------------------------------- */
extern atomic_long m_watch_events;
#endif
