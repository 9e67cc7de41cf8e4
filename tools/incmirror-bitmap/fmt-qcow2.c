// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 persistent dirty bitmaps (QEMU docs/interop/qcow2.txt): header
 * extension 0x23852875 -> bitmap directory -> bitmap table -> bitmap data
 * clusters. All header fields big-endian; bitmap bits LSB-first.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "formats.h"

#define QCOW2_EXT_BITMAPS 0x23852875u
#define BME_IN_USE 1u
#define BME_AUTO 2u
#define BME_EXTRA_COMPAT 4u
#define BME_TABLE_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define BME_TABLE_RESERVED UINT64_C(0xff000000000001fe)
#define MAX_BITMAPS 65535u
#define MAX_DIR_SIZE (UINT64_C(64) << 20)

struct qbitmap {
	uint64_t table_off;
	uint32_t table_size;
	uint32_t flags;
	uint8_t type, gran_bits;
	uint64_t entry_off;	/* file offset of the directory entry */
	char name[1024];
};

struct qimg {
	const struct src *s;
	uint32_t version, cluster_bits;
	uint64_t cluster, size, incompat, autoclear;
	uint32_t nb_bitmaps;
	uint64_t dir_size, dir_off, ext_off;
	bool have_ext;
};

static int read_header(struct qimg *q)
{
	uint8_t h[104];
	const struct src *s = q->s;
	uint32_t hlen;
	uint64_t off;

	if (src_read(s, h, 72, 0, "qcow2 header"))
		return EXIT_INPUT;
	if (memcmp(h, "QFI\xfb", 4)) {
		err_at(s->name, 0, "expected qcow2 magic QFI\\xfb");
		return EXIT_INPUT;
	}
	q->version = get_be32(h + 4);
	if (q->version != 3) {
		err_at(s->name, 4, "expected qcow2 version 3 (persistent bitmaps need it), found %" PRIu32,
		       q->version);
		return EXIT_INPUT;
	}
	if (src_read(s, h, 104, 0, "qcow2 version 3 header"))
		return EXIT_INPUT;
	q->cluster_bits = get_be32(h + 20);
	if (q->cluster_bits < 9 || q->cluster_bits > 21) {
		err_at(s->name, 20, "expected cluster_bits 9..21, found %" PRIu32, q->cluster_bits);
		return EXIT_INPUT;
	}
	q->cluster = UINT64_C(1) << q->cluster_bits;
	q->size = get_be64(h + 24);
	if (q->size > (UINT64_C(1) << 62)) {
		err_at(s->name, 24, "oversized: virtual size %" PRIu64 " exceeds 2^62", q->size);
		return EXIT_INPUT;
	}
	q->incompat = get_be64(h + 72);
	q->autoclear = get_be64(h + 88);
	hlen = get_be32(h + 100);
	if (hlen < 104 || hlen % 8 || hlen > q->cluster) {
		err_at(s->name, 100, "expected header_length >= 104, a multiple of 8 and within the first cluster, found %" PRIu32,
		       hlen);
		return EXIT_INPUT;
	}
	/* header extensions */
	off = hlen;
	for (;;) {
		uint8_t e[8];
		uint32_t type, len;

		if (off + 8 > q->cluster) {
			err_at(s->name, off, "expected the end-of-extensions marker within the first cluster");
			return EXIT_INPUT;
		}
		if (src_read(s, e, 8, off, "header extension"))
			return EXIT_INPUT;
		type = get_be32(e);
		len = get_be32(e + 4);
		if (type == 0)
			break;
		if (len > q->cluster - off - 8) {
			err_at(s->name, off + 4, "header extension 0x%08" PRIx32 " length %" PRIu32 " runs past the first cluster",
			       type, len);
			return EXIT_INPUT;
		}
		if (type == QCOW2_EXT_BITMAPS) {
			uint8_t b[24];

			if (q->have_ext) {
				err_at(s->name, off, "expected one bitmaps extension, found a second");
				return EXIT_INPUT;
			}
			if (len < 24) {
				err_at(s->name, off + 4, "expected bitmaps extension length >= 24, found %" PRIu32, len);
				return EXIT_INPUT;
			}
			if (src_read(s, b, 24, off + 8, "bitmaps extension"))
				return EXIT_INPUT;
			q->have_ext = true;
			q->ext_off = off;
			q->nb_bitmaps = get_be32(b);
			q->dir_size = get_be64(b + 8);
			q->dir_off = get_be64(b + 16);
			if (get_be32(b + 4)) {
				err_at(s->name, off + 12, "expected reserved field 0 in the bitmaps extension");
				return EXIT_INPUT;
			}
			if (!q->nb_bitmaps || q->nb_bitmaps > MAX_BITMAPS) {
				err_at(s->name, off + 8, "expected 1..%u bitmaps, found %" PRIu32, MAX_BITMAPS,
				       q->nb_bitmaps);
				return EXIT_INPUT;
			}
			if (q->dir_size < 24 || q->dir_size > MAX_DIR_SIZE) {
				err_at(s->name, off + 16, "expected a bitmap directory size 24..%" PRIu64 ", found %" PRIu64,
				       MAX_DIR_SIZE, q->dir_size);
				return EXIT_INPUT;
			}
			if (q->dir_off % q->cluster || !q->dir_off) {
				err_at(s->name, off + 24, "expected a cluster-aligned bitmap directory offset, found %" PRIu64,
				       q->dir_off);
				return EXIT_INPUT;
			}
		}
		off += 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
	}
	return 0;
}

/* Read the directory into an array; returns count or -1 (printed). */
static int read_dir(struct qimg *q, struct qbitmap **out)
{
	const struct src *s = q->s;
	uint8_t *dir;
	struct qbitmap *bms;
	uint64_t pos = 0;

	dir = malloc(q->dir_size);
	bms = calloc(q->nb_bitmaps, sizeof(*bms));
	if (!dir || !bms) {
		free(dir);
		free(bms);
		err_msg("out of memory");
		return -1;
	}
	if (src_read(s, dir, q->dir_size, q->dir_off, "bitmap directory"))
		goto fail;
	for (uint32_t i = 0; i < q->nb_bitmaps; i++) {
		struct qbitmap *b = &bms[i];
		uint8_t *e = dir + pos;
		uint32_t extra;
		uint16_t nlen;
		uint64_t esize, eoff = q->dir_off + pos;

		if (q->dir_size - pos < 24) {
			err_at(s->name, eoff, "expected bitmap directory entry %" PRIu32 " of %" PRIu32
			       " within the directory size %" PRIu64, i + 1, q->nb_bitmaps, q->dir_size);
			goto fail;
		}
		b->entry_off = eoff;
		b->table_off = get_be64(e);
		b->table_size = get_be32(e + 8);
		b->flags = get_be32(e + 12);
		b->type = e[16];
		b->gran_bits = e[17];
		nlen = get_be16(e + 18);
		extra = get_be32(e + 20);
		esize = (24 + (uint64_t)extra + nlen + 7) & ~UINT64_C(7);
		if (esize > q->dir_size - pos) {
			err_at(s->name, eoff + 18, "bitmap directory entry (name %" PRIu16 " bytes, extra data %" PRIu32
			       " bytes) runs past the directory", nlen, extra);
			goto fail;
		}
		if (!nlen || nlen >= sizeof(b->name)) {
			err_at(s->name, eoff + 18, "expected a bitmap name of 1..1023 bytes, found %" PRIu16, nlen);
			goto fail;
		}
		memcpy(b->name, e + 24 + extra, nlen);
		b->name[nlen] = '\0';
		if (strlen(b->name) != nlen) {
			err_at(s->name, eoff + 24 + extra, "expected a bitmap name without NUL bytes");
			goto fail;
		}
		if (b->type != 1) {
			err_at(s->name, eoff + 16, "bitmap '%s': expected type 1 (dirty tracking), found %u", b->name,
			       b->type);
			goto fail;
		}
		if (b->gran_bits < 9 || b->gran_bits > 31) {
			err_at(s->name, eoff + 17, "bitmap '%s': expected granularity_bits 9..31, found %u", b->name,
			       b->gran_bits);
			goto fail;
		}
		if (b->flags & ~(BME_IN_USE | BME_AUTO | BME_EXTRA_COMPAT)) {
			err_at(s->name, eoff + 12, "bitmap '%s': unknown flags 0x%" PRIx32, b->name, b->flags);
			goto fail;
		}
		if (extra && !(b->flags & BME_EXTRA_COMPAT)) {
			err_at(s->name, eoff + 20, "bitmap '%s': has %" PRIu32 " bytes of incompatible extra data", b->name,
			       extra);
			goto fail;
		}
		{
			uint64_t nbits = div_up(q->size, UINT64_C(1) << b->gran_bits);
			uint64_t want = div_up(nbits, q->cluster * 8);

			if (b->table_size != want) {
				err_at(s->name, eoff + 8, "bitmap '%s': expected bitmap_table_size %" PRIu64
				       " for a %" PRIu64 "-byte image at granularity %" PRIu64 ", found %" PRIu32,
				       b->name, want, q->size, UINT64_C(1) << b->gran_bits, b->table_size);
				goto fail;
			}
		}
		if (b->table_off % q->cluster) {
			err_at(s->name, eoff, "bitmap '%s': expected a cluster-aligned bitmap table offset, found %" PRIu64,
			       b->name, b->table_off);
			goto fail;
		}
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(bms[k].name, b->name)) {
				err_at(s->name, eoff + 24 + extra, "duplicate bitmap name '%s'", b->name);
				goto fail;
			}
		pos += esize;
	}
	free(dir);
	*out = bms;
	return (int)q->nb_bitmaps;
fail:
	free(dir);
	free(bms);
	return -1;
}

/* Walk one bitmap: mark (sk != NULL) or only count (count != NULL). */
static int walk_bitmap(struct qimg *q, const struct qbitmap *b, struct sink *sk, uint64_t *count)
{
	const struct src *s = q->s;
	uint64_t gran = UINT64_C(1) << b->gran_bits;
	uint64_t nbits = div_up(q->size, gran);
	uint64_t per_cluster = q->cluster * 8;
	uint8_t *tab = NULL, *data = NULL;
	int r = EXIT_INPUT;

	tab = malloc((size_t)b->table_size * 8 + 1);
	data = malloc(q->cluster);
	if (!tab || !data) {
		err_msg("out of memory");
		r = EXIT_SYSTEM;
		goto out;
	}
	if (b->table_size && src_read(s, tab, (size_t)b->table_size * 8, b->table_off, "bitmap table"))
		goto out;
	if (count)
		*count = 0;
	for (uint32_t i = 0; i < b->table_size; i++) {
		uint64_t ent = get_be64(tab + (size_t)i * 8), doff = ent & BME_TABLE_OFFSET_MASK;
		uint64_t first = (uint64_t)i * per_cluster;
		uint64_t n = nbits - first < per_cluster ? nbits - first : per_cluster;
		uint64_t eoff = b->table_off + (uint64_t)i * 8;

		if (ent & BME_TABLE_RESERVED) {
			err_at(s->name, eoff, "bitmap '%s': table entry %" PRIu32 " has reserved bits set (0x%016" PRIx64 ")",
			       b->name, i, ent);
			goto out;
		}
		if (!doff) {
			if (ent & 1) {	/* all ones */
				if (count)
					*count += n;
				if (sk && (r = sink_mark_units(sk, eoff, first, n, gran, q->size)))
					goto out;
				r = EXIT_INPUT;
			}
			continue;
		}
		if (ent & 1) {
			err_at(s->name, eoff, "bitmap '%s': table entry %" PRIu32 " has bit 0 set with a data offset",
			       b->name, i);
			goto out;
		}
		if (src_read(s, data, q->cluster, doff, "bitmap data cluster"))
			goto out;
		if (count) {
			uint64_t full = n / 8;

			for (uint64_t k = 0; k < full; k++)
				*count += (uint64_t)__builtin_popcount(data[k]);
			if (n % 8)
				*count += (uint64_t)__builtin_popcount(data[full] & ((1u << (n % 8)) - 1));
		}
		if (sk && (r = sink_mark_bits(sk, doff, data, n, first, gran, q->size, false)))
			goto out;
		r = EXIT_INPUT;
	}
	r = 0;
out:
	free(tab);
	free(data);
	return r;
}

static void flag_str(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", f & BME_IN_USE ? "in_use," : "", f & BME_AUTO ? "auto," : "",
		 f & BME_EXTRA_COMPAT ? "extra_data_compatible," : "", f ? "" : "none,");
	buf[strlen(buf) - 1] = '\0';
}

int parse_qcow2(struct pctx *ctx)
{
	struct qimg q = { .s = ctx->s };
	struct qbitmap *bms = NULL;
	const struct qbitmap *sel = NULL;
	int n, r;
	bool consistent;

	r = read_header(&q);
	if (r)
		return r;
	ctx->in->size = q.size;
	if (!q.have_ext) {
		err_at(ctx->s->name, 0, "qcow2 image has no persistent bitmaps (no header extension 0x%08x)",
		       QCOW2_EXT_BITMAPS);
		return EXIT_INPUT;
	}
	consistent = q.autoclear & 1;
	if ((q.incompat & 2) && !ctx->o->force && !ctx->info) {
		err_at(ctx->s->name, 72, "the image is marked corrupt (incompatible feature bit 1); refusing "
		       "(--force treats the whole image as dirty)");
		return EXIT_INPUT;
	}
	if (q.incompat & 2)
		consistent = false;
	n = read_dir(&q, &bms);
	if (n < 0)
		return EXIT_INPUT;
	if (ctx->info) {
		fprintf(ctx->info, "cluster-size: %" PRIu64 "\nautoclear-bitmaps: %s\n"
			"bitmap-directory: offset=%" PRIu64 " size=%" PRIu64 " entries=%" PRIu32 "\n", q.cluster,
			consistent ? "set (bitmaps consistent)" : "clear (bitmaps inconsistent)", q.dir_off,
			q.dir_size, q.nb_bitmaps);
		for (int i = 0; i < n; i++) {
			char fl[64];
			uint64_t cnt = 0;

			flag_str(bms[i].flags, fl, sizeof(fl));
			r = walk_bitmap(&q, &bms[i], NULL, &cnt);
			if (r)
				goto out;
			fprintf(ctx->info, "bitmap: %s granularity=%" PRIu64 " flags=%s dirty-granules=%" PRIu64 "%s\n",
				bms[i].name, UINT64_C(1) << bms[i].gran_bits, fl, cnt,
				(bms[i].flags & BME_IN_USE) || !consistent ? " (inconsistent)" : "");
		}
	}
	if (ctx->o->name) {
		for (int i = 0; i < n; i++)
			if (!strcmp(bms[i].name, ctx->o->name))
				sel = &bms[i];
		if (!sel) {
			err_at(ctx->s->name, q.dir_off, "no bitmap named '%s' in the bitmap directory", ctx->o->name);
			r = EXIT_INPUT;
			goto out;
		}
	} else if (n == 1) {
		sel = &bms[0];
	} else if (ctx->info) {
		/* info lists them all; nothing selected, so nothing counted */
		snprintf(ctx->in->uncounted, sizeof(ctx->in->uncounted),
			 "%d bitmaps: choose one with --name", n);
		r = 0;
		goto out;
	} else {
		fprintf(stderr, PROG ": %s: %d bitmaps, choose one with --name:", ctx->s->name, n);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", bms[i].name);
		fputc('\n', stderr);
		r = EXIT_USAGE;
		goto out;
	}
	ctx->in->granularity = UINT64_C(1) << sel->gran_bits;
	if (!consistent || (sel->flags & BME_IN_USE)) {
		const char *why = (q.incompat & 2) ? "the image is marked corrupt"
				  : !consistent ? "the image's autoclear bit 0 (bitmaps extension valid) is clear"
				  : "the bitmap is marked in_use (QEMU did not close it cleanly)";
		uint64_t where = (q.incompat & 2) ? 72 : !consistent ? 88 : sel->entry_off + 12;

		if (!ctx->o->force && !ctx->info) {
			err_at(ctx->s->name, where, "bitmap '%s' is inconsistent: %s; refusing (--force treats the "
			       "whole image as dirty)", sel->name, why);
			r = EXIT_INPUT;
			goto out;
		}
		if (!ctx->info)
			err_msg("%s: warning: bitmap '%s' is inconsistent (%s); --force: treating all %" PRIu64
				" bytes as dirty", ctx->s->name, sel->name, why, q.size);
		ctx->in->forced_all = true;
		r = sink_mark(ctx->sk, where, 0, q.size);
		goto out;
	}
	r = walk_bitmap(&q, sel, ctx->sk, NULL);
out:
	free(bms);
	return r;
}
