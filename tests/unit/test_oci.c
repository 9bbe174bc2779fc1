/* Unit tests of lib/oci (config.json) and the pure parts of lib/cgroup. */
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "cgroup.h"
#include "err.h"
#include "oci.h"
#include "tap.h"

static int parse(struct kx_oci_spec *s, const char *txt, kx_err *e)
{
	kx_err_clear(e);
	return kx_oci_parse(s, txt, strlen(txt), "/b", e);
}

static void test_good(void)
{
	struct kx_oci_spec s;
	kx_err e = KX_ERR_INIT;
	const char *txt =
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],"
		"\"cwd\":\"/tmp\",\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
		"\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]},"
		"\"noNewPrivileges\":true,\"oomScoreAdj\":100,"
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}]},"
		"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"rprivate\"]},"
		"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"options\":[\"nodev\",\"size=1m\",\"mode=755\"]}],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"mount\"},"
		"{\"type\":\"network\",\"path\":\"/run/netns/x\"}],\"cgroupsPath\":\"/k/x\","
		"\"resources\":{\"memory\":{\"limit\":1048576},\"cpu\":{\"quota\":5000,\"period\":10000,\"shares\":512,\"cpus\":\"0\"},"
		"\"pids\":{\"limit\":10},\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]},"
		"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
		"\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229}]},"
		"\"annotations\":{\"a\":\"b\"},\"unknownField\":{}}";

	ok(parse(&s, txt, &e) == 0, "a full config parses: %s", e.msg);
	is_str(s.args[2], "x", "process.args");
	ok(s.args[3] == NULL, "args end with NULL");
	is_str(s.env[0], "A=1", "process.env");
	is_str(s.cwd, "/tmp", "process.cwd");
	is_int(s.uid, 1000, "uid");
	is_int(s.gid, 100, "gid");
	is_int(s.ngids, 2, "additionalGids");
	is_int(s.gids[1], 6, "additionalGids[1]");
	ok(s.has_caps, "capabilities present");
	is_int(s.caps[KX_CAP_BOUNDING], (1 << 0) | (1 << 5), "bounding set as bits");
	is_int(s.caps[KX_CAP_EFFECTIVE], 0, "an absent set is empty");
	is_int(s.caps[KX_CAP_AMBIENT], 1 << 5, "ambient set");
	ok(s.no_new_privs, "noNewPrivileges");
	is_int(s.oom_score_adj, 100, "oomScoreAdj");
	is_int(s.nrlimits, 1, "one rlimit");
	is_int(s.rlimits[0].resource, RLIMIT_NOFILE, "RLIMIT_NOFILE");
	is_int(s.rlimits[0].hard, 200, "hard limit");
	is_str(s.root, "/b/rootfs", "root.path joined with the bundle");
	ok(s.root_readonly, "root.readonly");
	is_str(s.hostname, "h", "hostname");
	is_int(s.nmounts, 3, "three mounts");
	ok(s.mounts[1].bind && (s.mounts[1].flags & MS_REC) && (s.mounts[1].flags & MS_RDONLY) &&
		   (s.mounts[1].flags & MS_NOSUID),
	   "bind mount options become flags");
	is_int(s.mounts[1].propagation, MS_PRIVATE | MS_REC, "rprivate is propagation");
	is_str(s.mounts[2].data, "size=1m,mode=755", "unknown options go to data");
	is_str(s.mounts[2].source, "tmpfs", "source defaults to the type");
	is_int(s.clone_flags, CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS, "namespaces to create");
	is_str(s.ns[3].path, "/run/netns/x", "a namespace joined by path");
	is_str(s.cgroups_path, "/k/x", "cgroupsPath");
	is_int(s.limits.memory, 1048576, "memory limit");
	is_int(s.limits.cpu_quota, 5000, "cpu quota");
	is_int(s.limits.cpu_period, 10000, "cpu period");
	is_int(s.limits.cpu_shares, 512, "cpu shares");
	is_str(s.limits.cpuset_cpus, "0", "cpuset cpus");
	is_int(s.limits.pids, 10, "pids limit");
	is_int(s.limits.memory_swap, -1, "unset swap stays -1");
	is_int(s.ndevrules, 2, "device rules");
	is_str(s.devrules[0].rule, "a", "deny all");
	is_str(s.devrules[1].rule, "c 1:3 rw", "allow one");
	is_str(s.masked[0], "/proc/kcore", "maskedPaths");
	is_str(s.readonly[0], "/proc/sys", "readonlyPaths");
	is_str(s.sysctl_keys[0], "net.ipv4.ip_forward", "sysctl key");
	is_str(s.sysctl_vals[0], "1", "sysctl value");
	is_int(s.ndevices, 1, "linux.devices");
	is_int(s.devices[0].minor, 229, "device minor");
	is_int(s.devices[0].mode, 0666, "device mode defaults to 0666");
	ok(jv_get_kind(s.annotations) == JV_KIND_OBJECT, "annotations");
	kx_oci_free(&s);
}

static void bad(const char *txt, const char *want, const char *name)
{
	struct kx_oci_spec s;
	kx_err e = KX_ERR_INIT;

	ok(parse(&s, txt, &e) < 0, "refused: %s", name);
	ok(strstr(e.msg, want) != NULL, "message names it: got \"%s\", want \"%s\"", e.msg, want);
	kx_oci_free(&s);
}

#define HEAD "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
static void test_bad(void)
{
	bad("{\"ociVersion\":", "malformed config.json", "truncated JSON");
	bad("[]", "not a JSON object", "not an object");
	bad("{\"process\":{\"args\":[\"x\"]},\"root\":{\"path\":\"r\"}}", "ociVersion", "no ociVersion");
	bad(HEAD "\"process\":{\"args\":[]}}", "process.args: missing or empty", "empty args");
	bad(HEAD "\"process\":{\"args\":[1]}}", "process.args[0]: not a string", "a number in args");
	bad("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"x\"]}}", "root.path: missing", "no root");
	bad(HEAD "\"process\":{\"args\":[\"x\"],\"cwd\":\"tmp\"}}", "process.cwd", "relative cwd");
	bad(HEAD "\"process\":{\"args\":[\"x\"],\"capabilities\":{\"effective\":[\"CAP_FLY\"]}}}",
	    "process.capabilities.effective[0]: unknown capability \"CAP_FLY\"", "unknown capability");
	bad(HEAD "\"process\":{\"args\":[\"x\"],\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,\"hard\":1}]}}",
	    "unknown rlimit \"RLIMIT_X\"", "unknown rlimit");
	bad(HEAD "\"process\":{\"args\":[\"x\"],\"terminal\":true}}", "process.terminal", "terminal");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}",
	    "user namespaces are not supported", "user namespace");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"namespaces\":[{\"type\":\"time\"}]}}",
	    "unknown namespace \"time\"", "unknown namespace");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"hostname\":\"h\"}", "hostname", "hostname without uts");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"mounts\":[{\"destination\":\"tmp\",\"type\":\"tmpfs\"}]}",
	    "mounts[0]", "relative mount destination");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
	    "linux.resources.memory.limit: not a number", "memory limit as a string");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"maskedPaths\":[\"/proc/kcore\"]}}",
	    "linux.maskedPaths: needs a new mount namespace", "masked paths without a mount namespace");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"namespaces\":[{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}],\"sysctl\":{\"a.b\":\"1\"}}}",
	    "linux.sysctl: needs a new mount namespace", "sysctl in a joined mount namespace");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}",
	    "linux.seccomp: not supported", "seccomp");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"resources\":{\"memory\":{\"swappiness\":10}}}}",
	    "linux.resources.memory.swappiness: not supported", "swappiness");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}}",
	    "linux.uidMappings: not supported", "uid mappings");
	bad(HEAD "\"process\":{\"args\":[\"x\"],\"apparmorProfile\":\"p\"}}",
	    "process.apparmorProfile: not supported", "apparmor");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"rootfsPropagation\":\"shared\"}}",
	    "linux.rootfsPropagation: \"shared\"", "shared root propagation");
	{
		struct kx_oci_spec s;
		kx_err e = KX_ERR_INIT;
		ok(parse(&s, HEAD "\"process\":{\"args\":[\"x\"],\"apparmorProfile\":\"\"},"
			   "\"linux\":{\"seccomp\":null,\"uidMappings\":[],\"rootfsPropagation\":\"rprivate\","
			   "\"resources\":{\"blockIO\":{},\"memory\":{\"swappiness\":0}}}}", &e) == 0,
		   "empty or null unsupported fields are fine: %s", e.msg);
		kx_oci_free(&s);
	}
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"cgroupsPath\":\"/\"}}",
	    "linux.cgroupsPath: \"/\" is not a cgroup below the root", "the root cgroup");
	bad(HEAD "\"process\":{\"args\":[\"x\"]},\"linux\":{\"cgroupsPath\":\"kx/../..\"}}",
	    "linux.cgroupsPath: \"kx/../..\"", "a cgroupsPath climbing out");
}

static void test_small(void)
{
	ok(kx_oci_valid_id("web-1.a_b"), "a valid ID");
	ok(!kx_oci_valid_id("../x"), "an ID with a slash");
	ok(!kx_oci_valid_id(""), "an empty ID");
	ok(!kx_oci_valid_id(".x"), "an ID starting with a dot");
	is_int(kx_oci_ns_type("network"), CLONE_NEWNET, "network namespace");
	is_int(kx_oci_cap("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN is 21");
	is_int(kx_oci_cap("SYS_ADMIN"), -1, "a capability needs its CAP_ prefix");
	is_int(kx_oci_rlimit("RLIMIT_NPROC"), RLIMIT_NPROC, "RLIMIT_NPROC");
	is_int(kx_cgroup_shares_to_weight(1024), 39, "1024 shares are weight 39");
	is_int(kx_cgroup_shares_to_weight(2), 1, "2 shares are weight 1");
	is_int(kx_cgroup_shares_to_weight(262144), 10000, "max shares are weight 10000");
	ok(kx_cgroup_path_ok("/kx/web-1"), "a cgroup path below the root is fine");
	ok(!kx_cgroup_path_ok("/"), "the root cgroup is refused");
	ok(!kx_cgroup_path_ok("//"), "the root cgroup spelt // is refused");
	ok(!kx_cgroup_path_ok(""), "an empty cgroup path is refused");
	ok(!kx_cgroup_path_ok("kx/a"), "a relative cgroup path is refused");
	ok(!kx_cgroup_path_ok("/kx/.."), "a cgroup path with .. is refused");
	ok(!kx_cgroup_path_ok("/kx/../../x"), "a cgroup path climbing out is refused");
	ok(!kx_cgroup_path_ok("/./"), "a cgroup path of . is refused");
	ok(kx_cgroup_path_ok("/kx/..a/b."), "names merely starting with dots are fine");
}

int main(void)
{
	test_good();
	test_bad();
	test_small();
	return done_testing();
}
