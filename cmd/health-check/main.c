/* kx-health-check: the kubelet's prober. One probe from the command line
 * (exit 0 healthy, 1 not), or the probes of every pod on a node, with the
 * results in files that kx-node-run reads (see lib/probe.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "event.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "probe.h"

enum {
	OPT_TCP = KX_OPT_FIRST_PRIVATE,
	OPT_EXEC,
	OPT_PROBE,
	OPT_POD_IP,
	OPT_PORTS,
	OPT_CONTAINER,
	OPT_RUNTIME,
	OPT_NODE,
	OPT_WATCH,
	OPT_ROOT,
	OPT_TIMEOUT,
};

static const struct kx_opt opts[] = {
	{"timeout", required_argument, OPT_TIMEOUT, "DURATION",
	 "give up after this long (default 1s; \"500ms\", \"2s\")"},
	{"header", required_argument, 'H', "'NAME: VALUE'", "send this HTTP header (repeatable)"},
	{"tcp", required_argument, OPT_TCP, "HOST:PORT", "check that a TCP connection opens"},
	{"exec", no_argument, OPT_EXEC, NULL, "run the command after -- (healthy if it exits 0)"},
	{"probe", required_argument, OPT_PROBE, "JSON",
	 "a Kubernetes probe object (httpGet, tcpSocket, exec; @FILE reads a file)"},
	{"pod-ip", required_argument, OPT_POD_IP, "IP", "the host of a --probe naming none"},
	{"ports", required_argument, OPT_PORTS, "JSON",
	 "the container's ports, to resolve a --probe port given by name"},
	{"container", required_argument, OPT_CONTAINER, "ID",
	 "run an exec probe inside this container, through the runtime"},
	{"runtime", required_argument, OPT_RUNTIME, "PATH",
	 "the OCI runtime for exec probes (default kx-container)"},
	{"output", required_argument, 'o', "FORMAT", "json: print the result as one JSON line"},
	{"node", required_argument, OPT_NODE, "NAME", "probe the pods bound to this node"},
	{"watch", no_argument, OPT_WATCH, NULL, "with --node: keep probing, each at its period"},
	{"root", required_argument, OPT_ROOT, "DIR",
	 "with --node: where the result files go (default /var/lib/kx)"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER)"},
	KX_OPTS_COMMON_V("say more"),
};

static const char synopsis[] =
	"[options] URL | grpc://HOST:PORT[/SERVICE] | tcp://HOST:PORT | --tcp HOST:PORT | --exec -- CMD... |\n"
	"       --probe JSON [--pod-ip IP] | --node NAME [--watch]";

/* kx_jv_str that always fills buf (with def when the field is absent). */
static const char *jstr(jv v, const char *path, char *buf, size_t n, const char *def)
{
	if (!kx_jv_str(v, path, buf, n, NULL) && def != buf)
		snprintf(buf, n, "%s", def ? def : "");
	return buf;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "500ms", "2s", "1m", or a bare number of seconds. */
static int parse_timeout(const char *s, int *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		;
	else if (!*end || !strcmp(end, "s"))
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else
		return -1;
	if (v < 1 || v > 86400000)
		return -1;
	*ms = (int)v;
	return 0;
}

struct node_ctx {
	kx_client *client;
	const char *node;
	int json;
};

static void report(void *arg, jv pod, const char *container, const char *type,
		   const kx_probe *p, const kx_probe_result *r, const kx_probe_state *s,
		   int changed)
{
	struct node_ctx *ctx = arg;
	char ns[256], name[256];
	jv line;

	jstr(pod, "metadata.namespace", ns, sizeof ns, "default");
	jstr(pod, "metadata.name", name, sizeof name, "");
	line = kx_probe_result_json(p, r);
	line = jv_object_set(line, jv_string("namespace"), jv_string(ns));
	line = jv_object_set(line, jv_string("pod"), jv_string(name));
	line = jv_object_set(line, jv_string("container"), jv_string(container));
	line = jv_object_set(line, jv_string("type"), jv_string(type));
	line = jv_object_set(line, jv_string("result"),
			     jv_string(s->result == KX_PROBE_SUCCESS   ? "success"
				       : s->result == KX_PROBE_FAILURE ? "failure"
								       : "unknown"));
	line = jv_object_set(line, jv_string("changed"), jv_bool(changed));
	kx_json_print(line, 0);
	fflush(stdout);
	if (!r->ok) {
		kx_err e = KX_ERR_INIT;
		char msg[700];
		struct timespec now;
		kx_event_info ev = {"Warning", "Unhealthy",
				    kx_probe_message(type, r->reason, msg, sizeof msg), "kubelet",
				    ctx->node};
		clock_gettime(CLOCK_REALTIME, &now);
		if (kx_event_record(ctx->client, pod, &ev, &now, &e) < 0)
			kx_log_debug(1, "cannot record event: %s", e.msg);
	}
}

static int node_pass(struct node_ctx *ctx, const char *root, const char *runtime, int force,
		     kx_err *e)
{
	kx_buf path = KX_BUF_INIT;
	jv pods;
	char sel[300];

	snprintf(sel, sizeof sel, "spec.nodeName=%s", ctx->node);
	kx_buf_adds(&path, "/api/v1/pods?fieldSelector=");
	kx_url_escape(&path, sel);
	pods = kx_input_list(ctx->client, path.p, "Pod", NULL, e);
	kx_buf_free(&path);
	if (!jv_is_valid(pods))
		return -1;
	jv_array_foreach(pods, i, pod)
	{
		char phase[32];
		jstr(pod, "status.phase", phase, sizeof phase, "");
		if (!strcmp(phase, "Running"))
			kx_probe_pod(pod, root, runtime, (int64_t)time(NULL), force, report, ctx);
		jv_free(pod);
	}
	jv_free(pods);
	return 0;
}

static int node_mode(const char *server, const char *node, const char *root,
		     const char *runtime, int watch, kx_err *e)
{
	struct node_ctx ctx = {0};
	int ret;

	ctx.node = node;
	if (!(ctx.client = kx_client_new(server, e)))
		return -1;
	kx_client_set_timeout(ctx.client, 10000);
	if (!watch) {
		ret = node_pass(&ctx, root, runtime, 1, e);
	} else {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		ret = 0;
		while (!stop) {
			if (node_pass(&ctx, root, runtime, 0, e) < 0) {
				kx_err_print(e);
				kx_err_clear(e);
			}
			sleep(1);
		}
	}
	kx_client_free(ctx.client);
	return ret;
}

static jv read_json_arg(const char *arg, const char *what, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	jv v;

	if (arg[0] == '@') {
		if (kx_buf_read_file(&b, arg + 1, 1 << 20, e) < 0)
			return jv_invalid();
		v = kx_json_parse(b.p ? b.p : "", b.len, e);
		kx_buf_free(&b);
	} else
		v = kx_json_parse(arg, strlen(arg), e);
	if (!jv_is_valid(v)) {
		kx_err_wrap(e, "%s", what);
		e->status = KX_EUSAGE;
	}
	return v;
}

/* --complete: the words after the options */
static const char *const complete_words[] = {"exec", NULL};

int main(int argc, char **argv)
{
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	kx_probe p;
	kx_probe_result r;
	const char *server = NULL, *tcp = NULL, *probe = NULL, *pod_ip = NULL, *ports = NULL;
	const char *container = NULL, *runtime = NULL, *node = NULL, *root = "/var/lib/kx";
	const char *output = NULL;
	const char *hdrs[KX_PROBE_MAX_HEADERS];
	int nh = 0, exec_mode = 0, watch = 0, timeout_ms = 0, modes, c;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &timeout_ms) < 0) {
				kx_log_error("bad --timeout \"%s\" (want e.g. 1s, 500ms)", optarg);
				return KX_EUSAGE;
			}
			break;
		case 'H':
			if (nh == KX_PROBE_MAX_HEADERS || !strchr(optarg, ':')) {
				kx_log_error("bad --header \"%s\" (want 'Name: value', at most %d)",
					     optarg, KX_PROBE_MAX_HEADERS);
				return KX_EUSAGE;
			}
			hdrs[nh++] = optarg;
			break;
		case OPT_TCP: tcp = optarg; break;
		case OPT_EXEC: exec_mode = 1; break;
		case OPT_PROBE: probe = optarg; break;
		case OPT_POD_IP: pod_ip = optarg; break;
		case OPT_PORTS: ports = optarg; break;
		case OPT_CONTAINER: container = optarg; break;
		case OPT_RUNTIME: runtime = optarg; break;
		case OPT_NODE: node = optarg; break;
		case OPT_WATCH: watch = 1; break;
		case OPT_ROOT: root = optarg; break;
		case 'o':
			if (strcmp(optarg, "json")) {
				kx_log_error("unknown output format \"%s\" (only json)", optarg);
				return KX_EUSAGE;
			}
			output = optarg;
			break;
		case KX_OPT_SERVER: server = optarg; break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, complete_words)) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	argc -= optind;
	argv += optind;

	if (node) {
		if (argc || tcp || probe || exec_mode) {
			kx_log_error("--node takes no probe of its own");
			return KX_EUSAGE;
		}
		if (node_mode(server, node, root, runtime, watch, &e) < 0) {
			kx_err_print(&e);
			return kx_cli_exit(e.status ? e.status : KX_EFAIL);
		}
		return kx_cli_exit(0);
	}
	if (watch) {
		kx_log_error("--watch needs --node");
		return KX_EUSAGE;
	}
	if (!exec_mode && argc && !strcmp(argv[0], "exec")) {
		exec_mode = 1;
		argc--;
		argv++;
		if (argc && !strcmp(argv[0], "--")) {
			argc--;
			argv++;
		}
	}
	modes = !!tcp + !!probe + exec_mode + (!exec_mode && argc > 0);
	if (modes != 1 || (!exec_mode && argc > 1)) {
		kx_log_error(modes ? "give one probe only" : "no probe given");
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	if (exec_mode) {
		if (!argc || argc > KX_PROBE_MAX_ARGS) {
			kx_log_error("--exec needs a command after --");
			return KX_EUSAGE;
		}
		kx_probe_init(&p);
		p.kind = KX_PROBE_EXEC;
		for (int i = 0; i < argc; i++)
			p.argv[p.argc++] = strdup(argv[i]);
		p.argv[p.argc] = NULL;
	} else if (probe) {
		jv pj = read_json_arg(probe, "--probe", &e);
		jv pp = ports ? read_json_arg(ports, "--ports", &e) : jv_null();
		if (!jv_is_valid(pj) || !jv_is_valid(pp)) {
			jv_free(pj);
			jv_free(pp);
			kx_err_print(&e);
			return KX_EUSAGE;
		}
		if (kx_probe_from_json(&p, pj, pod_ip, pp, &e) < 0) {
			kx_err_wrap(&e, "bad --probe");
			kx_err_print(&e);
			return KX_EUSAGE;
		}
	} else if (kx_probe_from_url(&p, tcp ? tcp : argv[0], &e) < 0) {
		kx_err_print(&e);
		return KX_EUSAGE;
	}
	if (tcp && p.kind != KX_PROBE_TCP) {
		kx_log_error("--tcp wants HOST:PORT, not \"%s\"", tcp);
		kx_probe_free(&p);
		return KX_EUSAGE;
	}
	if (timeout_ms)
		p.timeout_ms = timeout_ms;
	for (int i = 0; i < nh; i++) {
		const char *colon = strchr(hdrs[i], ':');
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (p.nheaders < KX_PROBE_MAX_HEADERS) {
			snprintf(p.hname[p.nheaders], sizeof p.hname[0], "%.*s",
				 (int)(colon - hdrs[i]), hdrs[i]);
			snprintf(p.hvalue[p.nheaders], sizeof p.hvalue[0], "%s", v);
			p.nheaders++;
		}
	}
	kx_probe_run(&p, runtime, container, &r);
	if (output)
		kx_json_print(kx_probe_result_json(&p, &r), 0);
	if (!r.ok)
		kx_log_error("unhealthy: %s", r.reason);
	else if (kx_verbose) {
		char d[2600];
		kx_log_info("healthy: %s (%lld ms)", kx_probe_describe(&p, d, sizeof d),
			    (long long)r.ms);
	}
	kx_probe_free(&p);
	return kx_cli_exit(r.ok ? 0 : KX_EFAIL);
}
