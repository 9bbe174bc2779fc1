/* copy-log: kx-node-run's log copier, as a program of its own (see
 * ../copier.c). Usage: copy-log MAX-BYTES FILE, with the container's stdout
 * on fd 3 and its stderr on fd 4. Exits when both are closed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../noderun.h"

int main(int argc, char **argv)
{
	char *end;
	long long max;

	if (argc != 3) {
		fprintf(stderr, "usage: copy-log MAX-BYTES FILE\n");
		return 2;
	}
	max = strtoll(argv[1], &end, 10);
	if (*end || max < 0) {
		fprintf(stderr, "copy-log: bad size \"%s\"\n", argv[1]);
		return 2;
	}
	return nr_copy_log(argv[2], (int64_t)max);
}
