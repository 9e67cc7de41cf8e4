// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: the region state machine.
 *
 * A region is clean (the destination holds the source's data) or dirty
 * (its bit is set in the region map: the copier still has to copy it). A
 * region with I/O in flight also has an entry in the active region hash,
 * which says what runs on it: writes (im_region.writes), a copy
 * (im_region.copying), or both. Regions without I/O cost nothing beyond
 * their bit. Everything here is called with incmirror.lock held (see
 * dm-incmirror.h), and nothing here sleeps or submits I/O.
 *
 * The rules:
 *
 * 1. Exclusion. A copy starts only on a dirty region that has no entry,
 *    i.e. no write in flight (im_region_claimable_locked()). A write to a
 *    region being copied is parked on the entry and issued when the copy
 *    ends (im_region_copy_end_locked() hands it to incmirror.ready). A
 *    write to a region with no copy in flight waits for nothing.
 *
 * 2. Overlap. Overlapping writes in flight together may reach the two legs
 *    in different orders, leaving the legs different although both writes
 *    succeeded. A write that overlaps the span of the writes already in
 *    flight in its region therefore marks the region dirty when it
 *    completes; the copy that follows can only start once the region has
 *    no writes left, so it makes the destination equal the source again.
 *
 * 3. Dirty bit ordering. A region's bit stays set while it is being copied
 *    and is cleared when the copy *completes* successfully, unless the
 *    region was marked dirty again while the copy ran (im_region.redirtied,
 *    set by im_mark_dirty_locked()). Anything that can leave the
 *    destination different from the source (failed destination or source
 *    write, discard, degraded write, set_dirty, ...) marks the region when
 *    the I/O *completes*. So a copy that could have read old source data
 *    always leaves the bit set behind it, and the map read at any moment
 *    (get_dirty) covers every region that is not in sync yet.
 *
 * 4. Writes spanning regions, discards and writes the destination does not
 *    take hold no entry: they go to both legs without exclusion from copies
 *    and mark their regions dirty on completion, which by rule 3 makes any
 *    overlapping copy repeat. Instead of an entry per region (a discard or
 *    write-zeroes may cover the whole device), such a write is on
 *    incmirror.spanning from its admission to its end, for rule 5.
 *
 * 5. Verify (dm-incmirror-verify.c) compares only clean regions without
 *    I/O in flight, holding an entry with `verifying` set while it reads
 *    both legs: writes to the region are parked as behind a copy, so a
 *    region is never reported as differing because a write was half done.
 *    The writes of rule 4 count as I/O in flight on every region they cover
 *    (a region is not compared while one covers it), and one that covers
 *    the region being compared is parked on its entry like a write of its
 *    own (after its metadata wait, rule 7), so it reaches neither leg
 *    while the legs are read. The verify never changes a bit except to
 *    mark a differing region dirty (`verify repair`), which it does before
 *    releasing the entry.
 *
 * 6. With dest_zeroed, the destination reads zeroes where it was never
 *    written. Every write mapped (whatever it is, whichever leg it reaches)
 *    and every copy that sends data marks its regions in dest_touched, and
 *    anything whose history is unknown (a predecessor without the feature,
 *    a map loaded from metadata) marks all of them. Only a region never
 *    touched may skip writing its zero parts. The bit is taken when the
 *    copy is claimed: a write to the region is parked meanwhile, and a
 *    spanning write (rule 4) makes the copy's bit stay dirty anyway.
 *
 * 7. Metadata (dm-incmirror-metadata.h): with a metadata device a write is
 *    admitted only once its regions' bits are durable; until then it waits
 *    holding its entry, so no copy starts on the region meanwhile. A write
 *    spanning regions marks them dirty already when it is admitted, so that
 *    no clear pass drops their bits while it runs.
 */
#include <linux/mempool.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dm-incmirror.h"

/* Active region entries kept in reserve so that writes always progress. */
#define IM_MIN_ACTIVE_REGIONS	64

int im_regions_init(struct incmirror *mc)
{
	hash_init(mc->active);
	INIT_LIST_HEAD(&mc->copying);
	INIT_LIST_HEAD(&mc->spanning);
	if (mc->dest_zeroed) {
		mc->dest_touched = kvcalloc(BITS_TO_LONGS(mc->nr_regions),
					    sizeof(unsigned long), GFP_KERNEL);
		if (!mc->dest_touched)
			return -ENOMEM;
	}
	return mempool_init_kmalloc_pool(&mc->region_pool,
					 IM_MIN_ACTIVE_REGIONS,
					 sizeof(struct im_region));
}

void im_regions_exit(struct incmirror *mc)
{
	mempool_exit(&mc->region_pool);
	kvfree(mc->dest_touched);
}

/* Rule 6. */
void im_dest_touch_locked(struct incmirror *mc, u64 first, u64 last)
{
	if (!mc->dest_touched)
		return;
	if (first == last)
		__set_bit(first, mc->dest_touched);
	else
		bitmap_set(mc->dest_touched, first, last - first + 1);
}

bool im_dest_untouched_locked(struct incmirror *mc, u64 region)
{
	return mc->dest_touched && !test_bit(region, mc->dest_touched);
}

/*
 * Rule 6: the history is unknown; process context, before any I/O. A chunk
 * at a time (IM_LOCK_CHUNK; a multiple of BITS_PER_LONG, so no word is
 * shared by two chunks).
 */
void im_dest_touch_all(struct incmirror *mc)
{
	u64 r, n;

	if (!mc->dest_touched)
		return;
	for (r = 0; r < mc->nr_regions; r += n) {
		n = min(IM_LOCK_CHUNK, mc->nr_regions - r);
		spin_lock_irq(&mc->lock);
		bitmap_set(mc->dest_touched, r, n);
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}
}

struct im_region *im_region_alloc(struct incmirror *mc, gfp_t gfp)
{
	return mempool_alloc(&mc->region_pool, gfp);
}

void im_region_free(struct incmirror *mc, struct im_region *node)
{
	if (node)
		mempool_free(node, &mc->region_pool);
}

struct im_region *im_region_find_locked(struct incmirror *mc, u64 region)
{
	struct im_region *node;

	hash_for_each_possible(mc->active, node, hash, region)
		if (node->region == region)
			return node;
	return NULL;
}

/* Rule 1: dirty and nothing in flight on it. */
bool im_region_claimable_locked(struct incmirror *mc, u64 region)
{
	return region_map_test(mc->map, region) &&
		!im_region_find_locked(mc, region);
}

static void im_region_add_locked(struct incmirror *mc, struct im_region *node,
				 u64 region)
{
	node->region = region;
	node->writes = 0;
	node->copying = false;
	node->verifying = false;
	node->redirtied = false;
	bio_list_init(&node->deferred);
	hash_add(mc->active, &node->hash, region);
}

/*
 * Drop the entry from the hash once nothing holds it. The caller frees it
 * with im_region_free() after unlocking.
 */
static void im_region_put_locked(struct im_region *node,
				 struct im_region **to_free)
{
	if (node->writes || node->copying || node->verifying)
		return;
	hash_del(&node->hash);
	*to_free = node;
}

/*
 * Rule 3: the map, copies in flight and the metadata image all see it. At
 * most IM_LOCK_CHUNK regions (im_mark_dirty_range() for more). Leaves the
 * metadata's work item alone: returns true if it has new bits to write.
 */
bool im_mark_dirty_nokick_locked(struct incmirror *mc, u64 first, u64 last)
{
	struct im_region *node;
	u64 newly, r;

	if (first == last)
		newly = region_map_mark_dirty(mc->map, first);
	else
		newly = region_map_mark_range_dirty(mc->map, first, last + 1);
	if (newly)
		mc->synced_reported = false;
	/*
	 * Rule 3: flag the entries being copied in the range. The list holds
	 * up to copy_depth jobs' regions (256 at depth 16) and set_dirty_hex
	 * calls this once per set bit under the lock, so look a short range
	 * up in the hash instead of walking the list: min(range, list) steps.
	 */
	if (last - first < mc->nr_copying) {
		for (r = first; r <= last; r++) {
			node = im_region_find_locked(mc, r);
			if (node && node->copying)
				node->redirtied = true;
		}
	} else {
		list_for_each_entry(node, &mc->copying, copy_list)
			if (node->region >= first && node->region <= last)
				node->redirtied = true;
	}
	return im_md_mark_dirty_locked(mc, first, last);
}

void im_mark_dirty_locked(struct incmirror *mc, u64 first, u64 last)
{
	if (im_mark_dirty_nokick_locked(mc, first, last))
		im_md_kick_work(mc);
}

/*
 * Rule 3 for a range of any length: process context, without the lock.
 * Marks IM_LOCK_CHUNK regions per hold of the lock, in ascending order, so
 * between two holds the regions above the chunk are not marked yet. That
 * is only seen where it is no claim: messages are serialised with it by
 * msg_mutex or run it themselves, a completion marked this way is not
 * ended until the last chunk (DM_ENDIO_INCOMPLETE), and marks_pending
 * keeps status from saying synced and the metadata from clearing a bit
 * until it is done. The copier may copy a marked chunk meanwhile, which
 * is a copy after the event the mark is for, as rule 3 wants.
 */
void im_mark_dirty_range(struct incmirror *mc, u64 first, u64 last)
{
	bool kick = false;
	u64 end;

	spin_lock_irq(&mc->lock);
	mc->marks_pending++;
	for (;;) {
		end = min(last, first + IM_LOCK_CHUNK - 1);
		kick |= im_mark_dirty_nokick_locked(mc, first, end);
		if (end == last)
			break;
		first = end + 1;
		spin_unlock_irq(&mc->lock);
		cond_resched();
		spin_lock_irq(&mc->lock);
	}
	mc->marks_pending--;
	spin_unlock_irq(&mc->lock);
	if (kick)
		im_md_kick_work(mc);
}

/* Rule 2. */
static void im_note_overlap_locked(struct im_region *node, struct bio *bio,
				   struct im_bio *pb)
{
	sector_t start = bio->bi_iter.bi_sector;
	sector_t end = bio_end_sector(bio);

	if (!node->writes) {
		node->wstart = start;
		node->wend = end;
		return;
	}
	if (start < node->wend && end > node->wstart)
		pb->flags |= IM_BIO_MARK_DIRTY;
	node->wstart = min(node->wstart, start);
	node->wend = max(node->wend, end);
}

/*
 * A write within region pb->first takes (or creates, from *spare, which is
 * then set to NULL) the region's entry. Rules 1, 2, 5, 6 and 7.
 */
enum im_admit im_region_write_begin_locked(struct incmirror *mc,
					   struct bio *bio, struct im_bio *pb,
					   struct im_region **spare)
{
	struct im_region *node;

	im_dest_touch_locked(mc, pb->first, pb->last);
	node = im_region_find_locked(mc, pb->first);
	if (!node) {
		node = *spare;
		*spare = NULL;
		im_region_add_locked(mc, node, pb->first);
	}
	im_note_overlap_locked(node, bio, pb);
	node->writes++;
	pb->node = node;

	if (im_md_write_intent_locked(mc, pb->first, pb->last)) {
		im_md_wait_locked(mc, bio);
		return IM_ADMIT_WAIT_MD;
	}
	if (node->copying || node->verifying) {
		bio_list_add(&node->deferred, bio);
		return IM_ADMIT_DEFERRED;
	}
	return IM_ADMIT_ISSUE;
}

/*
 * Rule 5: park a spanning write on the entry of the region being compared
 * if it covers that region. Returns true if it was parked.
 */
static bool im_spanning_park_locked(struct incmirror *mc, struct bio *bio,
				    struct im_bio *pb)
{
	struct im_region *node = mc->verify.node;

	if (!node || node->region < pb->first || node->region > pb->last)
		return false;
	bio_list_add(&node->deferred, bio);
	return true;
}

/* Rule 5: whether a spanning write in flight covers @region. */
static bool im_spanning_covers_locked(struct incmirror *mc, u64 region)
{
	struct im_bio *pb;

	list_for_each_entry(pb, &mc->spanning, spanning)
		if (region >= pb->first && region <= pb->last)
			return true;
	return false;
}

/*
 * Rules 4, 5, 6 and 7 for a write spanning regions, in three steps so that
 * a long one can take the lock once per chunk of regions
 * (im_spanning_write_begin() in dm-incmirror-write.c): from being on
 * incmirror.spanning (rule 5), then each chunk of its regions touched
 * (rule 6) and, with metadata, marked and made durable (rule 7), to the
 * decision. Returns true from the middle step if the write must wait for
 * a metadata round.
 */
void im_region_spanning_add_locked(struct incmirror *mc, struct im_bio *pb)
{
	pb->flags |= IM_BIO_MARK_DIRTY | IM_BIO_SPANNING;
	list_add_tail(&pb->spanning, &mc->spanning);
}

/*
 * Clear in @bits (bit i for region @first + i, @nbits of them) every region
 * under a spanning write that has not ended: the metadata clear pass keeps
 * their bits (rule 7). Bounded by @nbits per call, so by the caller's
 * chunk. Context: incmirror.lock held, IRQs off.
 */
void im_region_spanning_unmark_locked(struct incmirror *mc,
				      unsigned long *bits, u64 first,
				      u64 nbits)
{
	struct im_bio *pb;
	u64 lo, hi;

	lockdep_assert_held(&mc->lock);
	list_for_each_entry(pb, &mc->spanning, spanning) {
		lo = max(pb->first, first);
		hi = min(pb->last, first + nbits - 1);
		if (lo <= hi)
			bitmap_clear(bits, lo - first, hi - lo + 1);
	}
}

bool im_region_spanning_mark_locked(struct incmirror *mc, u64 first, u64 last)
{
	im_dest_touch_locked(mc, first, last);
	if (!mc->md)
		return false;
	im_mark_dirty_locked(mc, first, last);
	return im_md_write_intent_locked(mc, first, last);
}

enum im_admit im_region_spanning_admit_locked(struct incmirror *mc,
					      struct bio *bio,
					      struct im_bio *pb, bool wait_md)
{
	if (wait_md) {
		im_md_wait_locked(mc, bio);
		return IM_ADMIT_WAIT_MD;
	}
	if (im_spanning_park_locked(mc, bio, pb))
		return IM_ADMIT_DEFERRED;
	return IM_ADMIT_ISSUE;
}

/* All three steps in one hold: at most IM_LOCK_CHUNK regions. */
enum im_admit im_region_spanning_write_begin_locked(struct incmirror *mc,
						    struct bio *bio,
						    struct im_bio *pb)
{
	bool wait_md;

	im_region_spanning_add_locked(mc, pb);
	wait_md = im_region_spanning_mark_locked(mc, pb->first, pb->last);
	return im_region_spanning_admit_locked(mc, bio, pb, wait_md);
}

/*
 * A write whose metadata bits became durable goes on. Returns true if it
 * is parked instead: it arrived while its region was being copied or
 * verified (rule 1 keeps new copies away from the entry it holds, not one
 * already running) and that still runs, or it spans regions and one of
 * them is being compared (rule 5).
 */
bool im_region_write_release_locked(struct incmirror *mc, struct bio *bio,
				    struct im_bio *pb)
{
	if (pb->flags & IM_BIO_SPANNING)
		return im_spanning_park_locked(mc, bio, pb);
	if (!pb->node || !(pb->node->copying || pb->node->verifying))
		return false;
	bio_list_add(&pb->node->deferred, bio);
	return true;
}

/*
 * A write completed (pb->flags says how). Marks before dropping the entry,
 * so that no copy can start in between (rule 3). Returns true if the
 * copier may have work it skipped because of this write.
 */
bool im_region_write_end_locked(struct incmirror *mc, struct im_bio *pb,
				struct im_region **to_free)
{
	bool marked = pb->flags & (IM_BIO_DEST_FAILED | IM_BIO_MARK_DIRTY);

	if (marked)
		im_mark_dirty_locked(mc, pb->first, pb->last);
	if (pb->flags & IM_BIO_SPANNING)
		list_del(&pb->spanning);
	if (pb->node) {
		pb->node->writes--;
		im_region_put_locked(pb->node, to_free);
	}
	return marked || (*to_free && region_map_test(mc->map, pb->first));
}

/* The copier claimed @region (claimable, rule 1) with the entry @node. */
void im_region_copy_begin_locked(struct incmirror *mc,
				 struct im_region *node, u64 region)
{
	im_region_add_locked(mc, node, region);
	node->copying = true;
	list_add_tail(&node->copy_list, &mc->copying);
	mc->nr_copying++;
	im_md_copy_claimed_locked(mc, region);
}

/*
 * The copy of the entry's region ended; @copied if it succeeded. Rule 3
 * decides the bit; parked writes go to incmirror.ready for the worker,
 * still holding the entry.
 */
void im_region_copy_end_locked(struct incmirror *mc, struct im_region *node,
			       bool copied, struct im_region **to_free)
{
	node->copying = false;
	list_del(&node->copy_list);
	mc->nr_copying--;
	if (copied && !node->redirtied)
		region_map_mark_clean(mc->map, node->region);
	bio_list_merge(&mc->ready, &node->deferred);
	bio_list_init(&node->deferred);
	im_region_put_locked(node, to_free);
}

/* Rule 5: clean and nothing in flight on it, spanning writes included. */
bool im_region_verifiable_locked(struct incmirror *mc, u64 region)
{
	return !region_map_test(mc->map, region) &&
		!im_region_find_locked(mc, region) &&
		!im_spanning_covers_locked(mc, region);
}

void im_region_verify_begin_locked(struct incmirror *mc,
				   struct im_region *node, u64 region)
{
	im_region_add_locked(mc, node, region);
	node->verifying = true;
	mc->verify.node = node;
}

/* Parked writes go to incmirror.ready; the caller kicks the copier. */
void im_region_verify_end_locked(struct incmirror *mc, struct im_region *node,
				 bool mark_dirty, struct im_region **to_free)
{
	if (mark_dirty)
		im_mark_dirty_locked(mc, node->region, node->region);
	node->verifying = false;
	mc->verify.node = NULL;
	bio_list_merge(&mc->ready, &node->deferred);
	bio_list_init(&node->deferred);
	im_region_put_locked(node, to_free);
}
