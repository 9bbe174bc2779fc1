/* spec.c: from a pod and its image to an OCI runtime spec (config.json),
 * as the kubelet and a CRI runtime do between them. Everything here is
 * pure: data in, data out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "noderun.h"
#include "spec.h"

/* ---- command and args ----------------------------------------------------- */

/* Kubernetes' $(VAR) expansion: $(NAME) becomes NAME's value when env
 * (an object) has it, is left as written otherwise; $$ is a literal $. */
char *nr_expand(const char *s, jv env)
{
	kx_buf b = KX_BUF_INIT;

	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			kx_buf_addc(&b, '$');
			s += 2;
		} else if (s[0] == '$' && s[1] == '(') {
			const char *close = strchr(s + 2, ')');
			if (!close) {
				kx_buf_adds(&b, s);
				break;
			}
			char name[256];
			size_t n = (size_t)(close - s - 2);
			jv v = jv_invalid();
			if (n < sizeof name) {
				memcpy(name, s + 2, n);
				name[n] = 0;
				v = jv_object_get(jv_copy(env), jv_string(name));
			}
			if (jv_is_valid(v) && jv_get_kind(v) == JV_KIND_STRING)
				kx_buf_adds(&b, jv_string_value(v));
			else
				kx_buf_add(&b, s, (size_t)(close - s + 1));
			jv_free(v);
			s = close + 1;
		} else
			kx_buf_addc(&b, *s++);
	}
	return kx_buf_steal(&b);
}

static jv expand_all(jv arr, jv env)
{
	jv out = jv_array();

	if (jv_get_kind(arr) == JV_KIND_ARRAY) {
		jv_array_foreach(arr, i, a)
		{
			if (jv_get_kind(a) == JV_KIND_STRING) {
				char *x = nr_expand(jv_string_value(a), env);
				out = jv_array_append(out, jv_string(x));
				free(x);
			}
			jv_free(a);
		}
	}
	jv_free(arr);
	return out;
}

/* The kind of the value at path (borrows v). */
static jv_kind kind_at(jv v, const char *path)
{
	jv x = kx_jv_get(jv_copy(v), path);
	jv_kind k = jv_get_kind(x);
	jv_free(x);
	return k;
}

static int has_key(jv obj, const char *key)
{
	jv x = jv_object_get(jv_copy(obj), jv_string(key));
	int r = jv_is_valid(x) && jv_get_kind(x) == JV_KIND_STRING;
	jv_free(x);
	return r;
}

static int nonempty(jv a)
{
	return jv_get_kind(a) == JV_KIND_ARRAY && jv_array_length(jv_copy(a)) > 0;
}

jv nr_args(jv container, jv image_config, jv env)
{
	jv cmd = kx_jv_get(jv_copy(container), "command");
	jv args = kx_jv_get(jv_copy(container), "args");
	jv ep = kx_jv_get(jv_copy(image_config), "Entrypoint");
	jv icmd = kx_jv_get(jv_copy(image_config), "Cmd");
	jv out;

	/* Kubernetes' rule: command replaces the image's Entrypoint (and its
	 * Cmd); args replace the Cmd only. */
	if (nonempty(cmd)) {
		out = jv_array_concat(expand_all(jv_copy(cmd), env), expand_all(jv_copy(args), env));
	} else if (nonempty(args)) {
		out = jv_array_concat(nonempty(ep) ? jv_copy(ep) : jv_array(),
				      expand_all(jv_copy(args), env));
	} else {
		out = jv_array_concat(nonempty(ep) ? jv_copy(ep) : jv_array(),
				      nonempty(icmd) ? jv_copy(icmd) : jv_array());
	}
	jv_free(cmd);
	jv_free(args);
	jv_free(ep);
	jv_free(icmd);
	jv_free(container);
	jv_free(image_config);
	jv_free(env);
	return out;
}

/* ---- environment ---------------------------------------------------------- */

/* metadata.labels['app'] and friends. */
static jv field_ref(jv pod, const char *path, const struct nr_pod_facts *f)
{
	char key[256];
	jv v;

	if (!strncmp(path, "metadata.labels['", 17) || !strncmp(path, "metadata.annotations['", 22)) {
		int lab = path[9] == 'l';
		const char *k = path + (lab ? 17 : 22);
		size_t n = strcspn(k, "'");
		if (n >= sizeof key)
			return jv_invalid();
		memcpy(key, k, n);
		key[n] = 0;
		v = jv_object_get(kx_jv_get(jv_copy(pod), lab ? "metadata.labels" : "metadata.annotations"),
				  jv_string(key));
		return jv_is_valid(v) && jv_get_kind(v) == JV_KIND_STRING ? v : (jv_free(v), jv_string(""));
	}
	if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs"))
		return jv_string(f->pod_ip);
	if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs"))
		return jv_string(f->host_ip);
	if (!strcmp(path, "spec.nodeName"))
		return jv_string(f->node);
	if (!strcmp(path, "metadata.name") || !strcmp(path, "metadata.namespace") ||
	    !strcmp(path, "metadata.uid") || !strcmp(path, "spec.serviceAccountName")) {
		v = kx_jv_get(jv_copy(pod), path);
		if (jv_get_kind(v) == JV_KIND_STRING)
			return v;
		jv_free(v);
		if (!strcmp(path, "spec.serviceAccountName"))
			return jv_string("default");
		return jv_string("");
	}
	return jv_invalid();
}

/* limits.cpu, requests.memory... with a divisor, rounded up as Kubernetes
 * does; a missing limit is the node's allocatable. */
static jv resource_ref(jv container, jv ref, const struct nr_pod_facts *f)
{
	char res[64], div[32], buf[64];
	int64_t v = -1, d = 1;
	jv q;

	nr_str(ref, "resource", res, sizeof res, "");
	nr_str(ref, "divisor", div, sizeof div, "");
	q = kx_jv_get(jv_copy(container), "resources");
	q = kx_jv_get(q, !strncmp(res, "limits.", 7) ? "limits" : "requests");
	q = jv_object_get(q, jv_string(strchr(res, '.') ? strchr(res, '.') + 1 : res));
	if (jv_get_kind(q) == JV_KIND_STRING || jv_get_kind(q) == JV_KIND_NUMBER)
		v = nr_quantity_milli(q);
	else
		jv_free(q);
	if (v < 0 && !strncmp(res, "limits.", 7))
		v = !strcmp(res, "limits.cpu") ? f->cpus * 1000 : f->mem_bytes * 1000;
	if (v < 0)
		v = 0;
	if (div[0]) {
		d = nr_quantity_milli(jv_string(div));
		if (d <= 0)
			d = 1000;
	} else
		d = !strcmp(res + strcspn(res, ".") + 1, "cpu") ? 1000 : 1000;
	snprintf(buf, sizeof buf, "%lld", (long long)((v + d - 1) / d));
	jv_free(ref);
	return jv_string(buf);
}

static jv lookup_key(jv objs, const char *kind, const char *name, const char *key, int *found)
{
	jv o = kx_jv_get(jv_copy(objs), kind);
	jv data, v;

	if (jv_get_kind(o) == JV_KIND_OBJECT)
		o = jv_object_get(o, jv_string(name));
	*found = jv_is_valid(o) && jv_get_kind(o) == JV_KIND_OBJECT;
	data = *found ? kx_jv_get(jv_copy(o), "data") : jv_null();
	v = jv_get_kind(data) == JV_KIND_OBJECT ? jv_object_get(jv_copy(data), jv_string(key))
						 : jv_invalid();
	jv_free(data);
	jv_free(o);
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return jv_invalid();
	}
	if (!strcmp(kind, "secrets")) { /* secrets' data is base64 */
		char *plain = nr_base64_decode(jv_string_value(v), NULL);
		jv_free(v);
		if (!plain)
			return jv_invalid();
		v = jv_string(plain);
		free(plain);
	}
	return v;
}

jv nr_env(jv pod, jv container, jv image_env, jv objs, const struct nr_pod_facts *f, char *err,
	  size_t errn)
{
	jv env = jv_object(), list;

	err[0] = 0;
	/* the image's environment, "K=V" strings */
	if (jv_get_kind(image_env) == JV_KIND_ARRAY) {
		jv_array_foreach(image_env, i, kv)
		{
			if (jv_get_kind(kv) == JV_KIND_STRING) {
				const char *s = jv_string_value(kv), *eq = strchr(s, '=');
				if (eq) {
					char k[256];
					snprintf(k, sizeof k, "%.*s", (int)(eq - s), s);
					env = jv_object_set(env, jv_string(k), jv_string(eq + 1));
				}
			}
			jv_free(kv);
		}
	}
	jv_free(image_env);
	/* envFrom, then env (env wins) */
	list = kx_jv_get(jv_copy(container), "envFrom");
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, src)
		{
			char name[256], prefix[256];
			int secret = kind_at(src, "secretRef") == JV_KIND_OBJECT;
			const char *ref = secret ? "secretRef" : "configMapRef";
			char p1[64], p2[64];
			snprintf(p1, sizeof p1, "%s.name", ref);
			snprintf(p2, sizeof p2, "%s.optional", ref);
			nr_str(src, p1, name, sizeof name, "");
			nr_str(src, "prefix", prefix, sizeof prefix, "");
			jv o = kx_jv_get(jv_copy(objs), secret ? "secrets" : "configmaps");
			if (jv_get_kind(o) == JV_KIND_OBJECT)
				o = jv_object_get(o, jv_string(name));
			if (!jv_is_valid(o) || jv_get_kind(o) != JV_KIND_OBJECT) {
				if (!kx_jv_bool(src, p2, 0) && !err[0])
					snprintf(err, errn, "%s \"%s\" not found",
						 secret ? "secret" : "configmap", name);
			} else {
				jv data = kx_jv_get(jv_copy(o), "data");
				if (jv_get_kind(data) == JV_KIND_OBJECT) {
					jv_object_foreach(data, k, v)
					{
						char full[600];
						snprintf(full, sizeof full, "%s%s", prefix, jv_string_value(k));
						if (secret && jv_get_kind(v) == JV_KIND_STRING) {
							char *plain = nr_base64_decode(jv_string_value(v), NULL);
							if (plain) {
								env = jv_object_set(env, jv_string(full),
										    jv_string(plain));
								free(plain);
							}
							jv_free(v);
						} else if (jv_get_kind(v) == JV_KIND_STRING)
							env = jv_object_set(env, jv_string(full), v);
						else
							jv_free(v);
						jv_free(k);
					}
				}
				jv_free(data);
			}
			jv_free(o);
			jv_free(src);
		}
	}
	jv_free(list);
	list = kx_jv_get(jv_copy(container), "env");
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, ev)
		{
			char name[256];
			jv val = kx_jv_get(jv_copy(ev), "value");
			jv from = kx_jv_get(jv_copy(ev), "valueFrom");

			nr_str(ev, "name", name, sizeof name, "");
			if (!name[0]) {
				/* skip */
			} else if (jv_get_kind(val) == JV_KIND_STRING) {
				char *x = nr_expand(jv_string_value(val), env);
				env = jv_object_set(env, jv_string(name), jv_string(x));
				free(x);
			} else if (jv_get_kind(from) == JV_KIND_OBJECT) {
				char a[256], b[256];
				jv v = jv_invalid();
				int found = 1, optional = 0;
				if (nr_str(from, "fieldRef.fieldPath", a, sizeof a, "")[0]) {
					v = field_ref(pod, a, f);
				} else if (kind_at(from, "resourceFieldRef") == JV_KIND_OBJECT) {
					v = resource_ref(container, kx_jv_get(jv_copy(from), "resourceFieldRef"),
							 f);
				} else if (nr_str(from, "configMapKeyRef.name", a, sizeof a, "")[0]) {
					nr_str(from, "configMapKeyRef.key", b, sizeof b, "");
					optional = kx_jv_bool(from, "configMapKeyRef.optional", 0);
					v = lookup_key(objs, "configmaps", a, b, &found);
					if (!jv_is_valid(v) && !optional && !err[0])
						snprintf(err, errn,
							 found ? "couldn't find key %s in ConfigMap %s"
							       : "configmap \"%s%s\" not found",
							 found ? b : "", a);
				} else if (nr_str(from, "secretKeyRef.name", a, sizeof a, "")[0]) {
					nr_str(from, "secretKeyRef.key", b, sizeof b, "");
					optional = kx_jv_bool(from, "secretKeyRef.optional", 0);
					v = lookup_key(objs, "secrets", a, b, &found);
					if (!jv_is_valid(v) && !optional && !err[0])
						snprintf(err, errn,
							 found ? "couldn't find key %s in Secret %s"
							       : "secret \"%s%s\" not found",
							 found ? b : "", a);
				}
				if (jv_is_valid(v))
					env = jv_object_set(env, jv_string(name), v);
				else
					jv_free(v);
			} else
				env = jv_object_set(env, jv_string(name), jv_string(""));
			jv_free(val);
			jv_free(from);
			jv_free(ev);
		}
	}
	jv_free(list);
	jv_free(pod);
	jv_free(container);
	jv_free(objs);
	return env;
}

/* ---- quantities and base64 (small, to keep this file free of I/O) ------- */

int64_t nr_quantity_milli(jv q)
{
	double v;
	char *end;
	int64_t mult = 1000;
	const char *s;
	static const struct {
		const char *suf;
		double m;
	} sufs[] = {
		{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
		{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"m", 1e-3}, {"", 1},
	};

	if (jv_get_kind(q) == JV_KIND_NUMBER) {
		v = jv_number_value(q);
		jv_free(q);
		return (int64_t)(v * 1000);
	}
	if (jv_get_kind(q) != JV_KIND_STRING) {
		jv_free(q);
		return -1;
	}
	s = jv_string_value(q);
	v = strtod(s, &end);
	if (end == s) {
		jv_free(q);
		return -1;
	}
	for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
		if (!strcmp(end, sufs[i].suf)) {
			double r = v * sufs[i].m * (double)mult;
			jv_free(q);
			return (int64_t)(r + 0.5);
		}
	jv_free(q);
	return -1;
}

char *nr_base64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=' || c == '\n' || c == '\r')
			continue;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[o] = 0;
	if (outlen)
		*outlen = o;
	return (char *)out;
}

/* ---- capabilities --------------------------------------------------------- */

/* The default set a container runtime gives (containerd's and CRI-O's). */
static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

static const char *const all_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", NULL,
};

static void cap_name(const char *in, char *out, size_t n)
{
	size_t o = 0;

	if (strncasecmp(in, "CAP_", 4))
		o = (size_t)snprintf(out, n, "CAP_");
	for (; *in && o + 1 < n; in++)
		out[o++] = (char)(*in >= 'a' && *in <= 'z' ? *in - 32 : *in);
	out[o] = 0;
}

static int in_list(jv list, const char *cap)
{
	int found = 0;

	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return 0;
	jv_array_foreach(list, i, c)
	{
		char name[64];
		if (jv_get_kind(c) == JV_KIND_STRING) {
			cap_name(jv_string_value(c), name, sizeof name);
			if (!strcmp(name, cap) || !strcmp(name, "CAP_ALL"))
				found = 1;
		}
		jv_free(c);
	}
	return found;
}

jv nr_caps(jv sc)
{
	jv add = kx_jv_get(jv_copy(sc), "capabilities.add");
	jv drop = kx_jv_get(jv_copy(sc), "capabilities.drop");
	jv out = jv_array();
	int priv = kx_jv_bool(sc, "privileged", 0);

	for (int i = 0; all_caps[i]; i++) {
		int def = 0;
		for (int j = 0; default_caps[j]; j++)
			def |= !strcmp(all_caps[i], default_caps[j]);
		if (priv || in_list(add, all_caps[i]) || (def && !in_list(drop, all_caps[i])))
			out = jv_array_append(out, jv_string(all_caps[i]));
	}
	jv_free(add);
	jv_free(drop);
	jv_free(sc);
	return out;
}

/* ---- the OCI spec ------------------------------------------------------------ */

static jv oci_mount(const char *dst, const char *type, const char *src, const char *opts)
{
	jv m = jv_object(), o = jv_array();
	char buf[256], *save = NULL;

	m = jv_object_set(m, jv_string("destination"), jv_string(dst));
	m = jv_object_set(m, jv_string("type"), jv_string(type));
	m = jv_object_set(m, jv_string("source"), jv_string(src));
	snprintf(buf, sizeof buf, "%s", opts);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		o = jv_array_append(o, jv_string(t));
	return jv_object_set(m, jv_string("options"), o);
}

static jv strs(const char *const *s)
{
	jv a = jv_array();
	for (; *s; s++)
		a = jv_array_append(a, jv_string(*s));
	return a;
}

const char *nr_qos_class(jv pod)
{
	jv cs = kx_jv_get(jv_copy(pod), "spec.containers");
	int any = 0, guaranteed = 1;

	if (jv_get_kind(cs) == JV_KIND_ARRAY) {
		jv_array_foreach(cs, i, c)
		{
			static const char *const rs[] = {"cpu", "memory"};
			for (int k = 0; k < 2; k++) {
				char lp[64], rp[64];
				snprintf(lp, sizeof lp, "resources.limits.%s", rs[k]);
				snprintf(rp, sizeof rp, "resources.requests.%s", rs[k]);
				jv l = kx_jv_get(jv_copy(c), lp), r = kx_jv_get(jv_copy(c), rp);
				int hl = jv_get_kind(l) != JV_KIND_NULL, hr = jv_get_kind(r) != JV_KIND_NULL;
				any |= hl || hr;
				if (!hl)
					guaranteed = 0;
				else if (hr && nr_quantity_milli(jv_copy(l)) != nr_quantity_milli(jv_copy(r)))
					guaranteed = 0;
				jv_free(l);
				jv_free(r);
			}
			jv_free(c);
		}
	}
	jv_free(cs);
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

jv nr_oci_spec(jv pod, jv container, jv image_config, jv env, const struct nr_bundle_ctx *b,
	       char *err, size_t errn)
{
	jv spec = jv_object(), proc = jv_object(), linux_ = jv_object(), mounts = jv_array();
	jv sc = kx_jv_get(jv_copy(pod), "spec.securityContext");
	jv csc = kx_jv_get(jv_copy(container), "securityContext");
	jv envarr = jv_array(), args, ns, res = jv_object(), vms;
	char wd[1024], user[128];
	int64_t uid = 0, gid = 0, v;
	int have_uid = 0;

	err[0] = 0;
	if (jv_get_kind(sc) != JV_KIND_OBJECT) {
		jv_free(sc);
		sc = jv_object();
	}
	if (jv_get_kind(csc) != JV_KIND_OBJECT) {
		jv_free(csc);
		csc = jv_object();
	}
	/* user: container securityContext, then the pod's, then the image's */
	nr_str(image_config, "User", user, sizeof user, "");
	if (user[0] && strspn(user, "0123456789") == strcspn(user, ":")) {
		uid = strtoll(user, NULL, 10);
		have_uid = 1;
		if (strchr(user, ':'))
			gid = strtoll(strchr(user, ':') + 1, NULL, 10);
	} else if (user[0] && strcmp(user, "root")) {
		have_uid = -1; /* a name we cannot resolve without the image's passwd */
	}
	if ((v = kx_jv_int(sc, "runAsUser", -1)) >= 0 || (v = kx_jv_int(csc, "runAsUser", -1)) >= 0) {
		int64_t cv = kx_jv_int(csc, "runAsUser", -1);
		uid = cv >= 0 ? cv : v;
		have_uid = 1;
	}
	if ((v = kx_jv_int(csc, "runAsGroup", -1)) >= 0 || (v = kx_jv_int(sc, "runAsGroup", -1)) >= 0)
		gid = v;
	if ((kx_jv_bool(csc, "runAsNonRoot", 0) || kx_jv_bool(sc, "runAsNonRoot", 0))) {
		if (have_uid == -1)
			snprintf(err, errn,
				 "container has runAsNonRoot and image has non-numeric user (%s), "
				 "cannot verify user is non-root", user);
		else if (uid == 0)
			snprintf(err, errn, "container has runAsNonRoot and image will run as root");
	}

	/* process */
	jv_object_foreach(env, k, val)
	{
		char kv[8192];
		snprintf(kv, sizeof kv, "%s=%s", jv_string_value(k), jv_string_value(val));
		envarr = jv_array_append(envarr, jv_string(kv));
		jv_free(k);
		jv_free(val);
	}
	if (!has_key(env, "PATH"))
		envarr = jv_array_append(
			envarr, jv_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	if (b->hostname && !has_key(env, "HOSTNAME")) {
		char h[300];
		snprintf(h, sizeof h, "HOSTNAME=%s", b->hostname);
		envarr = jv_array_append(envarr, jv_string(h));
	}
	args = nr_args(jv_copy(container), jv_copy(image_config), jv_copy(env));
	if (jv_array_length(jv_copy(args)) == 0 && !err[0])
		snprintf(err, errn, "no command specified");
	nr_str(container, "workingDir", wd, sizeof wd, "");
	if (!wd[0])
		nr_str(image_config, "WorkingDir", wd, sizeof wd, "/");
	if (!wd[0])
		strcpy(wd, "/");
	{
		jv u = jv_object();
		jv groups = kx_jv_get(jv_copy(sc), "supplementalGroups");
		u = jv_object_set(u, jv_string("uid"), jv_number((double)uid));
		u = jv_object_set(u, jv_string("gid"), jv_number((double)gid));
		if (kx_jv_int(sc, "fsGroup", -1) >= 0) {
			if (jv_get_kind(groups) != JV_KIND_ARRAY) {
				jv_free(groups);
				groups = jv_array();
			}
			groups = jv_array_append(groups, jv_number((double)kx_jv_int(sc, "fsGroup", 0)));
		}
		if (jv_get_kind(groups) == JV_KIND_ARRAY)
			u = jv_object_set(u, jv_string("additionalGids"), groups);
		else
			jv_free(groups);
		proc = jv_object_set(proc, jv_string("user"), u);
	}
	proc = jv_object_set(proc, jv_string("terminal"), jv_false());
	proc = jv_object_set(proc, jv_string("args"), args);
	proc = jv_object_set(proc, jv_string("env"), envarr);
	proc = jv_object_set(proc, jv_string("cwd"), jv_string(wd));
	{
		jv caps = nr_caps(jv_copy(csc));
		jv c = jv_object();
		c = jv_object_set(c, jv_string("bounding"), jv_copy(caps));
		c = jv_object_set(c, jv_string("effective"), jv_copy(caps));
		c = jv_object_set(c, jv_string("permitted"), jv_copy(caps));
		/* a non-root user gets no ambient capabilities, as in containerd */
		c = jv_object_set(c, jv_string("inheritable"), uid == 0 ? jv_copy(caps) : jv_array());
		jv_free(caps);
		proc = jv_object_set(proc, jv_string("capabilities"), c);
	}
	proc = jv_object_set(proc, jv_string("noNewPrivileges"),
			     jv_bool(!kx_jv_bool(csc, "allowPrivilegeEscalation", 1) &&
				     !kx_jv_bool(csc, "privileged", 0)));
	spec = jv_object_set(spec, jv_string("ociVersion"), jv_string("1.0.2"));
	spec = jv_object_set(spec, jv_string("process"), proc);
	spec = jv_object_set(spec, jv_string("root"),
			     jv_object_set(jv_object_set(jv_object(), jv_string("path"),
							 jv_string(b->rootfs)),
					   jv_string("readonly"),
					   jv_bool(kx_jv_bool(csc, "readOnlyRootFilesystem", 0))));
	spec = jv_object_set(spec, jv_string("hostname"), jv_string(b->hostname ? b->hostname : ""));

	/* mounts */
	mounts = jv_array_append(mounts, oci_mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	mounts = jv_array_append(mounts, oci_mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	mounts = jv_array_append(mounts, oci_mount("/dev/pts", "devpts", "devpts",
					       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"));
	mounts = jv_array_append(mounts, oci_mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
	mounts = jv_array_append(mounts, oci_mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	mounts = jv_array_append(mounts, oci_mount("/sys", "sysfs", "sysfs",
					       kx_jv_bool(csc, "privileged", 0) ? "nosuid,noexec,nodev"
										: "nosuid,noexec,nodev,ro"));
	if (b->resolv)
		mounts = jv_array_append(mounts, oci_mount("/etc/resolv.conf", "bind", b->resolv, "rbind,ro"));
	if (b->hosts)
		mounts = jv_array_append(mounts, oci_mount("/etc/hosts", "bind", b->hosts, "rbind,rw"));
	if (b->hostname_file)
		mounts = jv_array_append(mounts, oci_mount("/etc/hostname", "bind", b->hostname_file, "rbind,rw"));
	if (b->termination_log)
		mounts = jv_array_append(mounts, oci_mount("/dev/termination-log", "bind", b->termination_log, "rbind,rw"));
	vms = kx_jv_get(jv_copy(container), "volumeMounts");
	if (jv_get_kind(vms) == JV_KIND_ARRAY) {
		jv_array_foreach(vms, i, vm)
		{
			char name[256], path[1024], sub[1024], src[4096];
			jv vsrc;
			nr_str(vm, "name", name, sizeof name, "");
			nr_str(vm, "mountPath", path, sizeof path, "");
			nr_str(vm, "subPath", sub, sizeof sub, "");
			vsrc = jv_object_get(jv_copy(b->volumes), jv_string(name));
			if (jv_get_kind(vsrc) != JV_KIND_STRING) {
				if (!err[0])
					snprintf(err, errn, "volume \"%s\" is not defined", name);
			} else if (path[0] != '/') {
				if (!err[0])
					snprintf(err, errn, "mountPath \"%s\" is not absolute", path);
			} else if (sub[0] && (sub[0] == '/' || strstr(sub, ".."))) {
				if (!err[0])
					snprintf(err, errn, "subPath \"%s\" must be a relative path without ..", sub);
			} else {
				if (sub[0])
					snprintf(src, sizeof src, "%s/%s", jv_string_value(vsrc), sub);
				else
					snprintf(src, sizeof src, "%s", jv_string_value(vsrc));
				mounts = jv_array_append(mounts, oci_mount(path, "bind", src,
								       kx_jv_bool(vm, "readOnly", 0) ? "rbind,ro" : "rbind,rw"));
			}
			jv_free(vsrc);
			jv_free(vm);
		}
	}
	jv_free(vms);
	spec = jv_object_set(spec, jv_string("mounts"), mounts);

	/* linux: namespaces, cgroup, resources */
	ns = jv_array();
	ns = jv_array_append(ns, jv_object_set(jv_object(), jv_string("type"), jv_string("pid")));
	ns = jv_array_append(ns, jv_object_set(jv_object(), jv_string("type"), jv_string("ipc")));
	ns = jv_array_append(ns, jv_object_set(jv_object(), jv_string("type"), jv_string("uts")));
	ns = jv_array_append(ns, jv_object_set(jv_object(), jv_string("type"), jv_string("mount")));
	if (b->netns && *b->netns)
		ns = jv_array_append(ns, jv_object_set(jv_object_set(jv_object(), jv_string("type"),
								     jv_string("network")),
						       jv_string("path"), jv_string(b->netns)));
	linux_ = jv_object_set(linux_, jv_string("namespaces"), ns);
	linux_ = jv_object_set(linux_, jv_string("cgroupsPath"), jv_string(b->cgroup));
	{
		jv lim = kx_jv_get(jv_copy(container), "resources.limits");
		jv req = kx_jv_get(jv_copy(container), "resources.requests");
		int64_t mem = nr_quantity_milli(kx_jv_get(jv_copy(lim), "memory"));
		int64_t cpu = nr_quantity_milli(kx_jv_get(jv_copy(lim), "cpu"));
		int64_t rcpu = nr_quantity_milli(kx_jv_get(jv_copy(req), "cpu"));
		jv c = jv_object();
		if (mem > 0)
			res = jv_object_set(res, jv_string("memory"),
					    jv_object_set(jv_object(), jv_string("limit"),
							  jv_number((double)(mem / 1000))));
		if (rcpu < 0)
			rcpu = cpu; /* a limit alone sets the request too */
		/* cpu.shares as the kubelet computes them: request in millicores * 1024 / 1000, min 2 */
		c = jv_object_set(c, jv_string("shares"),
				  jv_number((double)(rcpu > 0 ? (rcpu * 1024 / 1000 < 2 ? 2 : rcpu * 1024 / 1000) : 2)));
		if (cpu > 0) {
			c = jv_object_set(c, jv_string("quota"), jv_number((double)(cpu * 100000 / 1000 < 1000 ? 1000 : cpu * 100000 / 1000)));
			c = jv_object_set(c, jv_string("period"), jv_number(100000));
		}
		res = jv_object_set(res, jv_string("cpu"), c);
		jv_free(lim);
		jv_free(req);
	}
	linux_ = jv_object_set(linux_, jv_string("resources"), res);
	if (!kx_jv_bool(csc, "privileged", 0)) {
		static const char *const masked[] = {
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
			"/sys/firmware", NULL};
		static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
						 "/proc/sysrq-trigger", NULL};
		linux_ = jv_object_set(linux_, jv_string("maskedPaths"), strs(masked));
		linux_ = jv_object_set(linux_, jv_string("readonlyPaths"), strs(ro));
	}
	spec = jv_object_set(spec, jv_string("linux"), linux_);
	jv_free(sc);
	jv_free(csc);
	jv_free(pod);
	jv_free(container);
	jv_free(image_config);
	jv_free(env);
	return spec;
}
