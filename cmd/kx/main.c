/* kx: the dispatcher. `kx apply -f x.yaml` runs `kx-apply -f x.yaml`, as git
 * runs git-NAME: any kx-NAME found beside kx itself or on PATH. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "err.h"
#include "log.h"

/* One line for each program kx ships; others found on PATH are listed too. */
static const struct {
	const char *name, *what;
} known[] = {
	{"apply", "create or update objects from YAML/JSON files (kubectl apply)"},
	{"container", "run one container from an OCI bundle (runc, crun)"},
	{"delete", "delete objects (kubectl delete)"},
	{"dns", "answer cluster DNS names from the store (CoreDNS)"},
	{"get", "list, get and watch objects (kubectl get)"},
	{"health-check", "run liveness, readiness and startup probes (the kubelet's prober)"},
	{"image", "pull, store and unpack OCI images (containerd's image service)"},
	{"node-run", "run the pods bound to this node (kubelet)"},
	{"proxy-sync", "turn Services into one nftables ruleset (kube-proxy)"},
	{"reconcile", "one pass of the controllers (kube-controller-manager)"},
	{"schedule-once", "bind pending pods to nodes (kube-scheduler)"},
	{"store", "the Kubernetes API on SQLite or etcd (kube-apiserver + etcd)"},
};

/* Not KX_OPTS_COMMON: kx is only the dispatcher. It has no -v and no
 * --server of its own (they belong to the program it runs: kx get -v ...),
 * and its --complete adds the commands found at run time. */
static const struct kx_opt opts[] = {
	{"help", no_argument, 'h', NULL, "show this help"},
	{"version", no_argument, 'V', NULL, "show the version"},
	{"complete", no_argument, KX_OPT_COMPLETE, NULL, NULL},
	{0},
};

static const char synopsis[] = "COMMAND [ARG...] | help [COMMAND]";

static char self_dir[PATH_MAX];

static void find_self_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", self_dir, sizeof self_dir - 1);
	char *slash;

	if (n <= 0) {
		self_dir[0] = 0;
		return;
	}
	self_dir[n] = 0;
	slash = strrchr(self_dir, '/');
	if (slash)
		*slash = 0;
}

static int is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Full path of kx-NAME: beside kx first, then on PATH. */
static int find_command(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (self_dir[0]) {
		snprintf(out, n, "%s/kx-%s", self_dir, name);
		if (is_exec(out))
			return 0;
	}
	if (!path)
		return -1;
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/kx-%s", *dir ? dir : ".", name);
		if (is_exec(out)) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	return -1;
}

static const char *describe(const char *name)
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(known[i].name, name))
			return known[i].what;
	return "";
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of every kx-NAME program found, sorted, without duplicates. */
static size_t list_commands(char ***out)
{
	char **names = NULL;
	size_t n = 0, cap = 0, k = 0;
	const char *path = getenv("PATH");
	char *all, *dir, *save = NULL;
	size_t len = strlen(self_dir) + (path ? strlen(path) : 0) + 2;

	all = malloc(len);
	snprintf(all, len, "%s:%s", self_dir, path ? path : "");
	for (dir = strtok_r(all, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		DIR *d = opendir(dir);
		struct dirent *de;
		if (!d)
			continue;
		while ((de = readdir(d))) {
			char full[PATH_MAX];
			if (strncmp(de->d_name, "kx-", 3) || !de->d_name[3])
				continue;
			snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
			if (!is_exec(full))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				names = realloc(names, cap * sizeof *names);
			}
			names[n++] = strdup(de->d_name + 3);
		}
		closedir(d);
	}
	free(all);
	if (n)
		qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(names[k - 1], names[i])) {
			free(names[i]);
			continue;
		}
		names[k++] = names[i];
	}
	*out = names;
	return k;
}

static int help_list(void)
{
	char **names;
	size_t n = list_commands(&names);

	printf("usage: kx %s\n\nThe programs of kx (each also runs as kx-NAME):\n", synopsis);
	for (size_t i = 0; i < n; i++) {
		printf("  %-15s %s\n", names[i], describe(names[i]));
		free(names[i]);
	}
	free(names);
	printf("\n'kx help NAME' shows the manual page of kx-NAME.\n");
	return 0;
}

/* The page shipped beside the program (a build tree or a prefix:
 * BIN/../man/kx-NAME.N or BIN/../share/man/manN/kx-NAME.N), or "". */
static void local_page(const char *name, char *out, size_t n)
{
	for (char sec = '1'; sec <= '8'; sec++) {
		snprintf(out, n, "%s/../man/kx-%s.%c", self_dir, name, sec);
		if (access(out, R_OK) == 0)
			return;
		snprintf(out, n, "%s/../share/man/man%c/kx-%s.%c", self_dir, sec, name, sec);
		if (access(out, R_OK) == 0)
			return;
	}
	out[0] = 0;
}

/* Run argv and return its exit status (-1 if it could not run). */
/* Run argv and wait; quiet: with its output thrown away. */
static int run(char *const argv[], int quiet)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* kx help NAME: the manual page of kx-NAME, from beside kx first, then
 * from man's path; the program's own --help when there is none. */
static int help_one(const char *name)
{
	char path[PATH_MAX], page[PATH_MAX];

	if (find_command(name, path, sizeof path) < 0) {
		kx_log_error("'%s' is not a kx command; see 'kx help'", name);
		return KX_EUSAGE;
	}
	local_page(name, page, sizeof page);
	if (page[0]) {
		char *argv[] = {"man", "-l", page, NULL};
		if (run(argv, 0) == 0)
			return 0;
	} else {
		/* ask man quietly first: no "No manual entry" before --help */
		char *where[] = {"man", "-w", page, NULL}, *argv[] = {"man", page, NULL};
		snprintf(page, sizeof page, "kx-%s", name);
		if (run(where, 1) == 0 && run(argv, 0) == 0)
			return 0;
	}
	/* no man, or no page: the program's own --help */
	execl(path, path, "--help", (char *)NULL);
	kx_log_error("cannot run \"%s\": %s", path, strerror(errno));
	return KX_EFAIL;
}

/* --complete: the options, then the words after them: help and every
 * kx-* program found beside kx or on PATH. */
static void complete_commands(void)
{
	char **names;
	size_t n = list_commands(&names);

	kx_cli_complete(opts, NULL);
	printf("help\n");
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	char path[PATH_MAX];
	int c;

	kx_log_init(argv[0]);
	find_self_dir();
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (c) {
		case KX_OPT_COMPLETE:
			complete_commands();
			return kx_cli_exit(0);
		default:
			if ((c = kx_cli_common(c, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	if (!strcmp(argv[0], "help"))
		return kx_cli_exit(argc > 1 ? help_one(argv[1]) : help_list());
	if (strchr(argv[0], '/') || find_command(argv[0], path, sizeof path) < 0) {
		kx_log_error("'%s' is not a kx command; see 'kx help'", argv[0]);
		return KX_EUSAGE;
	}
	argv[0] = path;
	execv(path, argv);
	kx_log_error("cannot run \"%s\": %s", path, strerror(errno));
	return KX_EFAIL;
}
