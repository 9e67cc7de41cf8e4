// SPDX-License-Identifier: GPL-2.0
/*
 * Plain range lists: one "OFFSET LENGTH" per line (blank-separated), in bytes
 * with optional K/M/G/T/P/E suffixes (powers of 1024), or 512-byte sectors
 * with --units sectors. '#' starts a comment; blank lines are ignored.
 */
#include <inttypes.h>
#include <string.h>

#include "common.h"
#include "formats.h"

int parse_ranges(struct pctx *ctx)
{
	struct line_reader lr;
	uint64_t unit = ctx->o->units ? ctx->o->units : 1;
	int r;

	lr_init(&lr, ctx->s);
	while ((r = lr_next(&lr)) == 1) {
		char *hash = strchr(lr.line, '#'), a[64], b[64], extra;
		uint64_t off, len;

		if (hash)
			*hash = '\0';
		if (!lr.line[strspn(lr.line, " \t")])
			continue;
		if (sscanf(lr.line, " %63s %63s %c", a, b, &extra) != 2 || parse_size(a, &off) ||
		    parse_size(b, &len)) {
			err_line(ctx->s->name, lr.line_no, "expected \"OFFSET LENGTH\" (decimal, optional K/M/G/T suffix)");
			return EXIT_INPUT;
		}
		if (!mul_u64(off, unit, &off) || !mul_u64(len, unit, &len)) {
			err_line(ctx->s->name, lr.line_no, "offset or length overflows 64 bits");
			return EXIT_INPUT;
		}
		r = sink_mark(ctx->sk, lr.line_off, off, len);
		if (r)
			return r;
	}
	return r < 0 ? EXIT_INPUT : 0;
}
