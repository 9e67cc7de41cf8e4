// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: online verify.
 *
 * `verify [repair] [<first_region> <count>]` compares, region by region,
 * every region of the window that is in sync (clean in the map) on the
 * source and on the destination. A delayed work item on the target's
 * workqueue does it one region at a time:
 *
 * - It claims the region through the region state machine
 *   (dm-incmirror-region.c, rule 5): only a clean region without I/O in
 *   flight (discards and writes spanning regions included) is compared,
 *   and writes arriving meanwhile are parked until the comparison ends, so
 *   a write in progress is never seen as a mismatch. A region that keeps
 *   having writes in flight is retried for about a second and then skipped
 *   (counted in `skipped`, logged at the end).
 * - Its entry comes from the pool that parked writes hold too, and those
 *   are only issued by work items on the same workqueue (the copier's, to
 *   which the end of a comparison hands them): it never waits for the pool
 *   (GFP_NOWAIT) and tries again IM_VERIFY_YIELD later, like the copier.
 * - It reads both legs in chunks of IM_VERIFY_CHUNK_SECTORS into buffers
 *   of its own and compares them. A region that differs, or that cannot be
 *   read, is a mismatch; with `repair` it is marked dirty before the entry
 *   is released, so the copier copies it (when the run state is copying).
 * - Pacing is the copier's: the max_copy_rate bucket is shared, and while
 *   foreground writes were mapped in the last 100 ms the verify compares
 *   at most one region per IM_VERIFY_YIELD (10 ms).
 * - It stops at suspend (presuspend waits for the region under way) and
 *   goes on at resume; it ends (`done`) at the end of the window, at
 *   `verify_stop`, or when the target is degraded (the destination is no
 *   longer written, so comparing means nothing). The end raises a table
 *   event. A table reload does not carry a verify over.
 *
 * The counters and the window are protected by incmirror.lock; the
 * buffers belong to the work item.
 */
#include <linux/dm-io.h>
#include <linux/jiffies.h>
#include <linux/vmalloc.h>

#include "dm-incmirror.h"
#include "dm-incmirror-compat.h"

#define IM_VERIFY_CHUNK_SECTORS	2048	/* 1 MiB per read */
#define IM_VERIFY_YIELD		max_t(unsigned long, HZ / 100, 1)
#define IM_VERIFY_BUSY_TRIES	100	/* retries of a busy region, 1 jiffy apart */
#define IM_VERIFY_BATCH		64	/* regions per run of the work item */
#define IM_YIELD_WINDOW		(HZ / 10)

static int im_verify_read(struct incmirror *mc, struct block_device *bdev,
			  sector_t sector, sector_t count, void *buf)
{
	struct dm_io_region where = {
		.bdev = bdev,
		.sector = sector,
		.count = count,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.mem.type = DM_IO_VMA,
		.mem.ptr.vma = buf,
		.client = mc->io_client,
	};
	unsigned long error_bits = 0;
	int r;

	r = im_dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
	if (!r && error_bits)
		r = -EIO;
	return r;
}

/* Whether the legs differ in @region (or cannot be read). */
static bool im_verify_region_differs(struct incmirror *mc, u64 region)
{
	struct im_verify *v = &mc->verify;
	sector_t start = im_region_start(mc, region);
	sector_t len = im_region_len(mc, region);
	sector_t done, n;

	for (done = 0; done < len; done += n) {
		n = min_t(sector_t, len - done, IM_VERIFY_CHUNK_SECTORS);
		if (im_verify_read(mc, mc->source->bdev, start + done, n,
				   v->buf[0]) ||
		    im_verify_read(mc, mc->dest->bdev, start + done, n,
				   v->buf[1])) {
			DMERR_LIMIT("%s: verify: reading region %llu failed",
				    dm_device_name(dm_table_get_md(mc->ti->table)),
				    region);
			return true;
		}
		if (memcmp(v->buf[0], v->buf[1], n << SECTOR_SHIFT))
			return true;
		cond_resched();
	}
	return false;
}

/* With the lock held: end the verify and say so. */
static void im_verify_finish_locked(struct incmirror *mc)
{
	struct im_verify *v = &mc->verify;

	v->state = IM_VERIFY_DONE;
	DMINFO("%s: verify %s: %llu regions compared, %llu differed, %llu skipped (busy)",
	       dm_device_name(dm_table_get_md(mc->ti->table)),
	       v->stop ? "stopped" : "done", v->verified, v->mismatches,
	       v->skipped);
	queue_work(mc->wq, &mc->event_work);
}

enum im_verify_step {
	IM_VSTEP_COMPARE,	/* a region was claimed */
	IM_VSTEP_SCANNED,	/* no region in this part of the window */
	IM_VSTEP_LATER,		/* try again after a delay */
	IM_VSTEP_STOP,		/* finished, stopped or suspended */
};

/*
 * On IM_VSTEP_COMPARE, *spare became the entry of the claimed region:
 * returned in *claimed (and *spare is NULL).
 */
static enum im_verify_step im_verify_claim_locked(struct incmirror *mc,
						  struct im_region **spare,
						  struct im_region **claimed,
						  u64 *region,
						  unsigned long *delay)
{
	struct im_verify *v = &mc->verify;
	u64 r, end;

	if (v->state != IM_VERIFY_RUNNING)
		return IM_VSTEP_STOP;
	/* Ending needs no I/O: also while suspended. */
	if (v->stop || v->next >= v->end || mc->degraded) {
		im_verify_finish_locked(mc);
		return IM_VSTEP_STOP;
	}
	if (mc->suspending)
		return IM_VSTEP_STOP;
	end = min(v->end, v->next + (1ULL << 16));
	r = region_map_find_next_clean(mc->map, v->next, end);
	if (r >= end) {
		v->next = end;
		return IM_VSTEP_SCANNED;
	}
	v->next = r;
	if (!im_region_verifiable_locked(mc, r)) {
		/* Writes (the region is clean: not a copy) are in flight. */
		if (++v->busy_tries <= IM_VERIFY_BUSY_TRIES) {
			*delay = 1;
			return IM_VSTEP_LATER;
		}
		v->busy_tries = 0;
		v->skipped++;
		v->next = r + 1;
		return IM_VSTEP_SCANNED;
	}
	*delay = im_copier_take_tokens_locked(mc, im_region_len(mc, r));
	if (*delay)
		return IM_VSTEP_LATER;

	v->busy_tries = 0;
	im_region_verify_begin_locked(mc, *spare, r);
	*claimed = *spare;
	*spare = NULL;
	*region = r;
	return IM_VSTEP_COMPARE;
}

static void im_verify_work(struct work_struct *ws)
{
	struct im_verify *v = container_of(to_delayed_work(ws),
					   struct im_verify, work);
	struct incmirror *mc = container_of(v, struct incmirror, verify);
	struct im_region *spare = NULL, *node = NULL, *to_free;
	enum im_verify_step step = IM_VSTEP_SCANNED;
	unsigned long delay = 0;
	unsigned int batch;
	bool differs;
	u64 r = 0;

	for (batch = 0; batch < IM_VERIFY_BATCH; batch++) {
		/*
		 * Never wait for the pool: its entries may all be held by
		 * writes parked behind a copy or this verify, which only work
		 * items of mc->wq issue, and under memory pressure this work
		 * item may be what the workqueue's rescuer runs. Retry later.
		 */
		if (!spare)
			spare = im_region_alloc(mc, GFP_NOWAIT);
		if (!spare) {
			delay = IM_VERIFY_YIELD;
			break;
		}

		spin_lock_irq(&mc->lock);
		step = im_verify_claim_locked(mc, &spare, &node, &r, &delay);
		spin_unlock_irq(&mc->lock);

		if (step == IM_VSTEP_STOP || step == IM_VSTEP_LATER)
			break;
		if (step == IM_VSTEP_SCANNED) {
			cond_resched();
			continue;
		}

		differs = im_verify_region_differs(mc, r);

		to_free = NULL;
		spin_lock_irq(&mc->lock);
		v->verified++;
		if (differs)
			v->mismatches++;
		im_region_verify_end_locked(mc, node, differs && v->repair,
					    &to_free);
		v->next = r + 1;
		spin_unlock_irq(&mc->lock);

		im_region_free(mc, to_free);
		/* Issues writes parked meanwhile; copies a repaired region. */
		im_copier_kick(mc);
		if (time_before(jiffies,
				READ_ONCE(mc->last_write) + IM_YIELD_WINDOW)) {
			/* Foreground writes: one region per IM_VERIFY_YIELD. */
			delay = IM_VERIFY_YIELD;
			break;
		}
		cond_resched();
	}

	im_region_free(mc, spare);
	if (step == IM_VSTEP_STOP)
		return;
	queue_delayed_work(mc->wq, &v->work, delay);
}

void im_verify_init(struct incmirror *mc)
{
	INIT_DELAYED_WORK(&mc->verify.work, im_verify_work);
}

void im_verify_exit(struct incmirror *mc)
{
	struct im_verify *v = &mc->verify;

	cancel_delayed_work_sync(&v->work);
	vfree(v->buf[0]);
	vfree(v->buf[1]);
}

/* Message context (msg_mutex held). */
int im_verify_start(struct incmirror *mc, bool repair, u64 first, u64 count)
{
	struct im_verify *v = &mc->verify;
	int i;

	for (i = 0; i < 2; i++) {
		if (!v->buf[i])
			v->buf[i] = vmalloc(IM_VERIFY_CHUNK_SECTORS << SECTOR_SHIFT);
		if (!v->buf[i])
			return -ENOMEM;
	}

	spin_lock_irq(&mc->lock);
	if (v->state == IM_VERIFY_RUNNING) {
		spin_unlock_irq(&mc->lock);
		return -EBUSY;
	}
	v->state = IM_VERIFY_RUNNING;
	v->repair = repair;
	v->stop = false;
	v->next = first;
	v->end = first + count;
	v->busy_tries = 0;
	v->verified = 0;
	v->mismatches = 0;
	v->skipped = 0;
	spin_unlock_irq(&mc->lock);

	mod_delayed_work(mc->wq, &v->work, 0);
	return 0;
}

/* Returns false if no verify was running. */
bool im_verify_stop(struct incmirror *mc)
{
	struct im_verify *v = &mc->verify;
	bool running;

	spin_lock_irq(&mc->lock);
	running = v->state == IM_VERIFY_RUNNING;
	if (running)
		v->stop = true;
	spin_unlock_irq(&mc->lock);

	if (running)
		mod_delayed_work(mc->wq, &v->work, 0);
	return running;
}

/*
 * presuspend, after incmirror.suspending is set: waits for the region under
 * way; the work item then stops at its next claim.
 */
void im_verify_suspend(struct incmirror *mc)
{
	cancel_delayed_work_sync(&mc->verify.work);
}

void im_verify_resume(struct incmirror *mc)
{
	bool running;

	spin_lock_irq(&mc->lock);
	running = mc->verify.state == IM_VERIFY_RUNNING;
	spin_unlock_irq(&mc->lock);
	if (running)
		mod_delayed_work(mc->wq, &mc->verify.work, 0);
}
