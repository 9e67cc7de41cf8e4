// SPDX-License-Identifier: GPL-2.0
/* Canonical bitmap file: writer and parser (layout in canonical.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "common.h"
#include "formats.h"

int canonical_write(FILE *fp, const char *name, const struct bitmap *bm, uint64_t region,
		    uint64_t devsize)
{
	uint8_t hdr[CANON_HDR] = { 0 };
	uint8_t buf[65536];
	uint64_t nbytes = div_up(bm->nbits, 8);
	uint32_t crc;

	memcpy(hdr, CANON_MAGIC, 8);
	put_le32(hdr + 8, CANON_VERSION);
	put_le32(hdr + 12, CANON_HDR);
	put_le64(hdr + 16, region);
	put_le64(hdr + 24, devsize);
	put_le64(hdr + 32, bm->nbits);
	put_le64(hdr + 40, bm_count(bm));
	put_le64(hdr + 48, nbytes);
	put_le32(hdr + 56, 0);
	crc = crc32_update(0, hdr, 60);
	for (uint64_t i = 0; i < nbytes; i += sizeof(buf)) {
		size_t n = nbytes - i < sizeof(buf) ? (size_t)(nbytes - i) : sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = bm_byte(bm, i + k);
		crc = crc32_update(crc, buf, n);
	}
	put_le32(hdr + 60, crc);
	if (fwrite(hdr, 1, CANON_HDR, fp) != CANON_HDR)
		goto err;
	for (uint64_t i = 0; i < nbytes; i += sizeof(buf)) {
		size_t n = nbytes - i < sizeof(buf) ? (size_t)(nbytes - i) : sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = bm_byte(bm, i + k);
		if (fwrite(buf, 1, n, fp) != n)
			goto err;
	}
	if (fflush(fp))
		goto err;
	return 0;
err:
	err_msg("%s: write error: %s", name, strerror(errno));
	return EXIT_SYSTEM;
}

int parse_canonical(struct pctx *ctx)
{
	const struct src *s = ctx->s;
	uint8_t hdr[CANON_HDR], buf[65536];
	uint64_t region, devsize, nregions, ndirty, nbytes, count = 0;
	uint32_t crc;

	if (src_read(s, hdr, CANON_HDR, 0, "canonical header"))
		return EXIT_INPUT;
	if (memcmp(hdr, CANON_MAGIC, 8)) {
		err_at(s->name, 0, "expected magic \"%s\"", CANON_MAGIC);
		return EXIT_INPUT;
	}
	if (get_le32(hdr + 8) != CANON_VERSION) {
		err_at(s->name, 8, "expected version %d, found %" PRIu32 "%s", CANON_VERSION,
		       get_le32(hdr + 8),
		       get_le32(hdr + 8) == 0x01000000u ? " (wrong endianness?)" : "");
		return EXIT_INPUT;
	}
	if (get_le32(hdr + 12) != CANON_HDR) {
		err_at(s->name, 12, "expected header size %d, found %" PRIu32, CANON_HDR, get_le32(hdr + 12));
		return EXIT_INPUT;
	}
	region = get_le64(hdr + 16);
	devsize = get_le64(hdr + 24);
	nregions = get_le64(hdr + 32);
	ndirty = get_le64(hdr + 40);
	nbytes = get_le64(hdr + 48);
	if (!is_pow2(region) || region < 512) {
		err_at(s->name, 16, "expected a power-of-two region size >= 512, found %" PRIu64, region);
		return EXIT_INPUT;
	}
	if (!devsize || devsize > UINT64_MAX - region) {
		err_at(s->name, 24, "expected a device size > 0, found %" PRIu64, devsize);
		return EXIT_INPUT;
	}
	if (nregions != div_up(devsize, region)) {
		err_at(s->name, 32, "expected %" PRIu64 " regions (device size / region size), found %" PRIu64,
		       div_up(devsize, region), nregions);
		return EXIT_INPUT;
	}
	if (nbytes != div_up(nregions, 8)) {
		err_at(s->name, 48, "expected payload size %" PRIu64 ", found %" PRIu64, div_up(nregions, 8),
		       nbytes);
		return EXIT_INPUT;
	}
	if (get_le32(hdr + 56)) {
		err_at(s->name, 56, "expected flags 0, found 0x%" PRIx32, get_le32(hdr + 56));
		return EXIT_INPUT;
	}
	if (s->size != CANON_HDR + nbytes) {
		err_at(s->name, s->size < CANON_HDR + nbytes ? s->size : CANON_HDR + nbytes,
		       "%s: expected file size %" PRIu64 ", found %" PRIu64,
		       s->size < CANON_HDR + nbytes ? "truncated" : "trailing data", CANON_HDR + nbytes, s->size);
		return EXIT_INPUT;
	}
	/* verify the CRC before marking anything */
	crc = crc32_update(0, hdr, 60);
	for (uint64_t i = 0; i < nbytes; i += sizeof(buf)) {
		size_t n = nbytes - i < sizeof(buf) ? (size_t)(nbytes - i) : sizeof(buf);

		if (src_read(s, buf, n, CANON_HDR + i, "payload"))
			return EXIT_INPUT;
		crc = crc32_update(crc, buf, n);
		for (size_t k = 0; k < n; k++)
			count += (uint64_t)__builtin_popcount(buf[k]);
		if (i + n == nbytes && nregions % 8 && (buf[n - 1] >> (nregions % 8))) {
			err_at(s->name, CANON_HDR + nbytes - 1, "expected zero padding bits after region %" PRIu64,
			       nregions - 1);
			return EXIT_INPUT;
		}
	}
	if (crc != get_le32(hdr + 60)) {
		err_at(s->name, 60, "CRC mismatch: expected 0x%08" PRIx32 ", computed 0x%08" PRIx32,
		       get_le32(hdr + 60), crc);
		return EXIT_INPUT;
	}
	if (count != ndirty) {
		err_at(s->name, 40, "expected %" PRIu64 " dirty regions as in the header, payload has %" PRIu64,
		       ndirty, count);
		return EXIT_INPUT;
	}
	ctx->in->size = devsize;
	ctx->in->granularity = region;
	for (uint64_t i = 0; i < nbytes; i += sizeof(buf)) {
		size_t n = nbytes - i < sizeof(buf) ? (size_t)(nbytes - i) : sizeof(buf);
		int r;

		if (src_read(s, buf, n, CANON_HDR + i, "payload"))
			return EXIT_INPUT;
		r = sink_mark_bits(ctx->sk, CANON_HDR + i, buf, (uint64_t)n * 8, i * 8, region, devsize, false);
		if (r)
			return r;
	}
	if (ctx->info)
		fprintf(ctx->info, "regions: %" PRIu64 "\ndirty-regions: %" PRIu64 "\n", nregions, ndirty);
	return 0;
}
