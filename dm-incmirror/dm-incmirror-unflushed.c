// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: what the destination may hold only in its volatile cache
 * (see dm-incmirror-unflushed.h for the rules and the locking).
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dm-incmirror.h"

static void im_unflushed_work(struct work_struct *ws);

/* Process context (ctr). */
int im_unflushed_init(struct incmirror *mc)
{
	struct im_unflushed *uf = &mc->unflushed;

	INIT_WORK(&uf->work, im_unflushed_work);
	uf->work_ready = true;

	uf->shift = 0;
	while (DIV_ROUND_UP_ULL(mc->nr_regions, 1ULL << uf->shift) >
	       IM_UNFLUSHED_BITS)
		uf->shift++;
	uf->nr_chunks = DIV_ROUND_UP_ULL(mc->nr_regions, 1ULL << uf->shift);
	uf->noted = bitmap_zalloc(uf->nr_chunks, GFP_KERNEL);
	uf->flushing = bitmap_zalloc(uf->nr_chunks, GFP_KERNEL);
	if (!uf->noted || !uf->flushing) {
		im_unflushed_exit(mc);
		return -ENOMEM;
	}
	return 0;
}

void im_unflushed_exit(struct incmirror *mc)
{
	bitmap_free(mc->unflushed.noted);
	bitmap_free(mc->unflushed.flushing);
	mc->unflushed.noted = NULL;
	mc->unflushed.flushing = NULL;
}

/*
 * Regions [first, last] may have reached the destination's cache. Any
 * context, with or without incmirror.lock.
 */
void im_unflushed_note(struct incmirror *mc, u64 first, u64 last)
{
	struct im_unflushed *uf = &mc->unflushed;
	u64 c;

	for (c = first >> uf->shift; c <= last >> uf->shift; c++)
		if (!test_bit(c, uf->noted))
			set_bit(c, uf->noted);
}

/* A destination flush is about to be issued. */
void im_unflushed_flush_issue_locked(struct incmirror *mc)
{
	struct im_unflushed *uf = &mc->unflushed;
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(uf->nr_chunks); i++)
		if (READ_ONCE(uf->noted[i]))
			uf->flushing[i] |= xchg(&uf->noted[i], 0);
	uf->flushes++;
}

/*
 * A destination flush issued with im_unflushed_flush_issue_locked() ended.
 * A failed one leaves the set as it is: whoever saw the failure marks the
 * regions dirty.
 */
void im_unflushed_flush_end_locked(struct incmirror *mc, bool ok)
{
	struct im_unflushed *uf = &mc->unflushed;

	if (!ok)
		uf->failed = true;
	if (--uf->flushes)
		return;
	if (!uf->failed)
		bitmap_zero(uf->flushing, uf->nr_chunks);
	uf->failed = false;
}

/*
 * Mark every region of the set dirty: the destination may have lost it.
 * The set itself stays until a flush covers it. Process context; takes
 * incmirror.lock once per chunk.
 */
void im_unflushed_redirty(struct incmirror *mc)
{
	struct im_unflushed *uf = &mc->unflushed;
	u64 first, last, n = 0;
	unsigned int c;

	for (c = 0; c < uf->nr_chunks; c++) {
		spin_lock_irq(&mc->lock);
		if (test_bit(c, uf->noted) || test_bit(c, uf->flushing)) {
			first = (u64)c << uf->shift;
			last = min(first + (1ULL << uf->shift), mc->nr_regions) - 1;
			im_mark_dirty_locked(mc, first, last);
			n++;
		}
		spin_unlock_irq(&mc->lock);
		if (!(c % 256))
			cond_resched();
	}
	if (n)
		DMINFO("%s: destination writes since its last flush may be lost: %llu chunk(s) of %llu region(s) marked dirty",
		       dm_device_name(dm_table_get_md(mc->ti->table)), n,
		       1ULL << uf->shift);
}

/*
 * After a destination error (incmirror.lock held, any context): the
 * destination may have lost its cache. Marking the set may take a while,
 * so it is done by a work item; meanwhile im_unflushed_pending_locked().
 */
void im_unflushed_redirty_later_locked(struct incmirror *mc)
{
	mc->unflushed.redirty_asked++;
	queue_work(mc->wq, &mc->unflushed.work);
}

/* A redirty asked for after an error has not been done yet. */
bool im_unflushed_pending_locked(struct incmirror *mc)
{
	return mc->unflushed.redirty_done != mc->unflushed.redirty_asked;
}

static void im_unflushed_work(struct work_struct *ws)
{
	struct incmirror *mc = container_of(ws, struct incmirror,
					    unflushed.work);
	struct im_unflushed *uf = &mc->unflushed;
	bool kick;
	u64 asked;

	spin_lock_irq(&mc->lock);
	asked = uf->redirty_asked;
	spin_unlock_irq(&mc->lock);

	im_unflushed_redirty(mc);

	spin_lock_irq(&mc->lock);
	/* Requests that came in meanwhile queued the work again. */
	uf->redirty_done = asked;
	kick = im_copier_may_run_locked(mc);
	im_check_synced_locked(mc);
	spin_unlock_irq(&mc->lock);
	if (kick)
		im_copier_kick(mc);
}

/* Wait for a redirty in flight (postsuspend), or cancel it (dtr). */
void im_unflushed_stop(struct incmirror *mc)
{
	if (mc->unflushed.work_ready)
		flush_work(&mc->unflushed.work);
}

/*
 * Hand-over (dm-incmirror-handover.c): what the suspended predecessor @old
 * had not seen flushed stays unflushed here, mapped by sectors onto this
 * table's chunks. @mc is not live yet; @old is suspended, so neither
 * changes its set now.
 */
void im_unflushed_take(struct incmirror *mc, struct incmirror *old)
{
	struct im_unflushed *ouf = &old->unflushed;
	sector_t start, end, ochunk;
	unsigned int c;

	ochunk = old->region_sectors << ouf->shift;
	for (c = 0; c < ouf->nr_chunks; c++) {
		if (!test_bit(c, ouf->noted) && !test_bit(c, ouf->flushing))
			continue;
		start = (sector_t)c * ochunk;
		end = min_t(sector_t, start + ochunk, mc->ti->len);
		if (start >= end)
			continue;
		im_unflushed_note(mc, start >> mc->region_shift,
				  (end - 1) >> mc->region_shift);
	}
}
