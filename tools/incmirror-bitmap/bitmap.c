// SPDX-License-Identifier: GPL-2.0
/* In-memory region bitmap. */
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "common.h"

static uint64_t words_for(uint64_t nbits)
{
	return nbits / 64 + (nbits % 64 != 0);
}

int bm_init(struct bitmap *bm, uint64_t nbits)
{
	uint64_t nw = words_for(nbits);

	bm->nbits = nbits;
	bm->cap = nw;
	bm->w = NULL;
	if (nw > SIZE_MAX / 8)
		return -1;
	bm->w = calloc(nw ? nw : 1, 8);
	return bm->w ? 0 : -1;
}

void bm_free(struct bitmap *bm)
{
	free(bm->w);
	bm->w = NULL;
	bm->nbits = bm->cap = 0;
}

int bm_resize(struct bitmap *bm, uint64_t nbits)
{
	uint64_t nw = words_for(nbits);

	if (nw > bm->cap) {
		uint64_t ncap = bm->cap * 2 > nw ? bm->cap * 2 : nw;
		uint64_t *n;

		if (ncap > SIZE_MAX / 8)
			return -1;
		n = realloc(bm->w, ncap * 8);
		if (!n) {
			ncap = nw;
			n = realloc(bm->w, ncap * 8);
			if (!n)
				return -1;
		}
		memset(n + bm->cap, 0, (ncap - bm->cap) * 8);
		bm->w = n;
		bm->cap = ncap;
	}
	if (nbits < bm->nbits) {
		/* clear dropped bits so the invariant holds if it grows again */
		uint64_t old_nw = words_for(bm->nbits);

		if (nbits % 64)
			bm->w[nbits / 64] &= (UINT64_C(1) << (nbits % 64)) - 1;
		if (old_nw > nw)
			memset(bm->w + nw, 0, (old_nw - nw) * 8);
	}
	bm->nbits = nbits;
	return 0;
}

void bm_set_range(struct bitmap *bm, uint64_t first, uint64_t count)
{
	uint64_t end = first + count;

	if (!count)
		return;
	while (first < end && (first & 63)) {
		bm->w[first >> 6] |= UINT64_C(1) << (first & 63);
		first++;
	}
	if (end - first >= 64) {
		uint64_t n = (end - first) / 64;

		memset(bm->w + (first >> 6), 0xff, n * 8);
		first += n * 64;
	}
	while (first < end) {
		bm->w[first >> 6] |= UINT64_C(1) << (first & 63);
		first++;
	}
}

uint64_t bm_count(const struct bitmap *bm)
{
	uint64_t n = 0, nw = words_for(bm->nbits);

	for (uint64_t i = 0; i < nw; i++)
		n += (uint64_t)__builtin_popcountll(bm->w[i]);
	return n;
}

static uint64_t next_bit(const struct bitmap *bm, uint64_t from, uint64_t invert)
{
	uint64_t nw = words_for(bm->nbits), i;
	uint64_t word;

	if (from >= bm->nbits)
		return bm->nbits;
	i = from >> 6;
	word = (bm->w[i] ^ invert) & (~UINT64_C(0) << (from & 63));
	for (;;) {
		if (word) {
			uint64_t r = i * 64 + (uint64_t)__builtin_ctzll(word);

			return r < bm->nbits ? r : bm->nbits;
		}
		if (++i >= nw)
			return bm->nbits;
		word = bm->w[i] ^ invert;
	}
}

uint64_t bm_next_set(const struct bitmap *bm, uint64_t from)
{
	return next_bit(bm, from, 0);
}

uint64_t bm_next_clear(const struct bitmap *bm, uint64_t from)
{
	return next_bit(bm, from, ~UINT64_C(0));
}

int bm_or_bytes(struct bitmap *bm, uint64_t first, const uint8_t *bytes, uint64_t nbytes)
{
	/* validate first */
	for (uint64_t i = nbytes; i-- > 0;) {
		uint64_t top;

		if (!bytes[i])
			continue;
		/* highest set bit of the last non-zero byte */
		top = first + i * 8 + (uint64_t)(31 - __builtin_clz((unsigned)bytes[i]));
		if (top >= bm->nbits)
			return -1;
		break;
	}
	for (uint64_t i = 0; i < nbytes; i++) {
		uint8_t b = bytes[i];

		while (b) {
			unsigned k = (unsigned)__builtin_ctz(b);
			uint64_t r = first + i * 8 + k;

			bm->w[r >> 6] |= UINT64_C(1) << (r & 63);
			b &= (uint8_t)(b - 1);
		}
	}
	return 0;
}
