/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: background copier (dirty regions, source -> destination).
 */
#ifndef DM_INCMIRROR_COPIER_H
#define DM_INCMIRROR_COPIER_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct incmirror;
struct im_region;
struct dm_kcopyd_client;

#define IM_COPY_DEPTH_MAX 64
/*
 * A copy job covers a run of up to IM_COPY_JOB_REGIONS adjacent dirty
 * regions, at most IM_COPY_JOB_SECTORS long (or one region if regions are
 * larger): small regions are not copied one small I/O at a time.
 */
#define IM_COPY_JOB_REGIONS	16
#define IM_COPY_JOB_SECTORS	2048	/* 1 MiB */

struct im_copy_job {
	struct list_head list;		/* on im_copier.free_jobs when idle */
	struct incmirror *mc;
	/* The regions' active entries; nodes[0] == NULL while idle. */
	struct im_region *nodes[IM_COPY_JOB_REGIONS];
	u64 region;			/* first region */
	unsigned int nr;		/* regions */
	sector_t len;
};

/*
 * All fields below "protected by incmirror.lock" are read and written with
 * that lock held; the rest are set up in ctr and read-only afterwards.
 */
struct im_copier {
	struct dm_kcopyd_client *kc;
	struct delayed_work work;
	wait_queue_head_t drain_wq;	/* woken when in_flight drops to 0 */
	struct im_copy_job *jobs;

	/* protected by incmirror.lock */
	struct list_head free_jobs;
	unsigned int jobs_in_flight;	/* at most copy_depth */
	unsigned int in_flight;		/* regions being copied */
	u64 cursor;			/* next region to look at */
	u64 split_first;		/* regions of the last failed job, */
	u64 split_end;			/* copied one by one from then on */
	s64 tokens;			/* rate limiter, in sectors */
	u64 tokens_stamp;		/* ktime (ns) of the last refill */
	unsigned long backoff_until;	/* jiffies: pause after a copy error */
	u64 copied_sectors;
	u64 copy_errors;
	unsigned long win_start;	/* jiffies: start of the rate window */
	u64 win_sectors;
	unsigned int last_rate;		/* KiB/s over the last full window */
};

int im_copier_init(struct incmirror *mc);
void im_copier_exit(struct incmirror *mc);
void im_copier_kick(struct incmirror *mc);
void im_copier_drain(struct incmirror *mc);
void im_copier_stop(struct incmirror *mc);
void im_copier_rate_changed_locked(struct incmirror *mc);
unsigned int im_copier_rate_locked(struct incmirror *mc);

#endif /* DM_INCMIRROR_COPIER_H */
