/* oci.c: read an OCI runtime spec config.json. See oci.h. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/capability.h>

#include "err.h"
#include "json.h"
#include "oci.h"

int kx_oci_valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 128 || id[0] == '.' || id[0] == '-' || id[0] == '_')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int kx_oci_ns_type(const char *name)
{
	static const struct { const char *n; int t; } t[] = {
		{"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
		{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},
		{"cgroup", CLONE_NEWCGROUP},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(t[i].n, name))
			return t[i].t;
	return 0;
}

int kx_oci_cap(const char *name)
{
	cap_value_t v;

	if (strncasecmp(name, "CAP_", 4) || cap_from_name(name, &v) < 0 || v < 0 || v > 63)
		return -1;
	return (int)v;
}

int kx_oci_rlimit(const char *name)
{
	static const struct { const char *n; int r; } t[] = {
		{"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
		{"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
		{"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
		{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
		{"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
		{"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
		{"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
		{"RLIMIT_STACK", RLIMIT_STACK},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(t[i].n, name))
			return t[i].r;
	return -1;
}

int kx_oci_mount_options(struct kx_oci_mount *m, jv options, kx_err *e)
{
	static const struct { const char *n; int clear; unsigned long f; } fl[] = {
		{"ro", 0, MS_RDONLY}, {"rw", 1, MS_RDONLY}, {"nosuid", 0, MS_NOSUID},
		{"suid", 1, MS_NOSUID}, {"nodev", 0, MS_NODEV}, {"dev", 1, MS_NODEV},
		{"noexec", 0, MS_NOEXEC}, {"exec", 1, MS_NOEXEC}, {"sync", 0, MS_SYNCHRONOUS},
		{"async", 1, MS_SYNCHRONOUS}, {"dirsync", 0, MS_DIRSYNC},
		{"remount", 0, MS_REMOUNT}, {"mand", 0, MS_MANDLOCK}, {"nomand", 1, MS_MANDLOCK},
		{"atime", 1, MS_NOATIME}, {"noatime", 0, MS_NOATIME},
		{"diratime", 1, MS_NODIRATIME}, {"nodiratime", 0, MS_NODIRATIME},
		{"relatime", 0, MS_RELATIME}, {"norelatime", 1, MS_RELATIME},
		{"strictatime", 0, MS_STRICTATIME}, {"nostrictatime", 1, MS_STRICTATIME},
		{"bind", 0, MS_BIND}, {"rbind", 0, MS_BIND | MS_REC},
	};
	static const struct { const char *n; unsigned long f; } prop[] = {
		{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
		{"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
		{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	size_t cap = 1, len = 0;
	int rc = 0;

	free(m->data);
	m->data = calloc(1, 1);
	m->flags = 0;
	m->propagation = 0;
	if (m->type && !strcmp(m->type, "bind"))
		m->bind = 1;
	if (jv_get_kind(options) == JV_KIND_NULL) {
		jv_free(options);
		return 0;
	}
	if (jv_get_kind(options) != JV_KIND_ARRAY) {
		jv_free(options);
		return kx_err_set(e, KX_EFAIL, "options: not an array");
	}
	jv_array_foreach(options, i, o) {
		const char *s;
		int done = 0;
		if (jv_get_kind(o) != JV_KIND_STRING) {
			jv_free(o);
			rc = kx_err_set(e, KX_EFAIL, "options[%d]: not a string", i);
			break;
		}
		s = jv_string_value(o);
		for (size_t k = 0; !done && k < sizeof fl / sizeof fl[0]; k++)
			if (!strcmp(s, fl[k].n)) {
				if (fl[k].clear)
					m->flags &= ~fl[k].f;
				else
					m->flags |= fl[k].f;
				done = 1;
			}
		for (size_t k = 0; !done && k < sizeof prop / sizeof prop[0]; k++)
			if (!strcmp(s, prop[k].n)) {
				m->propagation = prop[k].f;
				done = 1;
			}
		if (!done) {
			size_t sl = strlen(s);
			char *p;
			cap = len + sl + 2;
			p = realloc(m->data, cap);
			if (!p) {
				jv_free(o);
				rc = kx_err_set(e, KX_EFAIL, "out of memory");
				break;
			}
			m->data = p;
			if (len)
				m->data[len++] = ',';
			memcpy(m->data + len, s, sl + 1);
			len += sl;
		}
		jv_free(o);
	}
	jv_free(options);
	if (m->flags & MS_BIND)
		m->bind = 1;
	return rc;
}

/* --- parsing helpers: each borrows the object and names the field on error -- */

static const char *get_str(jv obj, const char *key, const char *field, int required, kx_err *e,
			   int *bad)
{
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		if (required) {
			*bad = 1;
			kx_err_set(e, KX_EFAIL, "%s: missing", field);
		}
		return NULL;
	}
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_STRING) {
		const char *s = jv_string_value(v);
		jv_free(v); /* the object still holds a reference */
		return s;
	}
	if (jv_get_kind(v) != JV_KIND_INVALID && jv_get_kind(v) != JV_KIND_NULL) {
		*bad = 1;
		kx_err_set(e, KX_EFAIL, "%s: not a string", field);
	} else if (required) {
		*bad = 1;
		kx_err_set(e, KX_EFAIL, "%s: missing", field);
	}
	jv_free(v);
	return NULL;
}

/* A borrowed member: valid while obj lives. JV_KIND_NULL when absent. */
static jv member(jv obj, const char *key)
{
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	jv_free(v); /* still referenced by obj */
	return v;
}

static int num(jv v, const char *field, int64_t *out, kx_err *e)
{
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return kx_err_set(e, KX_EFAIL, "%s: not a number", field);
	*out = (int64_t)jv_number_value(v);
	return 0;
}

static int str_array(jv arr, const char *field, const char ***out, size_t *n, kx_err *e)
{
	*out = NULL;
	*n = 0;
	if (jv_get_kind(arr) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(arr) != JV_KIND_ARRAY)
		return kx_err_set(e, KX_EFAIL, "%s: not an array", field);
	*out = calloc(jv_array_length(jv_copy(arr)) + 1, sizeof **out);
	for (int i = 0; i < jv_array_length(jv_copy(arr)); i++) {
		jv s = jv_array_get(jv_copy(arr), i);
		if (jv_get_kind(s) != JV_KIND_STRING) {
			jv_free(s);
			return kx_err_set(e, KX_EFAIL, "%s[%d]: not a string", field, i);
		}
		(*out)[(*n)++] = jv_string_value(s);
		jv_free(s);
	}
	return 0;
}

static int parse_caps(struct kx_oci_spec *s, jv caps, kx_err *e)
{
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
					   "ambient"};
	if (jv_get_kind(caps) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(caps) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "process.capabilities: not an object");
	s->has_caps = 1;
	for (int k = 0; k < KX_CAP_NSETS; k++) {
		const char **names;
		size_t n;
		char field[64];
		snprintf(field, sizeof field, "process.capabilities.%s", sets[k]);
		if (str_array(member(caps, sets[k]), field, &names, &n, e) < 0) {
			free(names);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			int c = kx_oci_cap(names[i]);
			if (c < 0) {
				kx_err_set(e, KX_EFAIL, "%s[%zu]: unknown capability \"%s\"", field, i,
					   names[i]);
				free(names);
				return -1;
			}
			s->caps[k] |= 1ull << c;
		}
		free(names);
	}
	return 0;
}

static int parse_process(struct kx_oci_spec *s, jv p, kx_err *e)
{
	int bad = 0;
	const char **strs;
	size_t n;
	jv v;

	if (jv_get_kind(p) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "process: missing or not an object");
	if (str_array(member(p, "args"), "process.args", &strs, &n, e) < 0) {
		free(strs);
		return -1;
	}
	if (n == 0) {
		free(strs);
		return kx_err_set(e, KX_EFAIL, "process.args: missing or empty");
	}
	s->args = (char **)strs;
	if (str_array(member(p, "env"), "process.env", &strs, &n, e) < 0) {
		free(strs);
		return -1;
	}
	s->env = strs ? (char **)strs : calloc(1, sizeof(char *));
	s->cwd = get_str(p, "cwd", "process.cwd", 0, e, &bad);
	if (bad)
		return -1;
	if (!s->cwd)
		s->cwd = "/";
	if (s->cwd[0] != '/')
		return kx_err_set(e, KX_EFAIL, "process.cwd: \"%s\" is not an absolute path", s->cwd);
	v = member(p, "terminal");
	s->terminal = jv_get_kind(v) == JV_KIND_TRUE;
	if (s->terminal)
		return kx_err_set(e, KX_EFAIL, "process.terminal: a terminal is not supported; set it to false");
	v = member(p, "user");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		int64_t x = 0;
		jv u = member(v, "uid"), g = member(v, "gid"), ag = member(v, "additionalGids");
		if (jv_get_kind(u) != JV_KIND_NULL) {
			if (num(u, "process.user.uid", &x, e) < 0)
				return -1;
			s->uid = (uid_t)x;
		}
		if (jv_get_kind(g) != JV_KIND_NULL) {
			if (num(g, "process.user.gid", &x, e) < 0)
				return -1;
			s->gid = (gid_t)x;
		}
		if (jv_get_kind(ag) == JV_KIND_ARRAY) {
			s->ngids = jv_array_length(jv_copy(ag));
			s->gids = calloc(s->ngids + 1, sizeof *s->gids);
			for (size_t i = 0; i < s->ngids; i++) {
				jv gi = jv_array_get(jv_copy(ag), i);
				int r = num(gi, "process.user.additionalGids[]", &x, e);
				jv_free(gi);
				if (r < 0)
					return -1;
				s->gids[i] = (gid_t)x;
			}
		} else if (jv_get_kind(ag) != JV_KIND_NULL)
			return kx_err_set(e, KX_EFAIL, "process.user.additionalGids: not an array");
	} else if (jv_get_kind(v) != JV_KIND_NULL)
		return kx_err_set(e, KX_EFAIL, "process.user: not an object");
	if (parse_caps(s, member(p, "capabilities"), e) < 0)
		return -1;
	s->no_new_privs = jv_get_kind(member(p, "noNewPrivileges")) == JV_KIND_TRUE;
	v = member(p, "oomScoreAdj");
	if (jv_get_kind(v) != JV_KIND_NULL) {
		int64_t x = 0;
		if (num(v, "process.oomScoreAdj", &x, e) < 0)
			return -1;
		if (x < -1000 || x > 1000)
			return kx_err_set(e, KX_EFAIL, "process.oomScoreAdj: %lld is not in -1000..1000",
					  (long long)x);
		s->has_oom_score_adj = 1;
		s->oom_score_adj = (int)x;
	}
	v = member(p, "rlimits");
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		s->nrlimits = jv_array_length(jv_copy(v));
		s->rlimits = calloc(s->nrlimits + 1, sizeof *s->rlimits);
		for (size_t i = 0; i < s->nrlimits; i++) {
			jv r = jv_array_get(jv_copy(v), i);
			char field[64];
			const char *type;
			int64_t soft = 0, hard = 0;
			snprintf(field, sizeof field, "process.rlimits[%zu]", i);
			type = get_str(r, "type", field, 1, e, &bad);
			if (!bad && (s->rlimits[i].resource = kx_oci_rlimit(type)) < 0) {
				bad = 1;
				kx_err_set(e, KX_EFAIL, "%s.type: unknown rlimit \"%s\"", field, type);
			}
			if (!bad && (num(member(r, "soft"), "process.rlimits[].soft", &soft, e) < 0 ||
				     num(member(r, "hard"), "process.rlimits[].hard", &hard, e) < 0))
				bad = 1;
			jv_free(r);
			if (bad)
				return -1;
			s->rlimits[i].soft = (uint64_t)soft;
			s->rlimits[i].hard = (uint64_t)hard;
		}
	} else if (jv_get_kind(v) != JV_KIND_NULL)
		return kx_err_set(e, KX_EFAIL, "process.rlimits: not an array");
	return 0;
}

static int parse_mounts(struct kx_oci_spec *s, jv ms, kx_err *e)
{
	if (jv_get_kind(ms) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(ms) != JV_KIND_ARRAY)
		return kx_err_set(e, KX_EFAIL, "mounts: not an array");
	s->nmounts = jv_array_length(jv_copy(ms));
	s->mounts = calloc(s->nmounts + 1, sizeof *s->mounts);
	for (size_t i = 0; i < s->nmounts; i++) {
		jv m = jv_array_get(jv_copy(ms), i);
		struct kx_oci_mount *mt = &s->mounts[i];
		char field[64];
		int bad = 0;
		snprintf(field, sizeof field, "mounts[%zu]", i);
		if (jv_get_kind(m) != JV_KIND_OBJECT) {
			jv_free(m);
			return kx_err_set(e, KX_EFAIL, "%s: not an object", field);
		}
		mt->dest = get_str(m, "destination", "mounts[].destination", 1, e, &bad);
		if (!bad)
			mt->type = get_str(m, "type", "mounts[].type", 0, e, &bad);
		if (!bad)
			mt->source = get_str(m, "source", "mounts[].source", 0, e, &bad);
		if (!bad && mt->dest[0] != '/')
			bad = 1, kx_err_set(e, KX_EFAIL, "destination \"%s\" is not absolute", mt->dest);
		if (!bad && kx_oci_mount_options(mt, jv_copy(member(m, "options")), e) < 0)
			bad = 1;
		if (!bad && !mt->bind && !mt->type)
			bad = 1, kx_err_set(e, KX_EFAIL, "type: missing for \"%s\"", mt->dest);
		if (!bad && mt->bind && !mt->source)
			bad = 1, kx_err_set(e, KX_EFAIL, "source: missing for bind mount \"%s\"", mt->dest);
		if (!mt->source)
			mt->source = mt->type;
		jv_free(m);
		if (bad)
			return kx_err_wrap(e, "%s", field);
	}
	return 0;
}

static int parse_resources(struct kx_oci_spec *s, jv r, kx_err *e)
{
	struct kx_cgroup_limits *l = &s->limits;
	jv v, w;
	int64_t x = 0;

	if (jv_get_kind(r) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "linux.resources: not an object");
	v = member(r, "memory");
	if (jv_get_kind((w = member(v, "limit"))) != JV_KIND_NULL) {
		if (num(w, "linux.resources.memory.limit", &l->memory, e) < 0)
			return -1;
	}
	if (jv_get_kind((w = member(v, "swap"))) != JV_KIND_NULL) {
		if (num(w, "linux.resources.memory.swap", &l->memory_swap, e) < 0)
			return -1;
	}
	v = member(r, "cpu");
	if (jv_get_kind((w = member(v, "quota"))) != JV_KIND_NULL &&
	    num(w, "linux.resources.cpu.quota", &l->cpu_quota, e) < 0)
		return -1;
	if (jv_get_kind((w = member(v, "period"))) != JV_KIND_NULL) {
		if (num(w, "linux.resources.cpu.period", &x, e) < 0)
			return -1;
		l->cpu_period = (uint64_t)x;
	}
	if (jv_get_kind((w = member(v, "shares"))) != JV_KIND_NULL) {
		if (num(w, "linux.resources.cpu.shares", &x, e) < 0)
			return -1;
		l->cpu_shares = (uint64_t)x;
	}
	if (jv_get_kind((w = member(v, "cpus"))) == JV_KIND_STRING)
		snprintf(l->cpuset_cpus, sizeof l->cpuset_cpus, "%s", jv_string_value(w));
	if (jv_get_kind((w = member(v, "mems"))) == JV_KIND_STRING)
		snprintf(l->cpuset_mems, sizeof l->cpuset_mems, "%s", jv_string_value(w));
	v = member(r, "pids");
	if (jv_get_kind((w = member(v, "limit"))) != JV_KIND_NULL &&
	    num(w, "linux.resources.pids.limit", &l->pids, e) < 0)
		return -1;
	v = member(r, "devices");
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		s->ndevrules = jv_array_length(jv_copy(v));
		s->devrules = calloc(s->ndevrules + 1, sizeof *s->devrules);
		for (size_t i = 0; i < s->ndevrules; i++) {
			jv d = jv_array_get(jv_copy(v), i);
			struct kx_oci_devrule *dr = &s->devrules[i];
			char type[8] = "a", maj[24] = "*", min[24] = "*", acc[8] = "rwm";
			jv t = member(d, "type"), a = member(d, "access");
			dr->allow = jv_get_kind(member(d, "allow")) == JV_KIND_TRUE;
			if (jv_get_kind(t) == JV_KIND_STRING)
				snprintf(type, sizeof type, "%s", jv_string_value(t));
			if (jv_get_kind(a) == JV_KIND_STRING)
				snprintf(acc, sizeof acc, "%s", jv_string_value(a));
			if (jv_get_kind(member(d, "major")) == JV_KIND_NUMBER)
				snprintf(maj, sizeof maj, "%lld",
					 (long long)jv_number_value(member(d, "major")));
			if (jv_get_kind(member(d, "minor")) == JV_KIND_NUMBER)
				snprintf(min, sizeof min, "%lld",
					 (long long)jv_number_value(member(d, "minor")));
			jv_free(d);
			if (strcmp(type, "a") && strcmp(type, "c") && strcmp(type, "b"))
				return kx_err_set(e, KX_EFAIL,
						  "linux.resources.devices[%zu].type: \"%s\" is not a, b or c",
						  i, type);
			if (!strcmp(type, "a"))
				snprintf(dr->rule, sizeof dr->rule, "a");
			else
				snprintf(dr->rule, sizeof dr->rule, "%s %s:%s %s", type, maj, min, acc);
		}
	}
	return 0;
}

static int parse_linux(struct kx_oci_spec *s, jv l, kx_err *e)
{
	int bad = 0;
	jv v;

	if (jv_get_kind(l) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(l) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "linux: not an object");
	v = member(l, "namespaces");
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		s->nns = jv_array_length(jv_copy(v));
		s->ns = calloc(s->nns + 1, sizeof *s->ns);
		for (size_t i = 0; i < s->nns; i++) {
			jv n = jv_array_get(jv_copy(v), i);
			char field[64];
			const char *type, *path;
			snprintf(field, sizeof field, "linux.namespaces[%zu].type", i);
			type = get_str(n, "type", field, 1, e, &bad);
			snprintf(field, sizeof field, "linux.namespaces[%zu].path", i);
			path = bad ? NULL : get_str(n, "path", field, 0, e, &bad);
			jv_free(n);
			if (bad)
				return -1;
			s->ns[i].type = kx_oci_ns_type(type);
			if (!s->ns[i].type)
				return kx_err_set(e, KX_EFAIL, "linux.namespaces[%zu].type: unknown namespace \"%s\"", i, type);
			if (s->ns[i].type == CLONE_NEWUSER)
				return kx_err_set(e, KX_EFAIL, "linux.namespaces[%zu].type: user namespaces are not supported", i);
			for (size_t k = 0; k < i; k++)
				if (s->ns[k].type == s->ns[i].type)
					return kx_err_set(e, KX_EFAIL, "linux.namespaces[%zu]: \"%s\" given twice", i, type);
			s->ns[i].path = path && path[0] ? path : NULL;
			if (!s->ns[i].path)
				s->clone_flags |= s->ns[i].type;
		}
	} else if (jv_get_kind(v) != JV_KIND_NULL)
		return kx_err_set(e, KX_EFAIL, "linux.namespaces: not an array");
	s->cgroups_path = get_str(l, "cgroupsPath", "linux.cgroupsPath", 0, e, &bad);
	if (bad)
		return -1;
	if (s->cgroups_path && s->cgroups_path[0]) {
		char cg[4096];
		snprintf(cg, sizeof cg, "%s%s", s->cgroups_path[0] == '/' ? "" : "/", s->cgroups_path);
		if (!kx_cgroup_path_ok(cg))
			return kx_err_set(e, KX_EFAIL,
					  "linux.cgroupsPath: \"%s\" is not a cgroup below the root "
					  "(no \".\" or \"..\", not \"/\")", s->cgroups_path);
	}
	if (parse_resources(s, member(l, "resources"), e) < 0)
		return -1;
	if (str_array(member(l, "maskedPaths"), "linux.maskedPaths", &s->masked, &s->nmasked, e) < 0)
		return -1;
	if (str_array(member(l, "readonlyPaths"), "linux.readonlyPaths", &s->readonly,
		      &s->nreadonly, e) < 0)
		return -1;
	v = member(l, "sysctl");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		size_t n = jv_object_length(jv_copy(v)), i = 0;
		s->sysctl_keys = calloc(n + 1, sizeof *s->sysctl_keys);
		s->sysctl_vals = calloc(n + 1, sizeof *s->sysctl_vals);
		jv_object_foreach(v, k, val) {
			if (jv_get_kind(val) != JV_KIND_STRING) {
				kx_err_set(e, KX_EFAIL, "linux.sysctl.%s: not a string", jv_string_value(k));
				jv_free(k);
				jv_free(val);
				return -1;
			}
			/* the value stays referenced by the object in s->json */
			s->sysctl_vals[i] = jv_string_value(val);
			s->sysctl_keys[i] = strdup(jv_string_value(k));
			jv_free(val);
			jv_free(k);
			i++;
		}
		s->nsysctl = i;
	}
	v = member(l, "devices");
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		s->ndevices = jv_array_length(jv_copy(v));
		s->devices = calloc(s->ndevices + 1, sizeof *s->devices);
		for (size_t i = 0; i < s->ndevices; i++) {
			jv d = jv_array_get(jv_copy(v), i);
			struct kx_oci_device *dv = &s->devices[i];
			const char *t;
			int64_t x = 0;
			t = get_str(d, "type", "linux.devices[].type", 1, e, &bad);
			if (!bad)
				dv->path = get_str(d, "path", "linux.devices[].path", 1, e, &bad);
			if (!bad && (strlen(t) != 1 || !strchr("cbpu", t[0])))
				bad = 1, kx_err_set(e, KX_EFAIL, "linux.devices[%zu].type: \"%s\" is not c, b, u or p", i, t);
			if (!bad && dv->path[0] != '/')
				bad = 1, kx_err_set(e, KX_EFAIL, "linux.devices[%zu].path: not absolute", i);
			if (!bad) {
				dv->type = t[0] == 'u' ? 'c' : t[0];
				dv->mode = 0666;
				if (jv_get_kind(member(d, "major")) == JV_KIND_NUMBER)
					dv->major = (int64_t)jv_number_value(member(d, "major"));
				if (jv_get_kind(member(d, "minor")) == JV_KIND_NUMBER)
					dv->minor = (int64_t)jv_number_value(member(d, "minor"));
				if (num(member(d, "fileMode"), "", &x, NULL) == 0)
					dv->mode = (unsigned)x & 07777;
				if (num(member(d, "uid"), "", &x, NULL) == 0)
					dv->uid = (uid_t)x;
				if (num(member(d, "gid"), "", &x, NULL) == 0)
					dv->gid = (gid_t)x;
			}
			jv_free(d);
			if (bad)
				return -1;
		}
	}
	return 0;
}

/* True when v says something: not absent, null, false, 0, "", [] or {}. */
static int set_to_something(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
	case JV_KIND_FALSE:
		return 0;
	case JV_KIND_NUMBER:
		return jv_number_value(v) != 0;
	case JV_KIND_STRING:
		return jv_string_length_bytes(jv_copy(v)) > 0;
	case JV_KIND_ARRAY:
		return jv_array_length(jv_copy(v)) > 0;
	case JV_KIND_OBJECT:
		return jv_object_length(jv_copy(v)) > 0;
	default:
		return 1;
	}
}

/* Fields of the spec kx-container knows but cannot honour: set to
 * anything, they are an error naming the field rather than silently
 * ignored. */
static int check_unsupported(jv root, kx_err *e)
{
	static const char *const fields[] = {
		"process.apparmorProfile", "process.selinuxLabel", "process.scheduler",
		"process.ioPriority", "linux.uidMappings", "linux.gidMappings", "linux.seccomp",
		"linux.intelRdt", "linux.personality", "linux.mountLabel",
		"linux.resources.blockIO", "linux.resources.hugepageLimits", "linux.resources.network",
		"linux.resources.rdma", "linux.resources.memory.reservation",
		"linux.resources.memory.kernel", "linux.resources.memory.kernelTCP",
		"linux.resources.memory.swappiness", "linux.resources.cpu.realtimeRuntime",
		"linux.resources.cpu.realtimePeriod", NULL,
	};
	for (int i = 0; fields[i]; i++) {
		char path[128], *tok, *save = NULL;
		jv v = root;
		snprintf(path, sizeof path, "%s", fields[i]);
		for (tok = strtok_r(path, ".", &save); tok && jv_get_kind(v) != JV_KIND_NULL;
		     tok = strtok_r(NULL, ".", &save))
			v = member(v, tok);
		if (!tok && set_to_something(v))
			return kx_err_set(e, KX_EFAIL, "%s: not supported by kx-container; remove it",
					  fields[i]);
	}
	{
		jv p = member(member(root, "linux"), "rootfsPropagation");
		if (jv_get_kind(p) == JV_KIND_STRING && strcmp(jv_string_value(p), "") &&
		    strcmp(jv_string_value(p), "private") && strcmp(jv_string_value(p), "rprivate"))
			return kx_err_set(e, KX_EFAIL,
					  "linux.rootfsPropagation: \"%s\" is not supported (the root is private)",
					  jv_string_value(p));
	}
	return 0;
}

int kx_oci_parse(struct kx_oci_spec *s, const char *text, size_t n, const char *bundle, kx_err *e)
{
	const char *rootpath;
	int bad = 0;
	jv root, v;

	memset(s, 0, sizeof *s);
	s->limits = (struct kx_cgroup_limits)KX_CGROUP_LIMITS_INIT;
	s->annotations = jv_null();
	s->json = kx_json_parse(text, n, e);
	if (!jv_is_valid(s->json))
		return kx_err_wrap(e, "malformed config.json");
	if (jv_get_kind(s->json) != JV_KIND_OBJECT)
		return kx_err_set(e, KX_EFAIL, "malformed config.json: not a JSON object");
	v = member(s->json, "ociVersion");
	if (jv_get_kind(v) != JV_KIND_STRING)
		return kx_err_set(e, KX_EFAIL, "ociVersion: missing or not a string");
	if (strncmp(jv_string_value(v), "1.", 2))
		return kx_err_set(e, KX_EFAIL, "ociVersion: \"%s\" is not 1.x", jv_string_value(v));
	if (check_unsupported(s->json, e) < 0)
		return -1;
	if (parse_process(s, member(s->json, "process"), e) < 0)
		return -1;
	root = member(s->json, "root");
	rootpath = get_str(root, "path", "root.path", 1, e, &bad);
	if (bad)
		return -1;
	if (rootpath[0] == '/')
		snprintf(s->root, sizeof s->root, "%s", rootpath);
	else
		snprintf(s->root, sizeof s->root, "%s/%s", bundle, rootpath);
	s->root_readonly = jv_get_kind(member(root, "readonly")) == JV_KIND_TRUE;
	s->hostname = get_str(s->json, "hostname", "hostname", 0, e, &bad);
	if (bad)
		return -1;
	if (parse_mounts(s, member(s->json, "mounts"), e) < 0)
		return -1;
	if (parse_linux(s, member(s->json, "linux"), e) < 0)
		return -1;
	if (s->hostname && s->hostname[0] && !(s->clone_flags & CLONE_NEWUTS))
		return kx_err_set(e, KX_EFAIL, "hostname: needs a new uts namespace in linux.namespaces");
	if (!(s->clone_flags & CLONE_NEWNS)) {
		/* all of these change mounts: only in the container's own namespace */
		const char *f = s->nmounts ? "mounts" : s->root_readonly ? "root.readonly" :
				s->nmasked ? "linux.maskedPaths" : s->nreadonly ? "linux.readonlyPaths" :
				s->ndevices ? "linux.devices" : s->nsysctl ? "linux.sysctl" : NULL;
		if (f)
			return kx_err_set(e, KX_EFAIL, "%s: needs a new mount namespace in linux.namespaces", f);
	}
	v = member(s->json, "annotations");
	s->annotations = jv_get_kind(v) == JV_KIND_OBJECT ? v : jv_null();
	return 0;
}

void kx_oci_free(struct kx_oci_spec *s)
{
	free(s->args);
	free(s->env);
	free(s->gids);
	free(s->rlimits);
	for (size_t i = 0; i < s->nmounts; i++)
		free(s->mounts[i].data);
	free(s->mounts);
	free(s->ns);
	free(s->devrules);
	free(s->devices);
	free(s->masked);
	free(s->readonly);
	for (size_t i = 0; s->sysctl_keys && s->sysctl_keys[i]; i++)
		free((char *)s->sysctl_keys[i]);
	free(s->sysctl_keys);
	free(s->sysctl_vals);
	jv_free(s->json);
	memset(s, 0, sizeof *s);
	s->json = jv_null();
}
