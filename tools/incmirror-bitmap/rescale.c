// SPDX-License-Identifier: GPL-2.0
/* Conservative rescaling of byte extents to regions. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "rescale.h"

int sink_init(struct sink *sk, uint64_t region, int64_t offset, uint64_t limit)
{
	memset(sk, 0, sizeof(*sk));
	sk->region = region;
	sk->offset = offset;
	sk->limit = limit;
	sk->max_regions = SINK_MAX_REGIONS;
	if (region && limit) {
		sk->max_regions = div_up(limit, region);
		return bm_init(&sk->bm, sk->max_regions);
	}
	return bm_init(&sk->bm, 0);
}

void sink_free(struct sink *sk)
{
	bm_free(&sk->bm);
}

/* "PROG: FILE: offset N: ..." or "PROG: FILE: line N: ..." */
static void sink_err(const struct sink *sk, uint64_t foff, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sink_err(const struct sink *sk, uint64_t foff, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: %s %" PRIu64 ": ", sk->name, sk->foff_is_line ? "line" : "offset", foff);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sink_begin(struct sink *sk, const char *name)
{
	sk->name = name;
	sk->foff_is_line = false;
	sk->pend_len = 0;
	sk->extents = sk->bytes = sk->max_end = sk->dropped = 0;
	sk->min_off = UINT64_MAX;
}

static int commit(struct sink *sk, uint64_t foff, uint64_t off, uint64_t len)
{
	uint64_t toff, tend, first, last;

	sk->extents++;
	sk->bytes += len;
	if (off < sk->min_off)
		sk->min_off = off;
	/* shift to target coordinates */
	if (sk->offset >= 0) {
		uint64_t o = (uint64_t)sk->offset;

		if (off + len <= o) {
			sk->dropped++;
			return 0;
		}
		if (off < o) {
			len -= o - off;
			off = o;
		}
		toff = off - o;
	} else {
		uint64_t o = (uint64_t)(-(sk->offset + 1)) + 1;

		if (!add_u64(off, o, &toff) || toff + len < toff) {
			sink_err(sk, foff, "extent at byte %" PRIu64 " shifted by the offset overflows 64 bits", off);
			return EXIT_INPUT;
		}
	}
	tend = toff + len;
	if (tend > sk->max_end)
		sk->max_end = tend;
	if (!sk->region)
		return 0;
	first = toff / sk->region;
	last = (tend - 1) / sk->region;
	if (sk->limit) {
		if (first >= sk->bm.nbits)
			return 0;	/* beyond the device: size check decides later */
		if (last >= sk->bm.nbits)
			last = sk->bm.nbits - 1;
	} else {
		if (last >= sk->max_regions) {
			sink_err(sk, foff,
			       "oversized: dirty byte %" PRIu64 " needs region %" PRIu64
			       ", more than the maximum of %" PRIu64 " regions without --device-size",
			       tend - 1, last, sk->max_regions);
			return EXIT_INPUT;
		}
		if (last >= sk->bm.nbits && bm_resize(&sk->bm, last + 1)) {
			err_msg("out of memory for %" PRIu64 " regions", last + 1);
			return EXIT_SYSTEM;
		}
	}
	bm_set_range(&sk->bm, first, last - first + 1);
	return 0;
}

int sink_mark(struct sink *sk, uint64_t foff, uint64_t off, uint64_t len)
{
	uint64_t end;
	int r;

	if (!len)
		return 0;
	if (!add_u64(off, len, &end)) {
		sink_err(sk, foff, "extent offset %" PRIu64 " + length %" PRIu64 " overflows 64 bits",
		       off, len);
		return EXIT_INPUT;
	}
	if (sk->pend_len && sk->pend_off + sk->pend_len == off) {
		sk->pend_len += len;
		return 0;
	}
	if (sk->pend_len && (r = commit(sk, sk->pend_foff, sk->pend_off, sk->pend_len)))
		return r;
	sk->pend_off = off;
	sk->pend_len = len;
	sk->pend_foff = foff;
	return 0;
}

int sink_end(struct sink *sk)
{
	int r = 0;

	if (sk->pend_len)
		r = commit(sk, sk->pend_foff, sk->pend_off, sk->pend_len);
	sk->pend_len = 0;
	return r;
}

int sink_mark_units(struct sink *sk, uint64_t foff, uint64_t first, uint64_t count,
		    uint64_t unit, uint64_t size)
{
	uint64_t off, len;

	if (!count)
		return 0;
	if (!mul_u64(first, unit, &off) || !mul_u64(count, unit, &len) || off + len < off) {
		sink_err(sk, foff, "units %" PRIu64 "+%" PRIu64 " of %" PRIu64 " bytes overflow 64 bits",
		       first, count, unit);
		return EXIT_INPUT;
	}
	if (size) {
		if (off >= size)
			return 0;
		if (off + len > size)
			len = size - off;
	}
	return sink_mark(sk, foff, off, len);
}

int sink_mark_bits(struct sink *sk, uint64_t foff, const uint8_t *bytes, uint64_t nbits,
		   uint64_t first_unit, uint64_t unit, uint64_t size, bool msb_first)
{
	uint64_t i = 0;

	while (i < nbits) {
		uint64_t bi = i / 8;
		uint8_t b = bytes[bi];
		uint64_t run_start, j;
		int r;

		if (msb_first) {
			/* reverse once so the run logic below is LSB-first */
			b = (uint8_t)(((b * 0x0802u & 0x22110u) | (b * 0x8020u & 0x88440u)) * 0x10101u >> 16);
		}
		b = (uint8_t)(b >> (i % 8));
		if (!b) {
			i = (bi + 1) * 8;
			continue;
		}
		i += (uint64_t)__builtin_ctz(b);
		if (i >= nbits)
			break;
		/* find end of run */
		run_start = i;
		for (j = i; j < nbits; j++) {
			uint8_t c = bytes[j / 8];

			if (msb_first ? !((c >> (7 - j % 8)) & 1) : !((c >> (j % 8)) & 1))
				break;
			/* fast skip full bytes */
			if (j % 8 == 0 && c == 0xff && j + 8 <= nbits)
				j += 7;
		}
		r = sink_mark_units(sk, foff + run_start / 8, first_unit + run_start, j - run_start, unit, size);
		if (r)
			return r;
		i = j;
	}
	return 0;
}
