// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: in-core dirty region map, one bit per region.
 *
 * The only per-region state of the target lives here: 16 TiB at 64 KiB
 * regions is 256 Mi regions, i.e. a 32 MiB bitmap (kvzalloc, so it may be
 * vmalloc'ed). A count of dirty bits is kept so that status and the copier
 * never have to scan the map to learn whether it is empty.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-incmirror-region-map.h"

struct core_map {
	struct region_map rm;
	unsigned long *bits;
	u64 nr_dirty;
};

static struct core_map *to_core(struct region_map *rm)
{
	return container_of(rm, struct core_map, rm);
}

static void core_destroy(struct region_map *rm)
{
	struct core_map *cm = to_core(rm);

	kvfree(cm->bits);
	kfree(cm);
}

static bool core_test(struct region_map *rm, u64 region)
{
	return test_bit(region, to_core(rm)->bits);
}

static bool core_mark_dirty(struct region_map *rm, u64 region)
{
	struct core_map *cm = to_core(rm);

	if (__test_and_set_bit(region, cm->bits))
		return false;
	cm->nr_dirty++;
	return true;
}

static void core_mark_clean(struct region_map *rm, u64 region)
{
	struct core_map *cm = to_core(rm);

	if (__test_and_clear_bit(region, cm->bits))
		cm->nr_dirty--;
}

static u64 core_mark_range_dirty(struct region_map *rm, u64 first, u64 end)
{
	struct core_map *cm = to_core(rm);
	u64 newly = 0;

	/* Word at a time: whole-map marking must stay cheap under a spinlock. */
	while (first < end) {
		unsigned long *word = cm->bits + BIT_WORD(first);
		unsigned int shift = first % BITS_PER_LONG;
		u64 n = min_t(u64, end - first, BITS_PER_LONG - shift);
		unsigned long mask;

		mask = (n == BITS_PER_LONG) ? ~0UL : ((1UL << n) - 1) << shift;
		newly += hweight_long(mask & ~*word);
		*word |= mask;
		first += n;
	}
	cm->nr_dirty += newly;
	return newly;
}

static u64 core_find_next_dirty(struct region_map *rm, u64 start, u64 end)
{
	if (start >= end)
		return end;
	return find_next_bit(to_core(rm)->bits, end, start);
}

static u64 core_find_next_clean(struct region_map *rm, u64 start, u64 end)
{
	if (start >= end)
		return end;
	return find_next_zero_bit(to_core(rm)->bits, end, start);
}

static u64 core_count_dirty(struct region_map *rm)
{
	return to_core(rm)->nr_dirty;
}

static void core_get_words(struct region_map *rm, u64 first_word, u64 nr,
			   unsigned long *dst)
{
	memcpy(dst, to_core(rm)->bits + first_word, nr * sizeof(*dst));
}

static void core_set_words(struct region_map *rm, u64 first_word, u64 nr,
			   const unsigned long *src)
{
	struct core_map *cm = to_core(rm);
	u64 last_words = BITS_TO_LONGS(rm->nr_regions);
	unsigned long w;
	u64 i;

	for (i = first_word; i < first_word + nr; i++) {
		w = src[i - first_word];
		/* Keep the bits past nr_regions zero (see create). */
		if (i == last_words - 1 && rm->nr_regions % BITS_PER_LONG)
			w &= BITMAP_LAST_WORD_MASK(rm->nr_regions);
		cm->nr_dirty += hweight_long(w);
		cm->nr_dirty -= hweight_long(cm->bits[i]);
		cm->bits[i] = w;
	}
}

static const struct region_map_ops core_map_ops = {
	.destroy = core_destroy,
	.test = core_test,
	.mark_dirty = core_mark_dirty,
	.mark_clean = core_mark_clean,
	.mark_range_dirty = core_mark_range_dirty,
	.find_next_dirty = core_find_next_dirty,
	.find_next_clean = core_find_next_clean,
	.count_dirty = core_count_dirty,
	.get_words = core_get_words,
	.set_words = core_set_words,
};

struct region_map *region_map_create_core(u64 nr_regions, bool all_dirty)
{
	struct core_map *cm;

	if (!nr_regions || nr_regions > REGION_MAP_MAX_REGIONS)
		return NULL;

	cm = kzalloc(sizeof(*cm), GFP_KERNEL);
	if (!cm)
		return NULL;

	cm->bits = kvcalloc(BITS_TO_LONGS(nr_regions), sizeof(unsigned long),
			    GFP_KERNEL);
	if (!cm->bits) {
		kfree(cm);
		return NULL;
	}
	cm->rm.ops = &core_map_ops;
	cm->rm.nr_regions = nr_regions;

	/*
	 * Bits past nr_regions in the last word stay zero forever: the
	 * find/count operations rely on it.
	 */
	if (all_dirty)
		core_mark_range_dirty(&cm->rm, 0, nr_regions);

	return &cm->rm;
}
