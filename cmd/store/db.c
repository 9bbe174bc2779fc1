/* db.c: the SQLite store and its group commit.
 *
 * Tables: kv holds the current objects by key; history holds every change
 * by revision (for watches that resume from the past) until compaction;
 * meta holds the newest and the compacted revision; alloc holds claimed
 * cluster IPs and node ports.
 *
 * Request threads queue their writes (db_write); one of them at a time, the
 * leader, takes every write waiting, runs them in one transaction, each
 * in its own savepoint, commits once (one fsync for the whole batch), then
 * publishes the events to the watchers and wakes the writers. All
 * read-modify-write logic runs inside the transaction, so a stale
 * resourceVersion is always caught and nothing is overwritten. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "log.h"
#include "store.h"

struct txn {
	sqlite3 *db;
	sqlite3_stmt *get, *put, *del, *hist, *setmeta, *claim, *release, *count, *list;
	sqlite3_stmt *sp, *sp_undo, *sp_release;
	int64_t rev;
	event **evs;
	int nev, capev;
	char **reads;  /* txn_get results, freed after each request */
	int nreads, capreads;
};

static struct txn W;
static char db_path[4096];
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t donecv = PTHREAD_COND_INITIALIZER;
static wreq *qhead, *qtail;
static int qstop;
static atomic_llong cur_rev, compacted_rev;
static pthread_mutex_t poolmu = PTHREAD_MUTEX_INITIALIZER;
static rconn *pool;

atomic_long m_batches, m_writes;

int64_t db_rev(void)
{
	return atomic_load(&cur_rev);
}

int64_t db_compacted(void)
{
	return atomic_load(&compacted_rev);
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		kx_log_error("sqlite: %s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		kx_log_error("sqlite: cannot prepare %s: %s", sql, sqlite3_errmsg(db));
		return NULL;
	}
	return s;
}

static int64_t meta_get(sqlite3 *db, const char *k)
{
	sqlite3_stmt *s = prep(db, "SELECT v FROM meta WHERE k = ?1");
	int64_t v = 0;

	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ---- reads --------------------------------------------------------------- */

static rconn *rconn_open(void)
{
	rconn *r = calloc(1, sizeof *r);

	if (sqlite3_open_v2(db_path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		kx_log_error("sqlite: cannot open %s: %s", db_path, sqlite3_errmsg(r->db));
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, 5000);
	r->get = prep(r->db, "SELECT value, rev FROM kv WHERE key = ?1");
	r->list = prep(r->db, "SELECT key, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3");
	r->rev = prep(r->db, "SELECT (SELECT v FROM meta WHERE k = 'rev'), (SELECT v FROM meta WHERE k = 'compacted')");
	r->hist = prep(r->db, "SELECT rev, key, type, value FROM history WHERE rev > ?1 AND rev <= ?2 ORDER BY rev LIMIT ?3");
	r->begin = prep(r->db, "BEGIN");
	r->end = prep(r->db, "COMMIT");
	if (!r->get || !r->list || !r->rev || !r->hist || !r->begin || !r->end) {
		sqlite3_close_v2(r->db);
		free(r);
		return NULL;
	}
	return r;
}

rconn *db_reader(void)
{
	rconn *r;

	pthread_mutex_lock(&poolmu);
	r = pool;
	if (r)
		pool = r->next;
	pthread_mutex_unlock(&poolmu);
	return r ? r : rconn_open();
}

void db_reader_put(rconn *r)
{
	if (!r)
		return;
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_lock(&poolmu);
	r->next = pool;
	pool = r;
	pthread_mutex_unlock(&poolmu);
}

char *db_get(rconn *r, const char *key, int64_t *rev)
{
	char *out = NULL;

	sqlite3_bind_text(r->get, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(r->get) == SQLITE_ROW) {
		out = strdup((const char *)sqlite3_column_text(r->get, 0));
		if (rev)
			*rev = sqlite3_column_int64(r->get, 1);
	}
	sqlite3_reset(r->get);
	sqlite3_clear_bindings(r->get);
	return out;
}

/* ---- writes inside the transaction ------------------------------------- */

const char *txn_get(txn *t, const char *key)
{
	char *out = NULL;

	sqlite3_bind_text(t->get, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(t->get) == SQLITE_ROW)
		out = strdup((const char *)sqlite3_column_text(t->get, 0));
	sqlite3_reset(t->get);
	if (!out)
		return NULL;
	if (t->nreads == t->capreads) {
		t->capreads = t->capreads ? t->capreads * 2 : 8;
		t->reads = realloc(t->reads, t->capreads * sizeof *t->reads);
	}
	t->reads[t->nreads++] = out;
	return out;
}

int64_t txn_next_rev(txn *t)
{
	return t->rev + 1;
}

static void add_event(txn *t, event *ev)
{
	if (t->nev == t->capev) {
		t->capev = t->capev ? t->capev * 2 : 64;
		t->evs = realloc(t->evs, t->capev * sizeof *t->evs);
	}
	t->evs[t->nev++] = ev;
}

/* Render obj (consumed) with kind and apiVersion first and resourceVersion
 * rev: the full text (malloc'd, *fulllen) and where the stored form starts. */
static char *render(const kx_kind *k, jv obj, int64_t rev, size_t *fulllen, size_t *skip)
{
	char av[128], rv[32], prefix[256];
	jv full;
	kx_buf b = KX_BUF_INIT;
	int plen;

	kx_kind_api_version(k, av, sizeof av);
	snprintf(rv, sizeof rv, "%lld", (long long)rev);
	obj = kx_jv_set(obj, "metadata.resourceVersion", jv_string(rv));
	full = jv_object_set(jv_object(), jv_string("kind"), jv_string(k->kind));
	full = jv_object_set(full, jv_string("apiVersion"), jv_string(av));
	jv_object_foreach(obj, key, val)
	{
		const char *ks = jv_string_value(key);
		if (!strcmp(ks, "kind") || !strcmp(ks, "apiVersion")) {
			jv_free(key);
			jv_free(val);
			continue;
		}
		full = jv_object_set(full, key, val);
	}
	jv_free(obj);
	kx_json_dump_buf(&b, full, 0);
	plen = snprintf(prefix, sizeof prefix, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",", k->kind, av);
	*fulllen = b.len;
	*skip = (b.len > (size_t)plen && !memcmp(b.p, prefix, plen)) ? (size_t)plen - 1 : 0;
	return kx_buf_steal(&b);
}

/* Write one change whose full text (kind and apiVersion first) is full
 * (taken), its stored form starting at full + skip. */
static int64_t write_text(txn *t, const char *key, const kx_kind *k, char *full, size_t len,
			  size_t skip, int type, st_err *e)
{
	int64_t rev = t->rev + 1;
	char stored0 = full[skip];
	char *prev = NULL;
	char ns[256], name[256];
	int rc;

	if (type == EV_MODIFIED) {
		const char *old = txn_get(t, key);
		prev = old ? strdup(old) : NULL;
	}
	full[skip] = '{';
	if (type == EV_DELETED) {
		sqlite3_bind_text(t->del, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(t->del);
		sqlite3_reset(t->del);
	} else {
		sqlite3_bind_text(t->put, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(t->put, 2, rev);
		sqlite3_bind_text(t->put, 3, full + skip, (int)(len - skip), SQLITE_STATIC);
		rc = sqlite3_step(t->put);
		sqlite3_reset(t->put);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_bind_int64(t->hist, 1, rev);
		sqlite3_bind_text(t->hist, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int(t->hist, 3, type);
		sqlite3_bind_text(t->hist, 4, full + skip, (int)(len - skip), SQLITE_STATIC);
		rc = sqlite3_step(t->hist);
		sqlite3_reset(t->hist);
	}
	full[skip] = stored0;
	if (rc != SQLITE_DONE) {
		free(full);
		free(prev);
		st_fail(e, 500, "InternalError", "cannot write %s: %s", key, sqlite3_errmsg(t->db));
		return -1;
	}
	t->rev = rev;
	key_parse(key, ns, sizeof ns, name, sizeof name);
	add_event(t, event_new(rev, k, type, ns, name, full, len, prev));
	return rev;
}

static int64_t write_change(txn *t, const char *key, const kx_kind *k, jv obj, int type,
			    st_err *e)
{
	size_t len, skip;
	char *full = render(k, obj, t->rev + 1, &len, &skip);

	return write_text(t, key, k, full, len, skip, type, e);
}

int64_t txn_create_text(txn *t, const char *key, const kx_kind *k, const char *head,
			const char *tail, st_err *e)
{
	kx_buf b = KX_BUF_INIT;
	char av[128];
	size_t skip;

	kx_buf_adds(&b, head);
	kx_buf_addf(&b, "%lld", (long long)t->rev + 1);
	kx_buf_adds(&b, tail);
	skip = strlen("{\"kind\":\"\",\"apiVersion\":\"\",") + strlen(k->kind) +
	       strlen(kx_kind_api_version(k, av, sizeof av)) - 1;
	size_t len = b.len;
	return write_text(t, key, k, kx_buf_steal(&b), len, skip, EV_ADDED, e);
}

int64_t txn_put(txn *t, const char *key, const kx_kind *k, jv obj, st_err *e)
{
	int exists = 0;

	sqlite3_bind_text(t->get, 1, key, -1, SQLITE_STATIC);
	exists = sqlite3_step(t->get) == SQLITE_ROW;
	sqlite3_reset(t->get);
	return write_change(t, key, k, obj, exists ? EV_MODIFIED : EV_ADDED, e);
}

const char *txn_last_text(txn *t)
{
	return t->nev ? t->evs[t->nev - 1]->obj : NULL;
}

int64_t txn_del(txn *t, const char *key, const kx_kind *k, jv obj, st_err *e)
{
	return write_change(t, key, k, obj, EV_DELETED, e);
}

int txn_claim(txn *t, const char *what, const char *owner)
{
	int rc;

	sqlite3_bind_text(t->claim, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->claim, 2, owner, -1, SQLITE_STATIC);
	rc = sqlite3_step(t->claim);
	sqlite3_reset(t->claim);
	return rc == SQLITE_DONE && sqlite3_changes(t->db) == 1 ? 0 : -1;
}

void txn_release_owner(txn *t, const char *owner)
{
	sqlite3_bind_text(t->release, 1, owner, -1, SQLITE_STATIC);
	sqlite3_step(t->release);
	sqlite3_reset(t->release);
}

/* Bind the key range [prefix, prefix with its last byte raised) to s's
 * parameters 1 and 2; end is the caller's buffer (bound without a copy).
 * -1 when the prefix is empty or too long. */
static int bind_prefix(sqlite3_stmt *s, const char *prefix, char *end, size_t endn)
{
	size_t n = strlen(prefix);

	if (n == 0 || n >= endn)
		return -1;
	memcpy(end, prefix, n + 1);
	end[n - 1]++;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, end, -1, SQLITE_STATIC);
	return 0;
}

int txn_count_prefix(txn *t, const char *prefix)
{
	char end[1024];
	int c = 0;

	if (bind_prefix(t->count, prefix, end, sizeof end) < 0)
		return 0;
	if (sqlite3_step(t->count) == SQLITE_ROW)
		c = sqlite3_column_int(t->count, 0);
	sqlite3_reset(t->count);
	return c;
}

int txn_list_prefix(txn *t, const char *prefix, txn_row_fn fn, void *arg)
{
	char end[1024];
	int c = 0;

	if (bind_prefix(t->list, prefix, end, sizeof end) < 0)
		return 0;
	while (sqlite3_step(t->list) == SQLITE_ROW) {
		c++;
		if (fn(arg, (const char *)sqlite3_column_text(t->list, 0),
		       (const char *)sqlite3_column_text(t->list, 1)))
			break;
	}
	sqlite3_reset(t->list);
	return c;
}

/* ---- group commit ------------------------------------------------------- */

static void free_reads(txn *t)
{
	for (int i = 0; i < t->nreads; i++)
		free(t->reads[i]);
	t->nreads = 0;
}

static void step_reset(sqlite3_stmt *s)
{
	sqlite3_step(s);
	sqlite3_reset(s);
}

static void run_batch(wreq *batch)
{
	txn *t = &W;
	int64_t start = t->rev;
	int ok = 1;

	if (exec(t->db, "BEGIN IMMEDIATE") < 0) {
		for (wreq *w = batch; w; w = w->next) {
			st_fail(&w->err, 500, "InternalError", "the store cannot write: %s",
				sqlite3_errmsg(t->db));
			w->code = -1;
		}
		return;
	}
	for (wreq *w = batch; w; w = w->next) {
		int64_t mark = t->rev;
		int nev = t->nev;
		step_reset(t->sp);
		w->result = jv_null();
		w->code = w->fn(w, t) < 0 ? -1 : (w->code ? w->code : 200);
		if (w->code < 0 || w->dry_run) {
			step_reset(t->sp_undo);
			for (int i = nev; i < t->nev; i++)
				event_unref(t->evs[i]);
			t->nev = nev;
			t->rev = mark;
		}
		step_reset(t->sp_release);
		w->rev = t->rev;
		free_reads(t);
	}
	if (t->rev != start) {
		sqlite3_bind_int64(t->setmeta, 1, t->rev);
		sqlite3_step(t->setmeta);
		sqlite3_reset(t->setmeta);
	}
	if (exec(t->db, "COMMIT") < 0) {
		exec(t->db, "ROLLBACK");
		ok = 0;
	}
	if (!ok) {
		for (int i = 0; i < t->nev; i++)
			event_unref(t->evs[i]);
		t->nev = 0;
		t->rev = start;
		for (wreq *w = batch; w; w = w->next)
			if (w->code >= 0) {
				jv_free(w->result);
				w->result = jv_null();
				st_fail(&w->err, 500, "InternalError", "the store could not commit: %s",
					sqlite3_errmsg(t->db));
				w->code = -1;
			}
		return;
	}
	atomic_fetch_add(&m_batches, 1);
	if (t->nev) {
		atomic_fetch_add(&m_writes, t->nev);
		ring_publish(t->evs, t->nev);
		t->nev = 0;
	}
	atomic_store(&cur_rev, t->rev);
}

/* Group commit without a committer thread: a writer that finds nobody
 * committing becomes the leader, takes every write queued (its own and the
 * others'), commits them in one transaction, wakes their writers, and hands
 * the lead to the first writer still queued, if any. At low load a write
 * never changes threads; at high load the batch is whatever queued during
 * the previous fsync. Each writer sleeps on its own thread's semaphore and
 * the leader posts it after the mutex is let go, so a commit wakes only the
 * writers it finished and the next leader, and they do not queue on the
 * mutex again (with one shared condition variable, 64 connections spent
 * more time on the mutex than on SQLite). */
static int leading;
static __thread sem_t mysem;
static __thread int mysem_ready;

int db_write(wreq *w)
{
	if (!mysem_ready) {
		sem_init(&mysem, 0, 0);
		mysem_ready = 1;
	}
	w->done = 0;
	w->lead = 0;
	w->next = NULL;
	w->code = 0;
	w->result = jv_null();
	w->cv = &mysem;
	pthread_mutex_lock(&qmu);
	if (qstop) {
		pthread_mutex_unlock(&qmu);
		st_fail(&w->err, 503, "ServiceUnavailable", "the store is shutting down");
		return -1;
	}
	if (qtail)
		qtail->next = w;
	else
		qhead = w;
	qtail = w;
	if (leading) {
		pthread_mutex_unlock(&qmu);
		while (sem_wait(&mysem) < 0)
			; /* EINTR */
		if (w->done)
			return w->code < 0 ? -1 : 0;
		pthread_mutex_lock(&qmu); /* w->lead: the lead was handed over */
	}
	leading = 1;
	wreq *batch = qhead, *heir;
	qhead = qtail = NULL;
	pthread_mutex_unlock(&qmu);
	run_batch(batch);
	pthread_mutex_lock(&qmu);
	heir = qhead;
	if (heir)
		heir->lead = 1;
	else
		leading = 0;
	if (qstop)
		pthread_cond_broadcast(&donecv);
	pthread_mutex_unlock(&qmu);
	for (wreq *x = batch, *next; x; x = next) {
		next = x->next;
		if (x == w)
			continue;
		sem_t *s = x->cv;
		x->done = 1; /* x may be gone once posted */
		sem_post(s);
	}
	if (heir)
		sem_post(heir->cv);
	return w->code < 0 ? -1 : 0;
}

/* ---- compaction ------------------------------------------------------- */

static int compact_fn(wreq *w, txn *t)
{
	int64_t to = *(int64_t *)w->arg;
	sqlite3_stmt *s;

	if (to <= db_compacted())
		return 0;
	s = prep(t->db, "DELETE FROM history WHERE rev <= ?1");
	sqlite3_bind_int64(s, 1, to);
	sqlite3_step(s);
	sqlite3_finalize(s);
	s = prep(t->db, "INSERT OR REPLACE INTO meta(k, v) VALUES ('compacted', ?1)");
	sqlite3_bind_int64(s, 1, to);
	sqlite3_step(s);
	sqlite3_finalize(s);
	return 0;
}

void db_compact(void)
{
	int64_t to = db_rev() - cfg.history;
	wreq w = {.fn = compact_fn, .arg = &to};

	if (to <= db_compacted())
		return;
	if (db_write(&w) == 0) {
		atomic_store(&compacted_rev, to);
		kx_log_debug(1, "compacted history up to revision %lld", (long long)to);
	}
	jv_free(w.result);
}

/* Copy the WAL back into the database file without holding up writers
 * (checkpoints are off in the writers' connection). */
void db_checkpoint(void)
{
	static sqlite3 *ck;
	int logn = 0, done = 0;

	if (!ck && sqlite3_open_v2(db_path, &ck, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(ck);
		ck = NULL;
		return;
	}
	if (sqlite3_exec(ck, "SELECT count(*) FROM meta", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(ck); /* it learns the file is in WAL mode by reading it */
		ck = NULL;
		return;
	}
	int rc = sqlite3_wal_checkpoint_v2(ck, NULL, SQLITE_CHECKPOINT_PASSIVE, &logn, &done);
	if (rc != SQLITE_OK)
		kx_log_debug(1, "checkpoint: %s", sqlite3_errmsg(ck));
	kx_log_debug(2, "checkpoint: %d of %d frames", done, logn);
	/* when every frame is copied and no reader is behind, start the WAL over */
	if (logn > 1000 && logn == done)
		sqlite3_wal_checkpoint_v2(ck, NULL, SQLITE_CHECKPOINT_RESTART, &logn, &done);
	if (atomic_load(&stopping)) {
		sqlite3_close(ck);
		ck = NULL;
	}
}

/* ---- open and close ------------------------------------------------------- */

int db_open(const char *dir, char *err, size_t errn)
{
	txn *t = &W;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errn, "cannot create \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	snprintf(db_path, sizeof db_path, "%s/store.db", dir);
	if (sqlite3_open_v2(db_path, &t->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errn, "cannot open \"%s\": %s", db_path, sqlite3_errmsg(t->db));
		return -1;
	}
	sqlite3_busy_timeout(t->db, 5000);
	if (exec(t->db, "PRAGMA journal_mode=WAL") < 0 ||
	    exec(t->db, "PRAGMA synchronous=FULL") < 0 ||
	    exec(t->db, "PRAGMA cache_size=-8000") < 0 ||
	    exec(t->db, "PRAGMA wal_autocheckpoint=0") < 0 || /* db_checkpoint does it, off the write path */
	    exec(t->db, "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, rev INTEGER NOT NULL, "
			"value TEXT NOT NULL);"
			"CREATE TABLE IF NOT EXISTS history(rev INTEGER PRIMARY KEY, key TEXT NOT NULL, "
			"type INTEGER NOT NULL, value TEXT NOT NULL);"
			"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;"
			"CREATE TABLE IF NOT EXISTS alloc(what TEXT PRIMARY KEY, owner TEXT NOT NULL) "
			"WITHOUT ROWID;"
			"CREATE INDEX IF NOT EXISTS alloc_owner ON alloc(owner);"
			"INSERT OR IGNORE INTO meta(k, v) VALUES ('rev', 0), ('compacted', 0);") < 0) {
		snprintf(err, errn, "cannot set up \"%s\": %s", db_path, sqlite3_errmsg(t->db));
		return -1;
	}
	t->get = prep(t->db, "SELECT value FROM kv WHERE key = ?1");
	t->put = prep(t->db, "INSERT OR REPLACE INTO kv(key, rev, value) VALUES (?1, ?2, ?3)");
	t->del = prep(t->db, "DELETE FROM kv WHERE key = ?1");
	t->hist = prep(t->db, "INSERT INTO history(rev, key, type, value) VALUES (?1, ?2, ?3, ?4)");
	t->setmeta = prep(t->db, "UPDATE meta SET v = ?1 WHERE k = 'rev'");
	t->claim = prep(t->db, "INSERT INTO alloc(what, owner) VALUES (?1, ?2) ON CONFLICT(what) DO UPDATE SET owner = excluded.owner WHERE owner = excluded.owner");
	t->release = prep(t->db, "DELETE FROM alloc WHERE owner = ?1");
	t->count = prep(t->db, "SELECT count(*) FROM kv WHERE key > ?1 AND key < ?2");
	t->list = prep(t->db, "SELECT key, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key");
	t->sp = prep(t->db, "SAVEPOINT w");
	t->sp_undo = prep(t->db, "ROLLBACK TO w");
	t->sp_release = prep(t->db, "RELEASE w");
	if (!t->get || !t->put || !t->del || !t->hist || !t->setmeta || !t->claim || !t->release ||
	    !t->count || !t->list || !t->sp || !t->sp_undo || !t->sp_release) {
		snprintf(err, errn, "cannot prepare statements on \"%s\"", db_path);
		return -1;
	}
	t->rev = meta_get(t->db, "rev");
	atomic_store(&cur_rev, t->rev);
	atomic_store(&compacted_rev, meta_get(t->db, "compacted"));
	ring_init(cfg.ring);
	return 0;
}

void db_close(void)
{
	txn *t = &W;

	pthread_mutex_lock(&qmu);
	qstop = 1;
	while (leading || qhead) /* writes in flight finish */
		pthread_cond_wait(&donecv, &qmu);
	pthread_mutex_unlock(&qmu);
	while (pool) {
		rconn *r = pool;
		pool = r->next;
		sqlite3_stmt *ss[] = {r->get, r->list, r->rev, r->hist, r->begin, r->end};
		for (size_t i = 0; i < sizeof ss / sizeof ss[0]; i++)
			sqlite3_finalize(ss[i]);
		sqlite3_close(r->db);
		free(r);
	}
	sqlite3_stmt *ws[] = {t->get,	  t->put,   t->del,   t->hist,	  t->setmeta, t->claim,
			      t->release, t->count, t->sp,    t->sp_undo, t->sp_release};
	for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
		sqlite3_finalize(ws[i]);
	sqlite3_close(t->db);
	free(t->evs);
	free(t->reads);
}
