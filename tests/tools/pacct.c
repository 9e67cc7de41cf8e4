// SPDX-License-Identifier: GPL-2.0
/*
 * pacct: where a guest case's CPU time goes, by command name.
 *
 *   pacct on FILE     start BSD process accounting into FILE (acct(2))
 *   pacct off         stop it
 *   pacct report FILE [N]
 *                     the N (default 12) commands that used the most CPU
 *                     (user + system) in FILE, one line:
 *                     "total=S.SS name:S.SS/COUNT ..."
 *
 * Records are struct acct_v3 (CONFIG_BSD_PROCESS_ACCT_V3, as Debian's
 * kernels have); times are comp_t in AHZ (100 Hz) units. Only processes
 * that exited are counted; kernel threads are not.
 */
#define _DEFAULT_SOURCE
#include <linux/acct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double comp(comp_t c)
{
	unsigned long v = c & 0x1fff;
	int e = (c >> 13) & 7;

	while (e--)
		v <<= 3;
	return (double)v / AHZ;
}

struct ent {
	char name[ACCT_COMM + 1];
	double cpu;
	unsigned long n;
};

static int by_cpu(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return (x->cpu < y->cpu) - (x->cpu > y->cpu);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "on"))
		return acct(argv[2]) ? (perror("acct"), 1) : 0;
	if (argc == 2 && !strcmp(argv[1], "off"))
		return acct(NULL) ? (perror("acct"), 1) : 0;
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "report")) {
		FILE *f = fopen(argv[2], "r");
		struct acct_v3 r;
		struct ent *e = NULL;
		size_t ne = 0, i;
		int top = argc == 4 ? atoi(argv[3]) : 12;
		double total = 0;

		if (!f)
			return perror(argv[2]), 1;
		while (fread(&r, sizeof(r), 1, f) == 1) {
			double c = comp(r.ac_utime) + comp(r.ac_stime);
			char name[ACCT_COMM + 1];

			if (r.ac_version != 3)
				continue;
			memcpy(name, r.ac_comm, ACCT_COMM);
			name[ACCT_COMM] = 0;
			for (i = 0; i < ne && strcmp(e[i].name, name); i++)
				;
			if (i == ne) {
				e = realloc(e, ++ne * sizeof(*e));
				if (!e)
					return 1;
				strcpy(e[i].name, name);
				e[i].cpu = 0;
				e[i].n = 0;
			}
			e[i].cpu += c;
			e[i].n++;
			total += c;
		}
		fclose(f);
		qsort(e, ne, sizeof(*e), by_cpu);
		printf("total=%.2f", total);
		for (i = 0; i < ne && (int)i < top; i++)
			printf(" %s:%.2f/%lu", e[i].name, e[i].cpu, e[i].n);
		printf("\n");
		free(e);
		return 0;
	}
	fprintf(stderr, "usage: pacct on FILE | off | report FILE [N]\n");
	return 2;
}
