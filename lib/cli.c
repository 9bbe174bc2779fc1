#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "log.h"

void kx_cli_init(struct kx_cli *cli, const struct kx_opt *opts)
{
	size_t n = 0, i, k = 0;

	while (opts[n].name)
		n++;
	cli->opts = opts;
	cli->longopts = calloc(n + 1, sizeof *cli->longopts);
	cli->shortopts = calloc(3 * n + 2, 1);
	cli->shortopts[k++] = '+'; /* stop at the first operand, as POSIX does */
	for (i = 0; i < n; i++) {
		cli->longopts[i].name = opts[i].name;
		cli->longopts[i].has_arg = opts[i].has_arg;
		cli->longopts[i].flag = NULL;
		cli->longopts[i].val = opts[i].val;
		if (opts[i].val > 0 && opts[i].val < 256) {
			cli->shortopts[k++] = (char)opts[i].val;
			if (opts[i].has_arg == required_argument)
				cli->shortopts[k++] = ':';
			else if (opts[i].has_arg == optional_argument) {
				cli->shortopts[k++] = ':';
				cli->shortopts[k++] = ':';
			}
		}
	}
}

void kx_cli_free(struct kx_cli *cli)
{
	free(cli->longopts);
	free(cli->shortopts);
}

void kx_cli_usage(FILE *f, const char *synopsis, const struct kx_opt *opts)
{
	fprintf(f, "usage: %s %s\n", kx_progname, synopsis);
	for (; opts->name; opts++) {
		char left[64];
		if (!opts->help)
			continue; /* hidden */
		if (opts->val > 0 && opts->val < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", opts->val, opts->name,
				 opts->arg ? " " : "", opts->arg ? opts->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", opts->name, opts->arg ? " " : "",
				 opts->arg ? opts->arg : "");
		fprintf(f, "  %-28s %s\n", left, opts->help);
	}
}

void kx_cli_complete(const struct kx_opt *opts, const char *const *extra)
{
	for (; opts->name; opts++) {
		if (!opts->help)
			continue;
		printf("--%s%s\n", opts->name, opts->has_arg == required_argument ? "=" : "");
	}
	for (; extra && *extra; extra++)
		printf("%s\n", *extra);
}

void kx_cli_version(void)
{
	printf("%s %s\n", kx_progname, KX_VERSION);
}

int kx_cli_common(int ch, const char *synopsis, const struct kx_opt *opts,
		  const char *const *extra)
{
	switch (ch) {
	case 'v':
		kx_verbose++;
		return KX_CLI_NEXT;
	case 'h':
		kx_cli_usage(stdout, synopsis, opts);
		return 0;
	case 'V':
		kx_cli_version();
		return 0;
	case KX_OPT_COMPLETE:
		kx_cli_complete(opts, extra);
		return 0;
	default:
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
}

int kx_cli_exit(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			kx_log_error("write error on standard output: %s", strerror(errno));
		return status ? status : KX_EFAIL;
	}
	return status;
}
