/* store-fanout.c: bench/store.sh's watch fan-out client. Opens N watches on
 * a kx-store collection, then W times: creates an object and measures the
 * time until every watcher has received its event (epoll, one thread, so
 * the client itself adds little). Prints p50 and p99 over the writes.
 * Build: cc -O2 -o store-fanout store-fanout.c */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dial(const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void sendall(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0) {
			perror("write");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *host = argc > 1 ? argv[1] : "127.0.0.1";
	int port = argc > 2 ? atoi(argv[2]) : 8080, n = argc > 3 ? atoi(argv[3]) : 1000;
	int writes = argc > 4 ? atoi(argv[4]) : 30, ep = epoll_create1(0);
	int *fds = calloc(n, sizeof *fds), *seen = calloc(n, sizeof *seen);
	double *lat = calloc(writes, sizeof *lat);
	char buf[65536], req[512], marker[64];
	struct epoll_event ev, evs[256];
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < n; i++) {
		fds[i] = dial(host, port);
		sendall(fds[i], "GET /api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1 HTTP/1.1\r\nHost: x\r\n\r\n");
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	usleep(500000);
	for (int i = 0; i < n; i++) /* drain headers and anything old */
		while (recv(fds[i], buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
	int wfd = dial(host, port);
	for (int k = 0; k < writes; k++) {
		char body[256];
		int left = n;
		snprintf(marker, sizeof marker, "\"fan-%d-%d\"", getpid(), k);
		snprintf(body, sizeof body, "{\"metadata\":{\"name\":%s}}", marker);
		snprintf(req, sizeof req,
			 "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(body), body);
		memset(seen, 0, n * sizeof *seen);
		double t0 = now_ms();
		sendall(wfd, req);
		while (left > 0) {
			int m = epoll_wait(ep, evs, 256, 5000);
			if (m <= 0) {
				fprintf(stderr, "timed out with %d watchers left\n", left);
				return 1;
			}
			for (int j = 0; j < m; j++) {
				int i = (int)evs[j].data.u32;
				ssize_t r = recv(fds[i], buf, sizeof buf - 1, 0);
				if (r <= 0)
					continue;
				buf[r] = 0;
				if (!seen[i] && strstr(buf, marker)) {
					seen[i] = 1;
					left--;
				}
			}
		}
		lat[k] = now_ms() - t0;
		recv(wfd, buf, sizeof buf, 0); /* the write's answer */
		usleep(20000);
	}
	qsort(lat, writes, sizeof *lat, cmp);
	printf("%d watchers, %d writes: write -> last watcher p50 %.1f ms, p99 %.1f ms, max %.1f ms (includes the write's fsync)\n",
	       n, writes, lat[writes / 2], lat[(int)(writes * 0.99)], lat[writes - 1]);
	return 0;
}
