/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: background copier (dirty regions, source -> destination).
 */
#ifndef DM_INCMIRROR_COPIER_H
#define DM_INCMIRROR_COPIER_H

#include <linux/bio.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct incmirror;
struct im_region;

#define IM_COPY_DEPTH_MAX 64
/*
 * A copy job covers a run of up to IM_COPY_JOB_REGIONS adjacent dirty
 * regions, at most IM_COPY_JOB_SECTORS long (or one region if regions are
 * larger): small regions are not copied one small I/O at a time.
 */
#define IM_COPY_JOB_REGIONS	16
#define IM_COPY_JOB_SECTORS	2048	/* 1 MiB */
/* Pages of a job's buffer: one chunk of a job is copied at a time. */
#define IM_COPY_CHUNK_PAGES	(IM_COPY_JOB_SECTORS / (PAGE_SIZE >> 9))

/*
 * Failed multi-region jobs remembered at once: enough for every job of the
 * default copy_depth failing together, and more than one failing range.
 */
#define IM_SPLIT_WINDOWS	16

enum im_copy_phase {
	IM_COPY_READ,		/* next: read a chunk from the source */
	IM_COPY_WRITE,		/* next: write it to the destination */
};

struct im_copy_job {
	struct list_head list;		/* on im_copier.free_jobs when idle */
	struct incmirror *mc;
	/* The regions' active entries; nodes[0] == NULL while idle. */
	struct im_region *nodes[IM_COPY_JOB_REGIONS];
	u64 region;			/* first region */
	unsigned int nr;		/* regions */
	sector_t len;
	/* The copy itself: chunk after chunk of at most one buffer. */
	sector_t done;			/* sectors of len copied */
	sector_t chunk;			/* sectors of the chunk under way */
	enum im_copy_phase phase;
	blk_status_t read_err;
	blk_status_t write_err;
	bool wz_refused;		/* a write-zeroes came back NOTSUPP */
	atomic_t pending;		/* bios of a chunk written in runs */
	unsigned long nonzero;		/* bit i: region + i had data */
	unsigned long may_skip;		/* bit i: dest_zeroed, untouched */
	struct work_struct work;	/* the next step, in process context */
	struct bio bio;			/* the read, then the write */
	struct bio_vec bvecs[IM_COPY_CHUNK_PAGES];
	struct page *pages[IM_COPY_CHUNK_PAGES];
};

/*
 * All fields below "protected by incmirror.lock" are read and written with
 * that lock held; the rest are set up in ctr and read-only afterwards.
 */
struct im_copier {
	struct delayed_work work;
	struct bio_set bs;		/* bios of chunks written in runs */
	wait_queue_head_t drain_wq;	/* woken when in_flight drops to 0 */
	struct im_copy_job *jobs;

	/* protected by incmirror.lock */
	struct list_head free_jobs;
	unsigned int jobs_in_flight;	/* at most copy_depth */
	unsigned int in_flight;		/* regions being copied */
	u64 cursor;			/* next region to look at */
	/* Regions of failed jobs, copied one by one from then on. */
	struct im_split {
		u64 first;
		u64 end;
	} split[IM_SPLIT_WINDOWS];
	unsigned int split_next;	/* the window to replace next */
	s64 tokens;			/* rate limiter, in sectors */
	u64 tokens_stamp;		/* ktime (ns) of the last refill */
	unsigned long backoff_until;	/* jiffies: pause after a copy error */
	u64 copied_sectors;
	u64 zeroed_regions;		/* zeroes: write-zeroes or skipped */
	u64 copy_errors;
	/* The destination refused a write-zeroes: zeroes go as data. */
	bool no_write_zeroes;
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
unsigned long im_copier_take_tokens_locked(struct incmirror *mc,
					   sector_t sectors);

#endif /* DM_INCMIRROR_COPIER_H */
