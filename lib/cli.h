/* cli.h: what every kx program's command line shares.
 *
 * Each program keeps one table of its options (struct option plus a help
 * line each); --help prints usage from it, and the hidden --complete prints
 * the options one per line so that the shell completions are generated from
 * the program itself and never fall behind it. */
#ifndef KX_CLI_H
#define KX_CLI_H

#include <getopt.h>
#include <stdio.h>

struct kx_opt {
	const char *name;   /* long name, without "--" */
	int has_arg;        /* no_argument, required_argument, optional_argument */
	int val;            /* the short option character, or a value > 255 */
	const char *arg;    /* the argument's name in help ("URL"), or NULL */
	const char *help;   /* one line */
};

/* Options every program has: --help, --version, --server, -v, --complete. */
enum { KX_OPT_COMPLETE = 1000, KX_OPT_SERVER, KX_OPT_FIRST_PRIVATE = 1100 };

/* The entries every table ends with: -v, --help, --version, the hidden
 * --complete, and the zeroed end. KX_OPTS_COMMON_V is the same with the
 * program's own words for -v in its help. */
#define KX_OPTS_COMMON_V(verbose_help)                                          \
	{"verbose", no_argument, 'v', NULL, verbose_help},                      \
	{"help", no_argument, 'h', NULL, "show this help"},                     \
	{"version", no_argument, 'V', NULL, "show the version"},                \
	{"complete", no_argument, KX_OPT_COMPLETE, NULL, NULL},                 \
	{0}
#define KX_OPTS_COMMON KX_OPTS_COMMON_V("say more (repeat for more)")

/* The options every program treats alike, for the getopt loop's default
 * case: -v counts (KX_CLI_NEXT: go on parsing); --help, --version and
 * --complete print and return 0; anything else prints usage on stderr and
 * returns KX_EUSAGE. main returns kx_cli_exit(status) when not KX_CLI_NEXT. */
#define KX_CLI_NEXT (-1)
int kx_cli_common(int ch, const char *synopsis, const struct kx_opt *opts,
		  const char *const *extra);

/* Build the getopt_long table and short-option string from opts (ended by a
 * zeroed entry). Both are malloc'd; free with kx_cli_free. */
struct kx_cli {
	struct option *longopts;
	char *shortopts;
	const struct kx_opt *opts;
};
void kx_cli_init(struct kx_cli *cli, const struct kx_opt *opts);
void kx_cli_free(struct kx_cli *cli);

/* usage: "usage: kx-get TYPE[,TYPE...] [NAME...] [options]" followed by one
 * line per option. */
void kx_cli_usage(FILE *f, const char *synopsis, const struct kx_opt *opts);
/* --complete: each long option (with "=" when it takes an argument), then
 * the words given in extra (may be NULL), one per line. */
void kx_cli_complete(const struct kx_opt *opts, const char *const *extra);
/* --version */
void kx_cli_version(void);

/* Check that stdout was written without error (closed pipe, full disk);
 * returns the status to exit with. Call on the way out of main. */
int kx_cli_exit(int status);

#endif
