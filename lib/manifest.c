/* manifest.c: objects from files, directories and stdin. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "input.h"
#include "json.h"
#include "manifest.h"

static int is_manifest_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(name + n - 5, ".json"));
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(jv *out, const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	jv docs;

	if (kx_buf_read_file(&b, path, KX_MANIFEST_MAX, e) < 0)
		return -1;
	docs = kx_input_parse(kx_buf_str(&b), b.len, name, e);
	kx_buf_free(&b);
	if (!jv_is_valid(docs))
		return -1;
	jv_array_foreach(docs, i, obj)
	{
		jv item = jv_object_set(jv_object(), jv_string("file"), jv_string(name));
		*out = jv_array_append(*out, jv_object_set(item, jv_string("object"), obj));
	}
	jv_free(docs);
	return 0;
}

static int load_path(jv *out, const char *path, int recursive, int top, kx_err *e)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!strcmp(path, "-"))
		return load_file(out, path, e);
	if (stat(path, &st) < 0)
		return kx_err_set(e, KX_EFAIL, "the path \"%s\" does not exist", path);
	if (!S_ISDIR(st.st_mode))
		return load_file(out, path, e);
	if (!top && !recursive)
		return 0;
	if (!(d = opendir(path)))
		return kx_err_set(e, KX_EFAIL, "cannot read directory \"%s\": %s", path, strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = realloc(names, cap * sizeof *names);
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		kx_buf full = KX_BUF_INIT;
		size_t pl = strlen(path);
		kx_buf_addf(&full, "%s%s%s", path, pl && path[pl - 1] == '/' ? "" : "/", names[i]);
		if (rc == 0 && stat(full.p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = load_path(out, full.p, recursive, 0, e);
			else if (is_manifest_name(names[i]))
				rc = load_file(out, full.p, e);
		}
		kx_buf_free(&full);
		free(names[i]);
	}
	free(names);
	return rc;
}

jv kx_manifest_load(char *const *paths, int n, int recursive, kx_err *e)
{
	jv out = jv_array();

	for (int i = 0; i < n; i++) {
		if (load_path(&out, paths[i], recursive, 1, e) < 0) {
			jv_free(out);
			return jv_invalid();
		}
	}
	return out;
}
