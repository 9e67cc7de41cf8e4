// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: the write path.
 *
 * A write is admitted by the region state machine (dm-incmirror-region.c),
 * then sent to both legs as two clones of the bio, each from a bioset of
 * its own (two allocations from one mempool in the same submission could
 * wait on each other). The clones are submitted from the map function, in
 * the caller's context: no work item or thread lies between the caller and
 * the legs, and on devices that complete asynchronously the two legs run
 * in parallel. The caller's bio completes when both clones have, with the
 * source's status; a destination failure only makes the region dirty and
 * counts towards degraded.
 *
 * Flushes are not cloned: dm core sends num_flush_bios (2) empty bios, one
 * per leg, remapped as they are.
 */
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/sched.h>

#include "dm-incmirror.h"

/* Request flags kept on the clones. */
#define IM_PASS_FLAGS	(REQ_FUA | REQ_SYNC | REQ_META | REQ_PRIO | \
			 REQ_IDLE | REQ_NOUNMAP)

int im_write_init(struct incmirror *mc)
{
	int r;

	r = bioset_init(&mc->bs_source, BIO_POOL_SIZE, 0, 0);
	if (r)
		return r;
	r = bioset_init(&mc->bs_dest, BIO_POOL_SIZE, 0, 0);
	if (r)
		bioset_exit(&mc->bs_source);
	return r;
}

void im_write_exit(struct incmirror *mc)
{
	bioset_exit(&mc->bs_dest);
	bioset_exit(&mc->bs_source);
}

/* Whether the destination leg takes this write (read without the lock). */
static bool im_dest_takes(struct incmirror *mc, enum req_op op)
{
	struct block_device *bdev = mc->dest->bdev;

	if (READ_ONCE(mc->degraded))
		return false;
	switch (op) {
	case REQ_OP_WRITE:
		return true;
	case REQ_OP_DISCARD:
		return bdev_max_discard_sectors(bdev) != 0;
	case REQ_OP_WRITE_ZEROES:
		return bdev_write_zeroes_sectors(bdev) != 0;
	default:
		return false;
	}
}

/*
 * The last leg to complete completes the caller's bio; incmirror_end_io()
 * then turns the recorded failures into a dirty region. Each leg writes
 * only its own status field; atomic_dec_and_test() orders them before the
 * reads here.
 */
static void im_leg_done(struct bio *bio)
{
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	if (!atomic_dec_and_test(&pb->legs))
		return;
	/*
	 * A discard or write-zeroes the destination refuses as unsupported
	 * (its dm device still advertised it, the device below no longer
	 * takes it) says nothing about the destination's health: it must not
	 * count towards degraded, or an fstrim could degrade a healthy
	 * mirror. The region is copied again as data instead.
	 */
	if (pb->dest_status == BLK_STS_NOTSUPP &&
	    (bio_op(bio) == REQ_OP_DISCARD ||
	     bio_op(bio) == REQ_OP_WRITE_ZEROES))
		pb->flags |= IM_BIO_MARK_DIRTY;
	else if (pb->dest_status)
		pb->flags |= IM_BIO_DEST_FAILED;
	/*
	 * The destination may hold data the source failed to store: the
	 * region is out of sync either way.
	 */
	if (pb->source_status)
		pb->flags |= IM_BIO_MARK_DIRTY;
	bio->bi_status = pb->source_status;
	bio_endio(bio);
}

/* Clone completions: may run in interrupt context. */
static void im_source_end_io(struct bio *clone)
{
	struct bio *bio = clone->bi_private;
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	pb->source_status = clone->bi_status;
	bio_put(clone);
	im_leg_done(bio);
}

static void im_dest_end_io(struct bio *clone)
{
	struct bio *bio = clone->bi_private;
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	pb->dest_status = clone->bi_status;
	bio_put(clone);
	im_leg_done(bio);
}

static struct bio *im_clone(struct bio *bio, struct block_device *bdev,
			    struct bio_set *bs, bio_end_io_t *end_io)
{
	struct bio *clone = bio_alloc_clone(bdev, bio, GFP_NOIO, bs);

	clone->bi_opf = bio_op(bio) | (bio->bi_opf & IM_PASS_FLAGS);
	clone->bi_private = bio;
	clone->bi_end_io = end_io;
	return clone;
}

/*
 * Send a write to the source and, unless the destination cannot take it,
 * to the destination.
 */
void im_issue_write(struct incmirror *mc, struct bio *bio)
{
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct bio *src, *dst = NULL;

	pb->source_status = BLK_STS_OK;
	pb->dest_status = BLK_STS_OK;
	src = im_clone(bio, mc->source->bdev, &mc->bs_source,
		       im_source_end_io);
	if (im_dest_takes(mc, bio_op(bio))) {
		dst = im_clone(bio, mc->dest->bdev, &mc->bs_dest,
			       im_dest_end_io);
		pb->flags |= IM_BIO_TO_DEST;
		atomic_set(&pb->legs, 2);
	} else {
		/* The destination misses this write: recopy the region. */
		pb->flags |= IM_BIO_MARK_DIRTY;
		atomic_set(&pb->legs, 1);
	}
	submit_bio_noacct(src);
	if (dst)
		submit_bio_noacct(dst);
}

/*
 * Writes that waited for their metadata bits (dm-incmirror-metadata.c) go
 * on from here. Process context (the metadata work item).
 */
void im_release_writes(struct incmirror *mc, struct bio_list *bios)
{
	struct im_bio *pb;
	struct bio *bio;
	bool parked;

	while ((bio = bio_list_pop(bios))) {
		pb = dm_per_bio_data(bio, sizeof(*pb));
		spin_lock_irq(&mc->lock);
		parked = im_region_write_release_locked(mc, bio, pb);
		spin_unlock_irq(&mc->lock);
		if (!parked)
			im_issue_write(mc, bio);
	}
}

/*
 * Admission of a write spanning more than IM_LOCK_CHUNK regions (a large
 * discard or write-zeroes): rules 4 to 7 a chunk of regions per hold of
 * the lock. Process context (the map function, which may sleep: see the
 * GFP_NOIO allocation below). The write is on incmirror.spanning from the
 * first hold on, so verify keeps away from all of its regions; a metadata
 * clear pass between two holds may clear a bit of a chunk not reached yet,
 * which that chunk then sets again before the write is issued.
 */
static enum im_admit im_spanning_write_begin(struct incmirror *mc,
					     struct bio *bio,
					     struct im_bio *pb)
{
	enum im_admit admit;
	bool wait_md = false;
	u64 first, end;

	spin_lock_irq(&mc->lock);
	mc->last_write = jiffies;
	im_region_spanning_add_locked(mc, pb);
	for (first = pb->first;; first = end + 1) {
		end = min(pb->last, first + IM_LOCK_CHUNK - 1);
		wait_md |= im_region_spanning_mark_locked(mc, first, end);
		if (end == pb->last)
			break;
		spin_unlock_irq(&mc->lock);
		cond_resched();
		spin_lock_irq(&mc->lock);
	}
	admit = im_region_spanning_admit_locked(mc, bio, pb, wait_md);
	spin_unlock_irq(&mc->lock);
	return admit;
}

int im_map_write(struct incmirror *mc, struct bio *bio, struct im_bio *pb)
{
	struct block_device *src = mc->source->bdev;
	struct im_region *spare = NULL;
	enum im_admit admit;
	unsigned long flags;

	/*
	 * The device accepts discards when either leg does: one the source
	 * cannot take is refused as such.
	 */
	if ((bio_op(bio) == REQ_OP_DISCARD && !bdev_max_discard_sectors(src)) ||
	    (bio_op(bio) == REQ_OP_WRITE_ZEROES &&
	     !bdev_write_zeroes_sectors(src))) {
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}

	/* What a discard leaves behind is up to each device: rule 4. */
	if (bio_op(bio) == REQ_OP_DISCARD || pb->first != pb->last) {
		if (pb->last - pb->first >= IM_LOCK_CHUNK) {
			admit = im_spanning_write_begin(mc, bio, pb);
		} else {
			spin_lock_irqsave(&mc->lock, flags);
			mc->last_write = jiffies;
			admit = im_region_spanning_write_begin_locked(mc, bio,
								      pb);
			spin_unlock_irqrestore(&mc->lock, flags);
		}
		if (admit == IM_ADMIT_ISSUE)
			im_issue_write(mc, bio);
		return DM_MAPIO_SUBMITTED;
	}

	/*
	 * The entry is allocated before taking the lock (usually from the
	 * slab, without waiting); it is freed again if the region has one.
	 */
	spare = im_region_alloc(mc, GFP_NOIO);

	spin_lock_irqsave(&mc->lock, flags);
	mc->last_write = jiffies;
	admit = im_region_write_begin_locked(mc, bio, pb, &spare);
	spin_unlock_irqrestore(&mc->lock, flags);

	im_region_free(mc, spare);
	if (admit == IM_ADMIT_ISSUE)
		im_issue_write(mc, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * Number 0 of the flush bios is the source's, number 1 the destination's.
 * A destination flush sent covers the writes completed before it
 * (dm-incmirror-unflushed.h); one completed unsent while degraded covers
 * nothing.
 */
int im_map_flush(struct incmirror *mc, struct bio *bio, struct im_bio *pb)
{
	unsigned long flags;

	if (dm_bio_get_target_bio_nr(bio) == 0) {
		bio_set_dev(bio, mc->source->bdev);
		return DM_MAPIO_REMAPPED;
	}
	spin_lock_irqsave(&mc->lock, flags);
	if (mc->degraded) {
		spin_unlock_irqrestore(&mc->lock, flags);
		/* The destination is not written any more. */
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	im_unflushed_flush_issue_locked(mc);
	spin_unlock_irqrestore(&mc->lock, flags);
	pb->flags |= IM_BIO_DEST_FLUSH;
	bio_set_dev(bio, mc->dest->bdev);
	return DM_MAPIO_REMAPPED;
}

/*
 * A completion whose regions are too many to mark in one hold of the lock
 * (IM_LOCK_CHUNK): im_mark_work() marks them and ends the bio with
 * @status, and the end_io returns DM_ENDIO_INCOMPLETE meanwhile. Lock
 * held, any context.
 */
static void im_mark_later_locked(struct incmirror *mc, struct bio *bio,
				 blk_status_t status)
{
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	bio->bi_status = status;
	pb->flags |= IM_BIO_MARK_LATER;
	bio_list_add(&mc->mark_bios, bio);
	mc->marks_pending++;
	queue_work(mc->wq, &mc->mark_work);
}

/*
 * Process context (the target's workqueue): mark the regions of the
 * completions im_mark_later_locked() handed over, a chunk per hold of the
 * lock, then end them: the end_io, called again, returns DM_ENDIO_DONE.
 * A flush is for the whole map; a spanning write for its regions, and it
 * stays on incmirror.spanning (rule 5) until they are marked.
 */
void im_mark_work(struct work_struct *ws)
{
	struct incmirror *mc = container_of(ws, struct incmirror, mark_work);
	struct im_region *to_free;
	struct bio_list bios;
	struct im_bio *pb;
	struct bio *bio;
	bool kick;

	spin_lock_irq(&mc->lock);
	bios = mc->mark_bios;
	bio_list_init(&mc->mark_bios);
	spin_unlock_irq(&mc->lock);

	while ((bio = bio_list_pop(&bios))) {
		pb = dm_per_bio_data(bio, sizeof(*pb));
		if (pb->flags & IM_BIO_FLUSH)
			im_mark_dirty_range(mc, 0, mc->nr_regions - 1);
		else
			im_mark_dirty_range(mc, pb->first, pb->last);

		spin_lock_irq(&mc->lock);
		if (!(pb->flags & IM_BIO_FLUSH)) {
			/* Marked: only leaving incmirror.spanning is left. */
			pb->flags &= ~(IM_BIO_DEST_FAILED | IM_BIO_MARK_DIRTY);
			to_free = NULL;
			im_region_write_end_locked(mc, pb, &to_free);
		}
		mc->marks_pending--;
		kick = im_copier_may_run_locked(mc);
		im_check_synced_locked(mc);
		spin_unlock_irq(&mc->lock);

		if (kick)
			im_copier_kick(mc);
		/* Last: the target may be suspended and freed after this. */
		bio_endio(bio);
	}
}

/*
 * A leg's flush failed. Which earlier completed writes that leg really
 * holds is unknown now, so the legs may differ anywhere: copy every region
 * again. The caller's flush completes once every region is marked: at
 * once for a map of up to IM_LOCK_CHUNK regions, else after
 * im_mark_work(). A failed destination flush does not fail the caller.
 * Any context (end_io).
 */
static int im_flush_failed(struct incmirror *mc, struct bio *bio, bool dest,
			   blk_status_t *error)
{
	unsigned long flags;
	bool kick;

	DMERR_LIMIT("%s: %s flush failed, marking all regions dirty",
		    dm_device_name(dm_table_get_md(mc->ti->table)),
		    dest ? "destination" : "source");
	if (dest)
		*error = BLK_STS_OK;

	spin_lock_irqsave(&mc->lock, flags);
	if (dest)
		im_dest_error_locked(mc);
	if (mc->nr_regions > IM_LOCK_CHUNK) {
		im_mark_later_locked(mc, bio, *error);
		spin_unlock_irqrestore(&mc->lock, flags);
		return DM_ENDIO_INCOMPLETE;
	}
	im_mark_dirty_locked(mc, 0, mc->nr_regions - 1);
	kick = im_copier_may_run_locked(mc);
	spin_unlock_irqrestore(&mc->lock, flags);

	if (kick)
		im_copier_kick(mc);
	return DM_ENDIO_DONE;
}

/* dm core's end_io for every write and flush bio (may be interrupt context). */
int im_write_end_io(struct incmirror *mc, struct bio *bio, blk_status_t *error)
{
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct im_region *to_free = NULL;
	unsigned long flags;
	bool kick;

	/* Called again by im_mark_work(): everything is done. */
	if (pb->flags & IM_BIO_MARK_LATER)
		return DM_ENDIO_DONE;

	if (pb->flags & IM_BIO_DEST_FLUSH) {
		spin_lock_irqsave(&mc->lock, flags);
		im_unflushed_flush_end_locked(mc, !*error);
		spin_unlock_irqrestore(&mc->lock, flags);
	}
	if (pb->flags & IM_BIO_FLUSH) {
		if (!*error)
			return DM_ENDIO_DONE;
		return im_flush_failed(mc, bio,
				       dm_bio_get_target_bio_nr(bio) == 1, error);
	}

	/* In the destination's cache now, until a flush covers it. */
	if ((pb->flags & (IM_BIO_TO_DEST | IM_BIO_DEST_FAILED)) ==
	    IM_BIO_TO_DEST)
		im_unflushed_note(mc, pb->first, pb->last);

	if (!pb->node && !(pb->flags & ~IM_BIO_TO_DEST))
		return DM_ENDIO_DONE;

	if (pb->flags & IM_BIO_DEST_FAILED)
		DMERR_LIMIT("%s: destination write failed, region %llu dirty",
			    dm_device_name(dm_table_get_md(mc->ti->table)),
			    pb->first);

	spin_lock_irqsave(&mc->lock, flags);
	if (pb->flags & IM_BIO_DEST_FAILED)
		im_dest_error_locked(mc);
	/* A large discard or write-zeroes: its regions are marked later. */
	if ((pb->flags & (IM_BIO_DEST_FAILED | IM_BIO_MARK_DIRTY)) &&
	    !pb->node && pb->last - pb->first >= IM_LOCK_CHUNK) {
		im_mark_later_locked(mc, bio, *error);
		spin_unlock_irqrestore(&mc->lock, flags);
		return DM_ENDIO_INCOMPLETE;
	}
	kick = im_region_write_end_locked(mc, pb, &to_free) &&
		im_copier_may_run_locked(mc);
	spin_unlock_irqrestore(&mc->lock, flags);

	im_region_free(mc, to_free);
	if (kick)
		im_copier_kick(mc);
	return DM_ENDIO_DONE;
}
