// SPDX-License-Identifier: GPL-2.0
/*
 * Linux md write-intent bitmaps (drivers/md/md-bitmap.h, include/uapi/linux/raid/md_p.h).
 * The 256-byte little-endian bitmap superblock:
 *    0 magic 0x6d746962   4 version (4)   8 uuid[16]   24 events   32 events_cleared
 *   40 sync_size (sectors)   48 state   52 chunksize (bytes)   56 daemon_sleep
 *   60 write_behind   64 sectors_reserved   68 nodes   72 cluster_name[64]
 * followed by ceil(sync_size*512/chunksize) bits, LSB-first.
 * Found at offset 0 (a bitmap file), or through an md superblock on a member:
 * v1.1 at 0, v1.2 at 4096, v1.0 at the end (bitmap at sb + bitmap_offset
 * sectors, feature_map bit 0), or v0.90 at the end (bitmap 4 KiB after it).
 */
#include <inttypes.h>
#include <string.h>

#include "common.h"
#include "formats.h"

#define BITMAP_MAGIC 0x6d746962u
#define MD_SB_MAGIC 0xa92b4efcu
#define BITMAP_STALE (1u << 1)

static int find_bitmap(const struct src *s, uint64_t *bmoff)
{
	uint8_t b[256];
	uint64_t cand[3];
	int nc = 0;

	if (src_read(s, b, 4, 0, "md bitmap or superblock magic"))
		return EXIT_INPUT;
	if (get_le32(b) == BITMAP_MAGIC) {
		*bmoff = 0;
		return 0;
	}
	if (get_be32(b) == BITMAP_MAGIC || get_be32(b) == MD_SB_MAGIC) {
		err_at(s->name, 0, "expected md bitmap magic 0x%08x (found it big-endian: wrong endianness)",
		       BITMAP_MAGIC);
		return EXIT_INPUT;
	}
	cand[nc++] = 0;		/* 1.1 */
	cand[nc++] = 4096;	/* 1.2 */
	if (s->size >= 8192)
		cand[nc++] = ((s->size >> 9) - 16) & ~UINT64_C(7);	/* 1.0, in sectors */
	for (int i = 0; i < nc; i++) {
		uint64_t sb = i == 2 ? cand[i] * 512 : cand[i];
		int32_t boff;

		if (src_read_some(s, b, 256, sb) != 256 || get_le32(b) != MD_SB_MAGIC || get_le32(b + 4) != 1)
			continue;
		if (!(get_le32(b + 8) & 1)) {
			err_at(s->name, sb + 8, "md v1 superblock: expected feature_map bit 0 (internal bitmap present)");
			return EXIT_INPUT;
		}
		boff = (int32_t)get_le32(b + 96);
		if ((int64_t)sb + (int64_t)boff * 512 < 0) {
			err_at(s->name, sb + 96, "md v1 superblock: bitmap_offset %" PRId32 " points before the device", boff);
			return EXIT_INPUT;
		}
		*bmoff = (uint64_t)((int64_t)sb + (int64_t)boff * 512);
		return 0;
	}
	/* 0.90: 64 KiB-aligned superblock at the end, bitmap 4 KiB after it */
	if (s->size >= 131072) {
		uint64_t sb = ((s->size >> 9) & ~UINT64_C(127)) * 512 - 65536;

		if (src_read_some(s, b, 8, sb) == 8 && get_le32(b) == MD_SB_MAGIC && get_le32(b + 4) == 0) {
			*bmoff = sb + 4096;
			return 0;
		}
	}
	err_at(s->name, 0, "expected an md bitmap superblock (magic 0x%08x) or an md superblock (magic 0x%08x at 0, 4096 or the end)",
	       BITMAP_MAGIC, MD_SB_MAGIC);
	return EXIT_INPUT;
}

int parse_md(struct pctx *ctx)
{
	const struct src *s = ctx->s;
	uint8_t sb[256], buf[65536];
	uint64_t at, sync, nbits, nbytes, devsize;
	uint32_t version, state, chunk, reserved;
	int r = find_bitmap(s, &at);

	if (r)
		return r;
	if (src_read(s, sb, 256, at, "md bitmap superblock"))
		return EXIT_INPUT;
	if (get_le32(sb) != BITMAP_MAGIC) {
		err_at(s->name, at, "expected md bitmap magic 0x%08x%s", BITMAP_MAGIC,
		       get_be32(sb) == BITMAP_MAGIC ? " (found it big-endian: wrong endianness)" : "");
		return EXIT_INPUT;
	}
	version = get_le32(sb + 4);
	if (version != 4 && version != 3) {
		err_at(s->name, at + 4, "expected md bitmap version 4 (or 3), found %" PRIu32 "%s", version,
		       version == 5 ? " (clustered bitmaps are not supported)" :
		       get_be32(sb + 4) == 4 ? " (wrong endianness)" : "");
		return EXIT_INPUT;
	}
	sync = get_le64(sb + 40);
	state = get_le32(sb + 48);
	chunk = get_le32(sb + 52);
	reserved = get_le32(sb + 64);
	if (chunk < 512 || !is_pow2(chunk)) {
		err_at(s->name, at + 52, "expected a power-of-two chunksize >= 512, found %" PRIu32, chunk);
		return EXIT_INPUT;
	}
	if (!sync || sync > (UINT64_C(1) << 53)) {
		err_at(s->name, at + 40, "expected sync_size 1..2^53 sectors, found %" PRIu64, sync);
		return EXIT_INPUT;
	}
	devsize = sync * 512;
	nbits = div_up(devsize, chunk);
	nbytes = div_up(nbits, 8);
	if (reserved && 256 + nbytes > (uint64_t)reserved * 512) {
		err_at(s->name, at + 64, "%" PRIu64 " bitmap bytes do not fit sectors_reserved %" PRIu32, nbytes, reserved);
		return EXIT_INPUT;
	}
	if (at + 256 > s->size || nbytes > s->size - at - 256) {
		err_at(s->name, s->size, "truncated: expected %" PRIu64 " bytes of bitmap after the superblock at %" PRIu64,
		       nbytes, at);
		return EXIT_INPUT;
	}
	ctx->in->size = devsize;
	ctx->in->granularity = chunk;
	if (ctx->info)
		fprintf(ctx->info, "md-bitmap-version: %" PRIu32 "\nchunks: %" PRIu64 "\nevents: %" PRIu64
			"\nevents-cleared: %" PRIu64 "\nstate: 0x%" PRIx32 "%s\n", version, nbits, get_le64(sb + 24),
			get_le64(sb + 32), state, state & BITMAP_STALE ? " (stale)" : "");
	if (state & BITMAP_STALE) {
		if (!ctx->o->force && !ctx->info) {
			err_at(s->name, at + 48, "md bitmap is stale (state bit BITMAP_STALE): refusing (--force treats the whole device as dirty)");
			return EXIT_INPUT;
		}
		if (!ctx->info)
			err_msg("%s: warning: stale md bitmap; --force: treating all %" PRIu64 " bytes as dirty", s->name,
				devsize);
		ctx->in->forced_all = true;
		return sink_mark(ctx->sk, at + 48, 0, devsize);
	}
	for (uint64_t i = 0; i < nbytes; i += sizeof(buf)) {
		size_t n = nbytes - i < sizeof(buf) ? (size_t)(nbytes - i) : sizeof(buf);

		if (src_read(s, buf, n, at + 256 + i, "md bitmap bits"))
			return EXIT_INPUT;
		r = sink_mark_bits(ctx->sk, at + 256 + i, buf, (uint64_t)n * 8, i * 8, chunk, devsize, false);
		if (r)
			return r;
	}
	return 0;
}
