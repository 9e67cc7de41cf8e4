// SPDX-License-Identifier: GPL-2.0
/*
 * dm-era: `era_invalidate` XML. <blocks> holding <range begin="B" end="E"/>
 * (E exclusive) and <block block="B"/>, in era blocks. The block size comes
 * from --granularity or an era --table line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "formats.h"
#include "xmlsrc.h"

int parse_era(struct pctx *ctx)
{
	struct xsrc x;
	/* only an era table line says the era block size (a thin one is for the thin inputs) */
	bool era_table = ctx->o->table_type == TABLE_ERA;
	uint64_t table_block = era_table ? ctx->o->table_block : 0;
	uint64_t bs = ctx->o->granularity ? ctx->o->granularity : table_block;
	bool root = false, root_done = false;
	int r, rr;

	if (ctx->o->granularity && table_block && ctx->o->granularity != table_block) {
		err_msg("%s: --granularity %" PRIu64 " disagrees with the table's era block size %" PRIu64,
			ctx->s->name, ctx->o->granularity, table_block);
		return EXIT_USAGE;
	}
	if (!bs && !ctx->info) {
		err_msg("%s: era_invalidate output has no block size: give --granularity or --table%s", ctx->s->name,
			ctx->o->table_type != TABLE_NONE ? " (an era table line)" : "");
		return EXIT_USAGE;
	}
	ctx->in->granularity = bs;
	ctx->in->size = era_table ? ctx->o->table_size : 0;
	if (!bs) {
		snprintf(ctx->in->uncounted, sizeof(ctx->in->uncounted),
			 "no era block size: give --granularity or --table");
		ctx->in->unit_name = "era-blocks";
	}
	r = xsrc_open(&x, ctx->s);
	if (r)
		return r;
	ctx->sk->foff_is_line = true;
	r = EXIT_INPUT;
	while ((rr = xsrc_next(&x)) == 1) {
		int type = xmlTextReaderNodeType(x.r), depth = xmlTextReaderDepth(x.r);
		const char *name = (const char *)xmlTextReaderConstName(x.r);
		uint64_t b, e;

		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		if (depth == 0) {
			if (root_done || strcmp(name, "blocks")) {
				err_line(ctx->s->name, xsrc_line(&x), "expected root element <blocks> (era_invalidate), found <%s>",
					 name);
				goto out;
			}
			root = true;
			if (xmlTextReaderIsEmptyElement(x.r))
				root_done = true;
			continue;
		}
		if (depth != 1) {
			err_line(ctx->s->name, xsrc_line(&x), "unexpected nested element <%s>", name);
			goto out;
		}
		if (!strcmp(name, "range")) {
			static const char *const ok[] = { "begin", "end", NULL };

			if (xsrc_check_attrs(&x, name, ok) || xsrc_attr_u64(&x, name, "begin", &b) ||
			    xsrc_attr_u64(&x, name, "end", &e))
				goto out;
			if (e <= b) {
				err_line(ctx->s->name, xsrc_line(&x), "<range>: expected end > begin (end is exclusive), found begin=%" PRIu64
					 " end=%" PRIu64, b, e);
				goto out;
			}
		} else if (!strcmp(name, "block")) {
			static const char *const ok[] = { "block", NULL };

			if (xsrc_check_attrs(&x, name, ok) || xsrc_attr_u64(&x, name, "block", &b))
				goto out;
			if (b == UINT64_MAX) {
				err_line(ctx->s->name, xsrc_line(&x), "<block>: block number too large");
				goto out;
			}
			e = b + 1;
		} else {
			err_line(ctx->s->name, xsrc_line(&x), "expected <range> or <block>, found <%s>", name);
			goto out;
		}
		if (bs) {
			int m = sink_mark_units(ctx->sk, (uint64_t)xsrc_line(&x), b, e - b, bs, 0);

			if (m) {
				r = m;
				goto out;
			}
		} else {
			ctx->in->units_listed += e - b;	/* info: bytes unknown, blocks counted */
		}
	}
	if (rr < 0)
		goto out;
	if (!root) {
		err_line(ctx->s->name, xsrc_line(&x), "expected root element <blocks> (era_invalidate output)");
		goto out;
	}
	r = 0;
out:
	xsrc_close(&x);
	return r;
}
