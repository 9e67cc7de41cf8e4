/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rescaling sink: parsers report dirty extents in input bytes; the sink shifts
 * them by the offset and marks, conservatively, every region of region_size
 * bytes that any dirty byte touches. It also keeps per-input accounting
 * (extents, bytes, highest dirty byte) used by `info` and by the size checks.
 */
#ifndef IMB_RESCALE_H
#define IMB_RESCALE_H

#include <stdbool.h>
#include <stdint.h>

#include "bitmap.h"

/* hard cap on regions when the device size is not known: 2^32 regions (512 MiB of bitmap) */
#define SINK_MAX_REGIONS (UINT64_C(1) << 32)

struct sink {
	struct bitmap bm;	/* bm.nbits grows as extents arrive unless limit is set */
	uint64_t region;	/* bytes per region; 0 = accounting only (info) */
	int64_t offset;		/* target byte = input byte - offset */
	uint64_t limit;		/* target size in bytes if known (bits beyond are not stored), 0 = unknown */
	uint64_t max_regions;

	/* current input (reset by sink_begin) */
	const char *name;
	bool foff_is_line;	/* parsers of text formats pass line numbers as foff */
	uint64_t pend_off, pend_len, pend_foff;	/* pending extent (input bytes), merged if contiguous */
	uint64_t extents;	/* merged extents */
	uint64_t bytes;		/* dirty bytes (input coordinates, overlaps counted twice) */
	uint64_t max_end;	/* highest dirty byte + 1, target coordinates (0 if none) */
	uint64_t min_off;	/* lowest dirty input byte */
	uint64_t dropped;	/* extents entirely before the offset (dropped) */
};

/* region = 0 for accounting only; limit 0 if unknown. Returns -1 on ENOMEM. */
int sink_init(struct sink *sk, uint64_t region, int64_t offset, uint64_t limit);
void sink_free(struct sink *sk);
void sink_begin(struct sink *sk, const char *name);
/* Mark input bytes [off, off+len) dirty; foff is the position in the input file the
 * extent was read from (for messages). Returns 0, or an EXIT_* code after printing. */
int sink_mark(struct sink *sk, uint64_t foff, uint64_t off, uint64_t len);
/* Mark units [first, first+count) of unit bytes each, clipped at the input's size (0 = no clip). */
int sink_mark_units(struct sink *sk, uint64_t foff, uint64_t first, uint64_t count,
		    uint64_t unit, uint64_t size);
/* Mark every set bit of a bitmap chunk: nbits bits starting at unit index first_unit,
 * LSB-first (or MSB-first) bytes; bits at or beyond nunits_total are ignored (padding). */
int sink_mark_bits(struct sink *sk, uint64_t foff, const uint8_t *bytes, uint64_t nbits,
		   uint64_t first_unit, uint64_t unit, uint64_t size, bool msb_first);
/* flush the pending extent; call at the end of each input */
int sink_end(struct sink *sk);

#endif
