/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: the region state machine. The rules it keeps are written
 * once, at the top of dm-incmirror-region.c; the write path
 * (dm-incmirror-write.c) and the copier (dm-incmirror-copier.c) only go
 * through these calls and never through each other.
 */
#ifndef DM_INCMIRROR_REGION_H
#define DM_INCMIRROR_REGION_H

#include <linux/bio.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/types.h>

struct incmirror;
struct im_bio;

/*
 * An entry of the active region hash: it exists only while its region has
 * writes in flight, a copy in flight, or both.
 */
struct im_region {
	struct hlist_node hash;		/* in incmirror.active */
	struct list_head copy_list;	/* in incmirror.copying while copying */
	u64 region;
	unsigned int writes;		/* writes holding the entry */
	bool copying;
	bool verifying;			/* being compared by verify */
	bool redirtied;			/* marked dirty while being copied */
	struct bio_list deferred;	/* writes waiting for the copy */
	/* Sectors spanned by the writes since the entry has writes. */
	sector_t wstart;
	sector_t wend;
};

/* What the write path does with a write once it is admitted. */
enum im_admit {
	IM_ADMIT_ISSUE,		/* send it to the legs now */
	IM_ADMIT_DEFERRED,	/* parked behind the region's copy */
	IM_ADMIT_WAIT_MD,	/* waits for its metadata bits */
};

int im_regions_init(struct incmirror *mc);
void im_regions_exit(struct incmirror *mc);
struct im_region *im_region_alloc(struct incmirror *mc, gfp_t gfp);
void im_region_free(struct incmirror *mc, struct im_region *node);

struct im_region *im_region_find_locked(struct incmirror *mc, u64 region);
bool im_region_claimable_locked(struct incmirror *mc, u64 region);
void im_mark_dirty_locked(struct incmirror *mc, u64 first, u64 last);
bool im_mark_dirty_nokick_locked(struct incmirror *mc, u64 first, u64 last);
void im_mark_dirty_range(struct incmirror *mc, u64 first, u64 last);

/* Write side. */
enum im_admit im_region_write_begin_locked(struct incmirror *mc,
					   struct bio *bio, struct im_bio *pb,
					   struct im_region **spare);
void im_region_spanning_add_locked(struct incmirror *mc, struct im_bio *pb);
bool im_region_spanning_mark_locked(struct incmirror *mc, u64 first,
				    u64 last);
void im_region_spanning_unmark_locked(struct incmirror *mc,
				      unsigned long *bits, u64 first,
				      u64 nbits);
enum im_admit im_region_spanning_admit_locked(struct incmirror *mc,
					      struct bio *bio,
					      struct im_bio *pb, bool wait_md);
enum im_admit im_region_spanning_write_begin_locked(struct incmirror *mc,
						    struct bio *bio,
						    struct im_bio *pb);
bool im_region_write_release_locked(struct incmirror *mc, struct bio *bio,
				    struct im_bio *pb);
bool im_region_write_end_locked(struct incmirror *mc, struct im_bio *pb,
				struct im_region **to_free);

/* Copy side. */
void im_region_copy_begin_locked(struct incmirror *mc,
				 struct im_region *node, u64 region);
void im_region_copy_end_locked(struct incmirror *mc, struct im_region *node,
			       bool copied, struct im_region **to_free);

/* Verify side. */
bool im_region_verifiable_locked(struct incmirror *mc, u64 region);
void im_region_verify_begin_locked(struct incmirror *mc,
				   struct im_region *node, u64 region);
void im_region_verify_end_locked(struct incmirror *mc, struct im_region *node,
				 bool mark_dirty, struct im_region **to_free);

/* dest_zeroed: what the destination may hold. */
void im_dest_touch_locked(struct incmirror *mc, u64 first, u64 last);
bool im_dest_untouched_locked(struct incmirror *mc, u64 region);
void im_dest_touch_all(struct incmirror *mc);

/* Every active entry, for the metadata's clear pass. */
#define im_for_each_active_region(mc, bkt, node) \
	hash_for_each((mc)->active, bkt, node, hash)

#endif /* DM_INCMIRROR_REGION_H */
