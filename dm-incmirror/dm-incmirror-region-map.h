/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: the dirty region map behind a small ops interface.
 *
 * The target only ever talks to the map through these operations. The map
 * is the truth about which regions still have to be copied; persistence
 * (dm-incmirror-metadata.c) keeps its own on-disk image beside it and
 * moves whole words between the two with get_words/set_words.
 *
 * Locking: the map has no lock of its own. Every operation is called with
 * the owner's spinlock held (often with interrupts disabled), so no
 * operation may sleep. Operations that walk the map take a [start, end)
 * window so callers can bound the time they hold that lock.
 */
#ifndef DM_INCMIRROR_REGION_MAP_H
#define DM_INCMIRROR_REGION_MAP_H

#include <linux/types.h>

struct region_map;

struct region_map_ops {
	void (*destroy)(struct region_map *rm);
	bool (*test)(struct region_map *rm, u64 region);
	/* Returns true if the region was clean before. */
	bool (*mark_dirty)(struct region_map *rm, u64 region);
	void (*mark_clean)(struct region_map *rm, u64 region);
	/* Marks [first, end) dirty; returns how many regions were clean. */
	u64 (*mark_range_dirty)(struct region_map *rm, u64 first, u64 end);
	/* First dirty (clean) region in [start, end), or end if none. */
	u64 (*find_next_dirty)(struct region_map *rm, u64 start, u64 end);
	u64 (*find_next_clean)(struct region_map *rm, u64 start, u64 end);
	u64 (*count_dirty)(struct region_map *rm);
	/*
	 * Copy words [first_word, first_word + nr) of the map to @dst, or
	 * replace them by @src (bits past nr_regions in @src are ignored).
	 * Word i covers regions i * BITS_PER_LONG to i * BITS_PER_LONG +
	 * BITS_PER_LONG - 1, in the kernel's native bitmap layout.
	 */
	void (*get_words)(struct region_map *rm, u64 first_word, u64 nr,
			  unsigned long *dst);
	void (*set_words)(struct region_map *rm, u64 first_word, u64 nr,
			  const unsigned long *src);
};

struct region_map {
	const struct region_map_ops *ops;
	u64 nr_regions;
};

/* Largest map the in-core backend accepts (256 MiB of bitmap). */
#define REGION_MAP_MAX_REGIONS (1ULL << 31)

struct region_map *region_map_create_core(u64 nr_regions, bool all_dirty);

static inline void region_map_destroy(struct region_map *rm)
{
	rm->ops->destroy(rm);
}

static inline bool region_map_test(struct region_map *rm, u64 region)
{
	return rm->ops->test(rm, region);
}

static inline bool region_map_mark_dirty(struct region_map *rm, u64 region)
{
	return rm->ops->mark_dirty(rm, region);
}

static inline void region_map_mark_clean(struct region_map *rm, u64 region)
{
	rm->ops->mark_clean(rm, region);
}

static inline u64 region_map_mark_range_dirty(struct region_map *rm,
					      u64 first, u64 end)
{
	return rm->ops->mark_range_dirty(rm, first, end);
}

static inline u64 region_map_find_next_dirty(struct region_map *rm,
					     u64 start, u64 end)
{
	return rm->ops->find_next_dirty(rm, start, end);
}

static inline u64 region_map_find_next_clean(struct region_map *rm,
					     u64 start, u64 end)
{
	return rm->ops->find_next_clean(rm, start, end);
}

static inline u64 region_map_count_dirty(struct region_map *rm)
{
	return rm->ops->count_dirty(rm);
}

static inline void region_map_get_words(struct region_map *rm, u64 first_word,
					u64 nr, unsigned long *dst)
{
	rm->ops->get_words(rm, first_word, nr, dst);
}

static inline void region_map_set_words(struct region_map *rm, u64 first_word,
					u64 nr, const unsigned long *src)
{
	rm->ops->set_words(rm, first_word, nr, src);
}

#endif /* DM_INCMIRROR_REGION_MAP_H */
