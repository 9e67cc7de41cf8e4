// SPDX-License-Identifier: GPL-2.0
/*
 * thin_delta XML: <superblock data_block_size="S"> <diff left= right=>
 * with <same|different|right_only|left_only begin="B" length="L"/> or, with
 * --verbose, those elements holding <range begin= length= .../>. Changed
 * blocks are different + right_only + left_only. Block size in sectors from
 * data_block_size (or --granularity / a thin-pool --table line).
 */
#include <inttypes.h>
#include <string.h>

#include "common.h"
#include "formats.h"
#include "xmlsrc.h"

static int kind_changed(const char *name, bool *changed)
{
	if (!strcmp(name, "same"))
		*changed = false;
	else if (!strcmp(name, "different") || !strcmp(name, "right_only") || !strcmp(name, "left_only"))
		*changed = true;
	else
		return -1;
	return 0;
}

int parse_thin(struct pctx *ctx)
{
	struct xsrc x;
	/* a thin-pool table line says the block size, a thin one the device size (an era one neither) */
	uint64_t table_block = ctx->o->table_type == TABLE_THIN_POOL ? ctx->o->table_block : 0;
	uint64_t bs = 0, given = ctx->o->granularity ? ctx->o->granularity : table_block;
	bool seen_root = false, seen_diff = false, cur_changed = false;
	int r, rr;

	ctx->in->size = ctx->o->table_type == TABLE_THIN ? ctx->o->table_size : 0;
	r = xsrc_open(&x, ctx->s);
	if (r)
		return r;
	ctx->sk->foff_is_line = true;
	r = EXIT_INPUT;
	while ((rr = xsrc_next(&x)) == 1) {
		int type = xmlTextReaderNodeType(x.r), depth = xmlTextReaderDepth(x.r);
		const char *name = (const char *)xmlTextReaderConstName(x.r);
		uint64_t b, len, foff = (uint64_t)xsrc_line(&x);
		bool changed;

		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		if (depth == 0) {
			uint64_t sectors;

			if (seen_root || strcmp(name, "superblock")) {
				err_line(ctx->s->name, xsrc_line(&x), "expected root element <superblock> (thin_delta), found <%s>",
					 name);
				goto out;
			}
			seen_root = true;
			if (xsrc_attr_u64(&x, name, "data_block_size", &sectors))
				goto out;
			if (!sectors || sectors > (UINT64_C(1) << 40)) {
				err_line(ctx->s->name, xsrc_line(&x), "expected data_block_size 1..2^40 sectors, found %" PRIu64,
					 sectors);
				goto out;
			}
			bs = sectors * 512;
			if (given && given != bs) {
				err_line(ctx->s->name, xsrc_line(&x), "data_block_size %" PRIu64
					 " bytes disagrees with --granularity/--table %" PRIu64, bs, given);
				goto out;
			}
			ctx->in->granularity = bs;
			continue;
		}
		if (depth == 1) {
			if (strcmp(name, "diff")) {
				err_line(ctx->s->name, xsrc_line(&x), "expected <diff> (thin_delta output), found <%s>", name);
				goto out;
			}
			if (seen_diff) {
				err_line(ctx->s->name, xsrc_line(&x), "expected one <diff>, found a second");
				goto out;
			}
			seen_diff = true;
			continue;
		}
		if (depth == 2) {
			if (kind_changed(name, &changed)) {
				err_line(ctx->s->name, xsrc_line(&x),
					 "expected <same>, <different>, <right_only> or <left_only>, found <%s>", name);
				goto out;
			}
			cur_changed = changed;
			if (!xmlTextReaderHasAttributes(x.r))
				continue;	/* verbose form: <range> children follow */
		} else if (depth == 3) {
			if (strcmp(name, "range")) {
				err_line(ctx->s->name, xsrc_line(&x), "expected <range>, found <%s>", name);
				goto out;
			}
			changed = cur_changed;
		} else {
			err_line(ctx->s->name, xsrc_line(&x), "unexpected nested element <%s>", name);
			goto out;
		}
		if (xsrc_attr_u64(&x, name, "begin", &b) || xsrc_attr_u64(&x, name, "length", &len))
			goto out;
		if (!len) {
			err_line(ctx->s->name, xsrc_line(&x), "<%s>: expected length > 0", name);
			goto out;
		}
		if (changed) {
			int m = sink_mark_units(ctx->sk, foff, b, len, bs, 0);

			if (m) {
				r = m;
				goto out;
			}
		}
	}
	if (rr < 0)
		goto out;
	if (!seen_root || !seen_diff) {
		err_line(ctx->s->name, xsrc_line(&x), "expected <superblock> holding a <diff> (thin_delta output)");
		goto out;
	}
	r = 0;
out:
	xsrc_close(&x);
	return r;
}
