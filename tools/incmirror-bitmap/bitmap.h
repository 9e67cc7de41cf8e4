/* SPDX-License-Identifier: GPL-2.0 */
/* In-memory region bitmap: one bit per region, bit i of word i/64 = region i. */
#ifndef IMB_BITMAP_H
#define IMB_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

struct bitmap {
	uint64_t nbits;		/* regions covered */
	uint64_t *w;		/* ceil(nbits/64) words; bits >= nbits are always 0 */
	uint64_t cap;		/* words allocated */
};

int bm_init(struct bitmap *bm, uint64_t nbits);		/* all clear; -1 on ENOMEM */
void bm_free(struct bitmap *bm);
int bm_resize(struct bitmap *bm, uint64_t nbits);	/* grow (clear) or shrink (drop bits) */
void bm_set_range(struct bitmap *bm, uint64_t first, uint64_t count);	/* must be < nbits */
static inline bool bm_test(const struct bitmap *bm, uint64_t i)
{
	return i < bm->nbits && ((bm->w[i >> 6] >> (i & 63)) & 1);
}
uint64_t bm_count(const struct bitmap *bm);
/* first set (resp. clear) bit >= from, or nbits if none */
uint64_t bm_next_set(const struct bitmap *bm, uint64_t from);
uint64_t bm_next_clear(const struct bitmap *bm, uint64_t from);
/* byte i of the LSB-first byte encoding (bit 0 of byte i = region 8i) */
static inline uint8_t bm_byte(const struct bitmap *bm, uint64_t i)
{
	if (i * 8 >= bm->nbits)
		return 0;
	return (uint8_t)(bm->w[i >> 3] >> ((i & 7) * 8));
}
/* OR the LSB-first bytes in, starting at region first; bits beyond nbits must be 0
 * (returns -1 otherwise, with nothing changed) */
int bm_or_bytes(struct bitmap *bm, uint64_t first, const uint8_t *bytes, uint64_t nbytes);

#endif
