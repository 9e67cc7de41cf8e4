// SPDX-License-Identifier: GPL-2.0
/* Format names, detection and dispatch. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "canonical.h"
#include "common.h"
#include "formats.h"

static const char *const names[FMT_COUNT] = {
	[FMT_AUTO] = "auto",
	[FMT_QCOW2] = "qcow2",
	[FMT_NBD] = "nbd",
	[FMT_ERA] = "era",
	[FMT_THIN] = "thin",
	[FMT_RBD_JSON] = "rbd-json",
	[FMT_RBD_DIFF] = "rbd-diff",
	[FMT_RBD_EXPORT] = "rbd-export-diff",
	[FMT_MD] = "md",
	[FMT_DM_SNAPSHOT] = "dm-snapshot",
	[FMT_RANGES] = "ranges",
	[FMT_RAW] = "raw",
	[FMT_CANONICAL] = "canonical",
};

const char *fmt_name(enum fmt f)
{
	return f < FMT_COUNT ? names[f] : "?";
}

enum fmt fmt_parse(const char *name)
{
	for (int i = 0; i < FMT_COUNT; i++)
		if (!strcmp(name, names[i]))
			return (enum fmt)i;
	return FMT_COUNT;
}

/* first non-blank text after optional UTF-8 BOM */
static const char *skip_blank(const char *p, const char *end)
{
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

enum fmt fmt_detect(const struct src *s)
{
	char buf[8192];
	long n = src_read_some(s, buf, sizeof(buf), 0);
	const char *p, *end;

	if (n < 0)
		return FMT_AUTO;
	end = buf + n;
	if (n >= 4 && !memcmp(buf, "QFI\xfb", 4))
		return FMT_QCOW2;
	if (n >= 8 && !memcmp(buf, CANON_MAGIC, 8))
		return FMT_CANONICAL;
	if (n >= 12 && !memcmp(buf, "rbd diff v", 10))
		return FMT_RBD_EXPORT;
	if (n >= 4 && get_le32((const uint8_t *)buf) == 0x6d746962)
		return FMT_MD;
	/* before the md superblock at 4096: there a COW device has its first exception */
	if (n >= 16 && get_le32((const uint8_t *)buf) == 0x70416e53)	/* "SnAp" */
		return FMT_DM_SNAPSHOT;
	if (n >= 4100 && get_le32((const uint8_t *)buf + 4096) == 0xa92b4efc)
		return FMT_MD;
	if (n >= 4 && get_le32((const uint8_t *)buf) == 0xa92b4efc)
		return FMT_MD;
	p = skip_blank(buf, end);
	if (p < end && *p == '<') {
		/* XML: era_invalidate has <blocks>, thin_delta <superblock> */
		const char *q = p;

		while (q < end) {
			if (end - q >= 7 && !memcmp(q, "<blocks", 7))
				return FMT_ERA;
			if (end - q >= 11 && !memcmp(q, "<superblock", 11))
				return FMT_THIN;
			q++;
		}
	}
	if (p < end && *p == '[') {
		/* JSON array: nbdinfo extents carry "type", rbd diff extents "exists" */
		for (const char *q = p; q + 6 <= end; q++) {
			if (!memcmp(q, "\"type\"", 6))
				return FMT_NBD;
			if (q + 8 <= end && !memcmp(q, "\"exists\"", 8))
				return FMT_RBD_JSON;
		}
		if (end - skip_blank(p + 1, end) >= 1 && *skip_blank(p + 1, end) == ']')
			return FMT_RBD_JSON;	/* empty list */
	}
	if (end - p >= 6 && !strncasecmp(p, "Offset", 6))
		return FMT_RBD_DIFF;
	if (p == end || isdigit((unsigned char)*p) || *p == '#')
		return FMT_RANGES;
	err_at(s->name, (uint64_t)(p - buf),
	       "unknown format: expected a qcow2 image, md bitmap, dm-snapshot COW device, rbd export-diff, "
	       "canonical bitmap, XML, JSON or a range list (use --format)");
	return FMT_AUTO;
}

/*
 * 1 if the input holds no byte, 2 if only blanks (spaces, newlines, a UTF-8
 * BOM) all within its first 8 KiB, 0 if neither, -1 on a read error (printed).
 */
static int input_empty(const struct src *s)
{
	char buf[8192];
	long n = src_read_some(s, buf, sizeof(buf), 0);

	if (n < 0)
		return -1;
	if (n == 0)
		return 1;
	if ((size_t)n < sizeof(buf) && skip_blank(buf, buf + n) == buf + n)
		return 2;
	return 0;
}

int parse_input(struct pctx *ctx)
{
	enum fmt f = ctx->o->fmt;
	int r;

	/* an empty file is what a failed command leaves: never "nothing changed" by default */
	r = input_empty(ctx->s);
	if (r < 0)
		return EXIT_INPUT;
	if (r && !ctx->o->allow_empty) {
		err_msg("%s: is empty%s: it lists no change (did the command that wrote it fail?); "
			"give --allow-empty if nothing changed", ctx->s->name, r == 2 ? " (blank)" : "");
		return EXIT_INPUT;
	}
	if (f == FMT_AUTO) {
		f = fmt_detect(ctx->s);
		if (f == FMT_AUTO)
			return EXIT_INPUT;
	}
	ctx->in->fmt = f;
	ctx->in->path = ctx->s->name;
	/* these read at random offsets: a stream is read into memory (bounded) first */
	if ((f == FMT_QCOW2 || f == FMT_MD || f == FMT_DM_SNAPSHOT || f == FMT_CANONICAL) &&
	    src_need_random(ctx->s, fmt_name(f)))
		return EXIT_INPUT;
	sink_begin(ctx->sk, ctx->s->name);
	switch (f) {
	case FMT_QCOW2: r = parse_qcow2(ctx); break;
	case FMT_NBD: r = parse_nbd_json(ctx); break;
	case FMT_ERA: r = parse_era(ctx); break;
	case FMT_THIN: r = parse_thin(ctx); break;
	case FMT_RBD_JSON: r = parse_rbd_json(ctx); break;
	case FMT_RBD_DIFF: r = parse_rbd_diff(ctx); break;
	case FMT_RBD_EXPORT: r = parse_rbd_export(ctx); break;
	case FMT_MD: r = parse_md(ctx); break;
	case FMT_DM_SNAPSHOT: r = parse_dm_snapshot(ctx); break;
	case FMT_RANGES: r = parse_ranges(ctx); break;
	case FMT_RAW: r = parse_raw(ctx); break;
	case FMT_CANONICAL: r = parse_canonical(ctx); break;
	default: r = EXIT_USAGE; break;
	}
	if (!r)
		r = sink_end(ctx->sk);
	/* a well-formed list of no change: refused too unless the user says so */
	if (!r && !ctx->info && !ctx->o->allow_empty && !ctx->sk->extents && !ctx->in->forced_all) {
		err_msg("%s: the %s input lists no change: nothing would be marked dirty; give --allow-empty if "
			"nothing changed", ctx->s->name, fmt_name(f));
		r = EXIT_INPUT;
	}
	return r;
}

int parse_table_line(const char *line, uint64_t *block, uint64_t *size)
{
	char tok[8][256];
	int n = 0;
	const char *p = line;
	uint64_t start, len, bs;

	*block = *size = 0;
	while (*p && n < 8) {
		size_t l = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		while (*p && !isspace((unsigned char)*p)) {
			if (l + 1 >= sizeof(tok[0]))
				return -1;
			tok[n][l++] = *p++;
		}
		tok[n++][l] = '\0';
	}
	if (n < 3 || parse_u64(tok[0], &start) || parse_u64(tok[1], &len) || !len || len > UINT64_MAX / 512)
		return -1;
	if (!strcmp(tok[2], "era")) {
		/* <start> <len> era <metadata> <origin> <block size> */
		if (n < 6 || parse_u64(tok[5], &bs) || !bs || bs > UINT64_MAX / 512)
			return -1;
		*block = bs * 512;
		*size = len * 512;
		return 0;
	}
	if (!strcmp(tok[2], "thin-pool")) {
		/* <start> <len> thin-pool <metadata> <data> <block size> <low water> ... */
		if (n < 6 || parse_u64(tok[5], &bs) || !bs || bs > UINT64_MAX / 512)
			return -1;
		*block = bs * 512;
		return 0;
	}
	if (!strcmp(tok[2], "thin")) {
		*size = len * 512;
		return 0;
	}
	return -1;
}
