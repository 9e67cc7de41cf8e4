// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: background copier.
 *
 * A delayed work item on the target's workqueue claims dirty regions and
 * copies them source -> destination, up to copy_depth jobs at a time. A job is a run of adjacent dirty regions (at most
 * IM_COPY_JOB_REGIONS regions and IM_COPY_JOB_SECTORS, or one region), so
 * small regions still make large I/O. Which regions may be claimed, and
 * what the end of a copy does to their bits and to the writes parked on
 * them, is decided by the region state machine (dm-incmirror-region.c). A
 * region with writes in flight is skipped and found again on a later pass:
 * the end of the write kicks the worker.
 *
 * Pacing:
 * - max_copy_rate is a token bucket in sectors, refilled from the
 *   monotonic clock, holding at most 100 ms worth of tokens. A copy may start
 *   while the bucket is positive and takes the whole region out of it, so the
 *   bucket may go negative and the long-run rate is exact.
 * - Foreground writes win: while a write was mapped in the last 100 ms only
 *   one copy job is kept in flight instead of copy_depth.
 * - After a failed copy no copy starts for one second, so an unreadable
 *   source region or a sick destination is not hammered.
 */
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "dm-incmirror.h"

/* Regions scanned per hold of incmirror.lock when looking for work. */
#define IM_SCAN_WINDOW		(1ULL << 20)
#define IM_YIELD_JIFFIES	(HZ / 10)
#define IM_ERROR_BACKOFF	HZ

enum im_claim {
	IM_CLAIM_STARTED,	/* a copy job was claimed */
	IM_CLAIM_AGAIN,		/* scanned a window without success */
	IM_CLAIM_NONE,		/* nothing to start now */
};

void im_copier_kick(struct incmirror *mc)
{
	mod_delayed_work(mc->wq, &mc->copier.work, 0);
}

static void im_rate_roll_locked(struct im_copier *cp)
{
	unsigned long elapsed = jiffies - cp->win_start;

	if (elapsed < HZ)
		return;
	cp->last_rate = div64_u64(cp->win_sectors * HZ, (u64)elapsed * 2);
	cp->win_sectors = 0;
	cp->win_start = jiffies;
}

unsigned int im_copier_rate_locked(struct incmirror *mc)
{
	im_rate_roll_locked(&mc->copier);
	return mc->copier.last_rate;
}

void im_copier_rate_changed_locked(struct incmirror *mc)
{
	mc->copier.tokens = 0;
	mc->copier.tokens_stamp = ktime_get_ns();
}

/* Returns the delay in jiffies before a copy may start, 0 if it may now. */
static unsigned long im_rate_delay_locked(struct incmirror *mc)
{
	struct im_copier *cp = &mc->copier;
	u64 rate = (u64)mc->max_copy_rate * 2;	/* sectors per second */
	u64 now = ktime_get_ns();
	u64 dt, add;
	s64 cap;

	if (!rate)
		return 0;

	dt = now - cp->tokens_stamp;
	if (dt > NSEC_PER_SEC) {
		dt = NSEC_PER_SEC;
		cp->tokens_stamp = now - dt;
	}
	add = div64_u64(rate * dt, NSEC_PER_SEC);
	/* Advance by the time the tokens stand for: keep the fraction. */
	cp->tokens_stamp += div64_u64(add * NSEC_PER_SEC, rate);
	cp->tokens += add;
	cap = max_t(s64, rate / 10, 1);
	if (cp->tokens > cap)
		cp->tokens = cap;

	if (cp->tokens > 0)
		return 0;
	return clamp_t(u64, div64_u64((u64)(1 - cp->tokens) * HZ + rate - 1,
				      rate), 1, HZ);
}

/*
 * Other background readers of the legs (verify) pace themselves with the
 * copier's bucket: returns the delay before @sectors may be read, or 0 and
 * takes them.
 */
unsigned long im_copier_take_tokens_locked(struct incmirror *mc,
					   sector_t sectors)
{
	unsigned long delay = im_rate_delay_locked(mc);

	if (!delay && mc->max_copy_rate)
		mc->copier.tokens -= sectors;
	return delay;
}

/* Active entries allocated before taking the lock, for one job. */
struct im_spares {
	struct im_region *node[IM_COPY_JOB_REGIONS];
	unsigned int nr;
};

static bool im_in_split_locked(struct im_copier *cp, u64 r)
{
	unsigned int i;

	for (i = 0; i < IM_SPLIT_WINDOWS; i++)
		if (r >= cp->split[i].first && r < cp->split[i].end)
			return true;
	return false;
}

/*
 * Remember the regions of a failed job. A window that touches an existing
 * one is merged into it, so neighbouring failed jobs never push each other
 * out; otherwise the oldest window makes room.
 */
static void im_split_add_locked(struct im_copier *cp, u64 first, u64 end)
{
	struct im_split *w;
	unsigned int i;

	for (i = 0; i < IM_SPLIT_WINDOWS; i++) {
		w = &cp->split[i];
		if (w->first < w->end && first <= w->end && end >= w->first) {
			w->first = min(w->first, first);
			w->end = max(w->end, end);
			return;
		}
	}
	w = &cp->split[cp->split_next++ % IM_SPLIT_WINDOWS];
	w->first = first;
	w->end = end;
}

/*
 * How many adjacent, claimable dirty regions from @r one job takes. The
 * regions of jobs that failed are copied one by one, so that one
 * unreadable region does not keep its readable neighbours from being
 * copied.
 */
static unsigned int im_run_locked(struct incmirror *mc, u64 r,
				  unsigned int max_nr)
{
	struct im_copier *cp = &mc->copier;
	sector_t len = im_region_len(mc, r);
	unsigned int n = 1;

	if (im_in_split_locked(cp, r))
		return 1;
	while (n < max_nr && r + n < mc->nr_regions &&
	       !im_in_split_locked(cp, r + n) &&
	       len + im_region_len(mc, r + n) <= IM_COPY_JOB_SECTORS &&
	       im_region_claimable_locked(mc, r + n)) {
		len += im_region_len(mc, r + n);
		n++;
	}
	return n;
}

static enum im_claim im_claim_locked(struct incmirror *mc,
				     struct im_spares *spares,
				     struct im_copy_job **jobp,
				     unsigned long *delay, u64 *scanned)
{
	struct im_copier *cp = &mc->copier;
	struct im_region *node;
	struct im_copy_job *job;
	unsigned int depth, n, i;
	u64 r, end, start;

	/*
	 * Every copy in flight holds a dirty bit of its own: when there are no
	 * more dirty bits than copies, there is nothing left to claim.
	 */
	if (!im_copier_may_run_locked(mc) ||
	    region_map_count_dirty(mc->map) <= cp->in_flight)
		return IM_CLAIM_NONE;

	depth = time_before(jiffies, mc->last_write + IM_YIELD_JIFFIES) ?
		1 : mc->copy_depth;
	/* Copies in flight kick the worker when they end. */
	if (cp->jobs_in_flight >= depth)
		return IM_CLAIM_NONE;

	if (time_before(jiffies, cp->backoff_until)) {
		*delay = cp->backoff_until - jiffies;
		return IM_CLAIM_NONE;
	}

	*delay = im_rate_delay_locked(mc);
	if (*delay)
		return IM_CLAIM_NONE;

	/* Whole map seen in this run: the rest is busy with writes. */
	if (*scanned >= mc->nr_regions)
		return IM_CLAIM_NONE;

	if (cp->cursor >= mc->nr_regions)
		cp->cursor = 0;
	start = cp->cursor;
	end = min(start + IM_SCAN_WINDOW, mc->nr_regions);
	r = region_map_find_next_dirty(mc->map, start, end);
	while (r < end && im_region_find_locked(mc, r))
		r = region_map_find_next_dirty(mc->map, r + 1, end);
	if (r >= end) {
		*scanned += end - start;
		cp->cursor = end;
		return IM_CLAIM_AGAIN;
	}
	n = im_run_locked(mc, r, spares->nr);
	*scanned += r + n - start;
	cp->cursor = r + n;

	job = list_first_entry(&cp->free_jobs, struct im_copy_job, list);
	list_del(&job->list);
	job->region = r;
	job->nr = n;
	job->len = 0;
	job->may_skip = 0;
	for (i = 0; i < n; i++) {
		node = spares->node[--spares->nr];
		im_region_copy_begin_locked(mc, node, r + i);
		job->nodes[i] = node;
		job->len += im_region_len(mc, r + i);
		if (im_dest_untouched_locked(mc, r + i))
			job->may_skip |= BIT(i);
	}
	cp->jobs_in_flight++;
	cp->in_flight += n;
	if (mc->max_copy_rate)
		cp->tokens -= job->len;

	*jobp = job;
	return IM_CLAIM_STARTED;
}

/*
 * The end of a job, from a bio completion (any context, hence irqsave) or
 * from the chunk worker. Everything, the wake-up of a presuspend waiting
 * for the copier to drain included, is done before dropping the lock: once
 * the lock is dropped, dtr may free the job.
 */
static void im_copy_done(struct im_copy_job *job)
{
	struct incmirror *mc = job->mc;
	struct im_copier *cp = &mc->copier;
	bool failed = job->read_err || job->write_err || job->wz_refused;
	/* Only a write-zeroes refused: copied again as data at once. */
	bool refused = failed && !job->read_err && !job->write_err;
	struct im_region *to_free;
	unsigned long flags;
	unsigned int i;

	if (failed && !refused)
		DMERR_LIMIT("%s: copying regions %llu-%llu failed (%s)",
			    dm_device_name(dm_table_get_md(mc->ti->table)),
			    job->region, job->region + job->nr - 1,
			    job->read_err ? "source read" : "destination write");

	spin_lock_irqsave(&mc->lock, flags);
	cp->jobs_in_flight--;
	cp->in_flight -= job->nr;
	if (refused) {
		/* The bits are still set: the regions are copied again. */
		if (!cp->no_write_zeroes)
			DMWARN("%s: destination refuses write-zeroes: zeroes are copied as data",
			       dm_device_name(dm_table_get_md(mc->ti->table)));
		WRITE_ONCE(cp->no_write_zeroes, true);
	} else if (failed) {
		/* The bits are still set: the regions are copied again later. */
		cp->copy_errors++;
		cp->backoff_until = jiffies + IM_ERROR_BACKOFF;
		if (job->nr > 1)
			im_split_add_locked(cp, job->region,
					    job->region + job->nr);
		if (job->write_err)
			im_dest_error_locked(mc);
	} else {
		cp->copied_sectors += job->len;
		cp->win_sectors += job->len;
		cp->zeroed_regions += job->nr -
			hweight_long(job->nonzero & GENMASK(job->nr - 1, 0));
		im_rate_roll_locked(cp);
	}
	for (i = 0; i < job->nr; i++) {
		/* Data may have reached the destination, even on failure. */
		if (job->nonzero & BIT(i))
			im_dest_touch_locked(mc, job->region + i, job->region + i);
		/* Parked writes still hold the entry; the worker issues them. */
		to_free = NULL;
		im_region_copy_end_locked(mc, job->nodes[i], !failed, &to_free);
		im_region_free(mc, to_free);
		job->nodes[i] = NULL;
	}
	/* Nothing left to copy: the failed ranges are history. */
	if (!failed && !region_map_count_dirty(mc->map)) {
		memset(cp->split, 0, sizeof(cp->split));
		cp->split_next = 0;
	}
	list_add(&job->list, &cp->free_jobs);
	im_check_synced_locked(mc);
	im_copier_kick(mc);
	if (!cp->in_flight)
		wake_up(&cp->drain_wq);
	spin_unlock_irqrestore(&mc->lock, flags);
}

/* Sets job->bio up for the current chunk, reading or writing @bdev. */
static void im_copy_bio(struct im_copy_job *job, struct block_device *bdev,
			enum req_op op, bio_end_io_t *end_io)
{
	struct incmirror *mc = job->mc;
	unsigned int bytes = job->chunk << SECTOR_SHIFT;
	unsigned int i, n;

	bio_init(&job->bio, bdev, job->bvecs, IM_COPY_CHUNK_PAGES, op);
	job->bio.bi_iter.bi_sector = im_region_start(mc, job->region) +
		job->done;
	job->bio.bi_end_io = end_io;
	job->bio.bi_private = job;
	for (i = 0; bytes; i++) {
		n = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(&job->bio, job->pages[i], n, 0);
		bytes -= n;
	}
}

/* The chunk has reached the destination (or failed to). */
static void im_copy_chunk_written(struct im_copy_job *job)
{
	/*
	 * In the destination's cache now, even on failure: noted per chunk,
	 * not at the end of the job, so that a redirty while the job runs
	 * covers the chunks already written.
	 */
	im_unflushed_note(job->mc, job->region, job->region + job->nr - 1);
	job->done += job->chunk;
	if (job->write_err || job->wz_refused || job->done >= job->len) {
		im_copy_done(job);
		return;
	}
	/* The next chunk is read from process context. */
	job->phase = IM_COPY_READ;
	queue_work(job->mc->wq, &job->work);
}

static void im_copy_write_end_io(struct bio *bio)
{
	struct im_copy_job *job = bio->bi_private;

	job->write_err = bio->bi_status;
	bio_uninit(bio);
	im_copy_chunk_written(job);
}

/* One of the bios of a chunk written in runs (im_copy_write_runs()). */
static void im_copy_run_end_io(struct bio *bio)
{
	struct im_copy_job *job = bio->bi_private;

	/*
	 * A write-zeroes the destination advertised but refuses at
	 * completion is no failure of the destination (see im_leg_done()):
	 * the regions are copied again with their zeroes as data.
	 */
	if (bio->bi_status == BLK_STS_NOTSUPP &&
	    bio_op(bio) == REQ_OP_WRITE_ZEROES)
		job->wz_refused = true;
	else if (bio->bi_status)
		job->write_err = bio->bi_status;
	bio_put(bio);
	if (atomic_dec_and_test(&job->pending))
		im_copy_chunk_written(job);
}

/* Whether bytes [from, to) of the job's buffer are all zero. */
static bool im_buf_zero(struct im_copy_job *job, unsigned int from,
			unsigned int to)
{
	unsigned int off, n;

	while (from < to) {
		off = offset_in_page(from);
		n = min_t(unsigned int, to - from, PAGE_SIZE - off);
		if (memchr_inv(page_address(job->pages[from >> PAGE_SHIFT]) + off,
			       0, n))
			return false;
		from += n;
	}
	return true;
}

/* Bytes [from, to) of the chunk: as data, or as a write-zeroes. */
static void im_copy_submit_run(struct im_copy_job *job, bool zero,
			       unsigned int from, unsigned int to)
{
	struct incmirror *mc = job->mc;
	struct block_device *dest = mc->dest->bdev;
	struct bio *bio;
	unsigned int b, n;

	if (zero) {
		bio = bio_alloc_bioset(dest, 0, REQ_OP_WRITE_ZEROES, GFP_NOIO,
				       &mc->copier.bs);
		bio->bi_iter.bi_size = to - from;
	} else {
		bio = bio_alloc_bioset(dest, DIV_ROUND_UP(to, PAGE_SIZE) -
				       from / PAGE_SIZE, REQ_OP_WRITE, GFP_NOIO,
				       &mc->copier.bs);
		for (b = from; b < to; b += n) {
			n = min_t(unsigned int, to - b,
				  PAGE_SIZE - offset_in_page(b));
			__bio_add_page(bio, job->pages[b >> PAGE_SHIFT], n,
				       offset_in_page(b));
		}
	}
	bio->bi_iter.bi_sector = im_region_start(mc, job->region) + job->done +
		(from >> SECTOR_SHIFT);
	bio->bi_end_io = im_copy_run_end_io;
	bio->bi_private = job;
	atomic_inc(&job->pending);
	submit_bio(bio);
}

enum im_seg_kind {
	IM_SEG_DATA,		/* written as data */
	IM_SEG_ZEROES,		/* zeroes, sent as write-zeroes */
	IM_SEG_SKIP,		/* zeroes on a never-written dest_zeroed region */
};

/*
 * Where the part of the chunk that starts at byte @pos (sector @s of the
 * device) ends: at the end of its region or of the chunk (@bytes). The
 * region's remaining length is compared in sectors, as a sector_t: in
 * bytes a region of 2^23 sectors or more does not fit 32 bits.
 */
static unsigned int im_part_end(struct incmirror *mc, sector_t s,
				unsigned int pos, unsigned int bytes)
{
	sector_t left = mc->region_sectors - (s & (mc->region_sectors - 1));

	return pos + ((unsigned int)min_t(sector_t, left,
					  (bytes - pos) >> SECTOR_SHIFT)
		      << SECTOR_SHIFT);
}

/*
 * Write the chunk just read, region part by region part (a part is the
 * piece of one region inside the chunk). A part that reads as zeroes is
 * not written at all on a dest_zeroed destination where the region was
 * never written (rule 6 of dm-incmirror-region.c), is sent as write-zeroes
 * where the destination takes them (nothing on the wire, nothing allocated
 * on thin or sparse storage: no REQ_NOUNMAP), and as data otherwise. A
 * chunk that is all data goes as one bio. Nothing may touch the job after
 * the last submit_bio() or the bias drop: the chunk may be complete.
 */
static void im_copy_write_chunk(struct im_copy_job *job)
{
	struct incmirror *mc = job->mc;
	/* A job, so a chunk of it, covers at most IM_COPY_JOB_REGIONS regions. */
	u8 kind[IM_COPY_JOB_REGIONS];
	unsigned int bytes = job->chunk << SECTOR_SHIFT;
	unsigned int pos, end, i, nseg, run;
	sector_t s, base = im_region_start(mc, job->region) + job->done;
	bool wz = bdev_write_zeroes_sectors(mc->dest->bdev) != 0 &&
		!READ_ONCE(mc->copier.no_write_zeroes);
	bool all_data = true;
	unsigned long bit;

	if (!wz && !job->may_skip) {
		job->nonzero = ~0UL;
		goto as_one;
	}

	for (pos = 0, nseg = 0; pos < bytes; pos = end, nseg++) {
		s = base + (pos >> SECTOR_SHIFT);
		end = im_part_end(mc, s, pos, bytes);
		bit = BIT((s >> mc->region_shift) - job->region);
		if (!im_buf_zero(job, pos, end))
			kind[nseg] = IM_SEG_DATA;
		else if (job->may_skip & bit)
			kind[nseg] = IM_SEG_SKIP;
		else if (wz)
			kind[nseg] = IM_SEG_ZEROES;
		else
			kind[nseg] = IM_SEG_DATA;
		if (kind[nseg] == IM_SEG_DATA)
			job->nonzero |= bit;
		else
			all_data = false;
	}
	if (all_data)
		goto as_one;

	/* The bias keeps the chunk open until every run is submitted. */
	atomic_set(&job->pending, 1);
	run = 0;
	for (pos = 0, i = 0; pos < bytes; pos = end, i++) {
		end = im_part_end(mc, base + (pos >> SECTOR_SHIFT), pos, bytes);
		if (i + 1 < nseg && kind[i + 1] == kind[i])
			continue;
		if (kind[i] != IM_SEG_SKIP)
			im_copy_submit_run(job, kind[i] == IM_SEG_ZEROES, run,
					   end);
		run = end;
	}
	if (atomic_dec_and_test(&job->pending))
		im_copy_chunk_written(job);
	return;

as_one:
	im_copy_bio(job, mc->dest->bdev, REQ_OP_WRITE, im_copy_write_end_io);
	submit_bio(&job->bio);
}

static void im_copy_read_end_io(struct bio *bio)
{
	struct im_copy_job *job = bio->bi_private;

	job->read_err = bio->bi_status;
	bio_uninit(bio);
	if (job->read_err) {
		im_copy_done(job);
		return;
	}
	/* Completions may run in interrupt context: write from the worker. */
	job->phase = IM_COPY_WRITE;
	queue_work(job->mc->wq, &job->work);
}

/*
 * One step of a job: read the next chunk from the source, or write the
 * chunk just read to the destination. Nothing may touch the job after
 * submit_bio(): its completion may already have ended the job.
 */
static void im_copy_step(struct work_struct *ws)
{
	struct im_copy_job *job = container_of(ws, struct im_copy_job, work);
	struct incmirror *mc = job->mc;

	if (job->phase == IM_COPY_WRITE) {
		im_copy_write_chunk(job);
		return;
	}
	job->chunk = min_t(sector_t, job->len - job->done, IM_COPY_JOB_SECTORS);
	im_copy_bio(job, mc->source->bdev, REQ_OP_READ, im_copy_read_end_io);
	submit_bio(&job->bio);
}

/* From the copier worker: process context, so the first read goes now. */
static void im_copy_start(struct incmirror *mc, struct im_copy_job *job)
{
	job->done = 0;
	job->nonzero = 0;
	job->read_err = BLK_STS_OK;
	job->write_err = BLK_STS_OK;
	job->wz_refused = false;
	job->phase = IM_COPY_READ;
	im_copy_step(&job->work);
}

static void im_copier_work(struct work_struct *ws)
{
	struct im_copier *cp = container_of(to_delayed_work(ws),
					    struct im_copier, work);
	struct incmirror *mc = container_of(cp, struct incmirror, copier);
	struct im_spares spares = { .nr = 0 };
	struct im_copy_job *job;
	unsigned long delay = 0;
	struct im_region *node;
	struct bio_list ready;
	enum im_claim claim;
	u64 scanned = 0;
	struct bio *bio;

	/* Parked writes first: callers are waiting for them. */
	bio_list_init(&ready);
	spin_lock_irq(&mc->lock);
	bio_list_merge(&ready, &mc->ready);
	bio_list_init(&mc->ready);
	spin_unlock_irq(&mc->lock);
	while ((bio = bio_list_pop(&ready)))
		im_issue_write(mc, bio);

	do {
		/*
		 * Never wait for the pool here: its entries may all be held by
		 * parked writes that only this worker issues. Retry later.
		 */
		while (spares.nr < IM_COPY_JOB_REGIONS) {
			node = im_region_alloc(mc, GFP_NOWAIT);
			if (!node)
				break;
			spares.node[spares.nr++] = node;
		}
		if (!spares.nr) {
			delay = IM_YIELD_JIFFIES;
			break;
		}

		spin_lock_irq(&mc->lock);
		claim = im_claim_locked(mc, &spares, &job, &delay, &scanned);
		spin_unlock_irq(&mc->lock);

		if (claim == IM_CLAIM_STARTED)
			im_copy_start(mc, job);
		else if (claim == IM_CLAIM_AGAIN)
			cond_resched();
	} while (claim != IM_CLAIM_NONE);

	while (spares.nr)
		im_region_free(mc, spares.node[--spares.nr]);

	spin_lock_irq(&mc->lock);
	im_check_synced_locked(mc);
	spin_unlock_irq(&mc->lock);

	/* Does not postpone a kick that arrived meanwhile. */
	if (delay)
		queue_delayed_work(mc->wq, &cp->work, delay);
}

static bool im_copier_idle(struct incmirror *mc)
{
	bool idle;

	spin_lock_irq(&mc->lock);
	idle = !mc->copier.in_flight;
	spin_unlock_irq(&mc->lock);
	return idle;
}

/* Wait for copies in flight; the caller has stopped new ones. */
void im_copier_drain(struct incmirror *mc)
{
	wait_event(mc->copier.drain_wq, im_copier_idle(mc));
}

void im_copier_stop(struct incmirror *mc)
{
	cancel_delayed_work_sync(&mc->copier.work);
}

static void im_copier_free_jobs(struct im_copier *cp, unsigned int nr)
{
	unsigned int i, p;

	for (i = 0; i < nr; i++)
		for (p = 0; p < IM_COPY_CHUNK_PAGES; p++)
			if (cp->jobs[i].pages[p])
				__free_page(cp->jobs[i].pages[p]);
	kvfree(cp->jobs);
	cp->jobs = NULL;
	bioset_exit(&cp->bs);
}

/*
 * Each job owns a chunk of IM_COPY_JOB_SECTORS of pages for its whole life:
 * a copy allocates nothing.
 */
int im_copier_init(struct incmirror *mc)
{
	struct im_copier *cp = &mc->copier;
	struct im_copy_job *job;
	unsigned int i, p;

	cp->jobs = kvcalloc(mc->copy_depth, sizeof(*cp->jobs), GFP_KERNEL);
	if (!cp->jobs)
		return -ENOMEM;
	if (bioset_init(&cp->bs, BIO_POOL_SIZE, 0, BIOSET_NEED_BVECS)) {
		kvfree(cp->jobs);
		cp->jobs = NULL;
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&cp->free_jobs);
	for (i = 0; i < mc->copy_depth; i++) {
		job = &cp->jobs[i];
		job->mc = mc;
		INIT_WORK(&job->work, im_copy_step);
		for (p = 0; p < IM_COPY_CHUNK_PAGES; p++) {
			job->pages[p] = alloc_page(GFP_KERNEL);
			if (!job->pages[p]) {
				im_copier_free_jobs(cp, i + 1);
				return -ENOMEM;
			}
		}
		list_add_tail(&job->list, &cp->free_jobs);
	}
	INIT_DELAYED_WORK(&cp->work, im_copier_work);
	init_waitqueue_head(&cp->drain_wq);
	cp->tokens_stamp = ktime_get_ns();
	cp->win_start = jiffies;
	cp->backoff_until = jiffies;
	return 0;
}

/*
 * After a suspend (or before any resume): no copy is in flight, and none
 * can be started.
 */
void im_copier_exit(struct incmirror *mc)
{
	struct im_copier *cp = &mc->copier;

	if (!cp->jobs)
		return;
	cancel_delayed_work_sync(&cp->work);
	im_copier_free_jobs(cp, mc->copy_depth);
}
