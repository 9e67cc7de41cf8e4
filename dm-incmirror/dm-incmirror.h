/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: state shared by the target, message and copier code.
 *
 * Locking rules (the only lock of a target is incmirror.lock):
 *
 * - incmirror.lock is a spinlock taken with interrupts disabled: write
 *   completions arrive from dm-io's notify callback, which may run in
 *   interrupt context. It protects the region map, the active region hash,
 *   the run state, the counters and the copier's bookkeeping. Nothing that
 *   sleeps happens under it (no allocation, no I/O submission, no
 *   dm_table_event()); such work is done after unlocking or deferred to the
 *   target's workqueue.
 *
 * - No hold of incmirror.lock walks more than IM_LOCK_CHUNK regions of a
 *   bitmap (map, metadata image, dest_touched): a 16 TiB map has 256 Mi
 *   regions, and one walk over it keeps interrupts off for tens of
 *   milliseconds. Longer ranges are walked chunk by chunk from process
 *   context, dropping the lock in between (im_mark_dirty_range()); a
 *   completion, possibly in interrupt context, that has to mark more than
 *   that many regions hands its bio to incmirror.mark_work and returns
 *   DM_ENDIO_INCOMPLETE, so the caller's bio completes only once every
 *   region is marked. While such a walk runs (marks_pending), status does
 *   not say synced and the metadata clears no bit.
 *
 * - The per-region rules (write/copy exclusion, overlapping writes, when a
 *   dirty bit is set and cleared) are written once, in
 *   dm-incmirror-region.c, which is the only code that changes the active
 *   region hash.
 *
 * - msg_mutex serialises messages with the map set-up of the first resume
 *   (hand-over from the replaced instance, or loading the metadata): a
 *   message never sees, or changes, a map that is about to be replaced.
 *   The metadata (dm-incmirror-metadata.h) has rules of its own for when a
 *   write may be issued.
 */
#ifndef DM_INCMIRROR_H
#define DM_INCMIRROR_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "dm-incmirror-copier.h"
#include "dm-incmirror-metadata.h"
#include "dm-incmirror-region-map.h"
#include "dm-incmirror-region.h"
#include "dm-incmirror-unflushed.h"
#include "dm-incmirror-verify.h"

#define DM_MSG_PREFIX "incmirror"

#define IM_DEFAULT_COPY_DEPTH		16
#define IM_DEFAULT_ERROR_THRESHOLD	8
#define IM_MAX_ERROR_THRESHOLD		1000000
#define IM_MIN_REGION_SECTORS		8
/*
 * 2^21 sectors (1 GiB), as dm-clone: a write to a region being copied, a
 * verify of it and a suspend all wait for the whole region's copy, so a
 * region must be copied in seconds, not minutes.
 */
#define IM_MAX_REGION_SECTORS		(1U << 21)

#define IM_HASH_BITS			8

/* Most regions one hold of incmirror.lock walks: 4 KiB of bitmap. */
#define IM_LOCK_CHUNK			(1ULL << 15)

/* What the copier has been told to do. */
enum im_run {
	IM_RUN_LOADING,		/* incremental, `start` not yet received */
	IM_RUN_COPYING,
	IM_RUN_PAUSED,
};

/* What status reports; derived from enum im_run and the conditions. */
enum im_state {
	IM_STATE_LOADING,
	IM_STATE_COPYING,
	IM_STATE_PAUSED,
	IM_STATE_SYNCED,
	IM_STATE_DEGRADED,
};

/* Per-bio data. */
enum {
	IM_BIO_MARK_DIRTY	= 1 << 0,	/* mark regions dirty when done */
	IM_BIO_DEST_FAILED	= 1 << 1,	/* destination leg failed */
	IM_BIO_FLUSH		= 1 << 2,	/* empty flush, per leg */
	IM_BIO_TO_DEST		= 1 << 3,	/* also sent to the destination */
	IM_BIO_DEST_FLUSH	= 1 << 4,	/* a destination flush sent */
	IM_BIO_SPANNING		= 1 << 5,	/* no entry: on incmirror.spanning */
	IM_BIO_MARK_LATER	= 1 << 6,	/* ended by incmirror.mark_work */
};

struct im_bio {
	struct im_region *node;		/* held entry, or NULL */
	struct list_head spanning;	/* in incmirror.spanning */
	u64 first;			/* regions covered by the bio */
	u64 last;
	unsigned int flags;
	atomic_t legs;			/* clones still in flight */
	blk_status_t source_status;
	blk_status_t dest_status;
};

struct incmirror {
	struct dm_target *ti;
	struct dm_dev *source;
	struct dm_dev *dest;
	struct dm_dev *meta_dev;	/* feature `metadata`, or NULL */
	struct im_metadata *md;		/* persistent map, or NULL */
	struct list_head instances;	/* all targets (hand-over) */

	sector_t region_sectors;
	unsigned int region_shift;
	u64 nr_regions;

	/* Table features, fixed at ctr. */
	bool incremental;
	bool dest_zeroed;		/* feature: never-written dest reads 0 */
	unsigned int copy_depth;
	unsigned int error_threshold;

	struct dm_io_client *io_client;	/* metadata I/O */
	struct bio_set bs_source;	/* write clones, per leg */
	struct bio_set bs_dest;
	bool write_ready;		/* the biosets are set up */
	mempool_t region_pool;
	struct workqueue_struct *wq;
	struct work_struct event_work;
	struct work_struct mark_work;	/* see IM_LOCK_CHUNK */
	struct mutex msg_mutex;
	bool resumed_once;		/* the map has been set up */
	bool suspended_live;		/* went live, now suspended */

	spinlock_t lock;
	/* protected by lock */
	struct region_map *map;
	DECLARE_HASHTABLE(active, IM_HASH_BITS);
	struct list_head copying;	/* entries being copied */
	unsigned int nr_copying;	/* entries on that list */
	struct list_head spanning;	/* spanning writes admitted, not ended */
	/*
	 * With dest_zeroed: regions the destination may hold data in (written
	 * through this target or its predecessors, or not known). Else NULL.
	 */
	unsigned long *dest_touched;
	enum im_run run;
	bool degraded;
	bool suspending;		/* no new copies: suspending/suspended */
	bool synced_reported;		/* event raised for this synced spell */
	unsigned int max_copy_rate;	/* KiB/s, 0 = unlimited */
	unsigned int errors_since_start;
	u64 dest_errors;
	unsigned long last_write;	/* jiffies of the last foreground write */
	struct bio_list ready;		/* parked writes whose copy ended */
	/* Completions whose regions mark_work marks, then ends. */
	struct bio_list mark_bios;
	unsigned int marks_pending;	/* chunked markings not yet done */
	struct im_copier copier;
	struct im_verify verify;
	struct im_unflushed unflushed;
};

static inline sector_t im_region_start(struct incmirror *mc, u64 region)
{
	return (sector_t)region << mc->region_shift;
}

static inline sector_t im_region_len(struct incmirror *mc, u64 region)
{
	sector_t start = im_region_start(mc, region);

	return min_t(sector_t, mc->region_sectors, mc->ti->len - start);
}

/* dm-incmirror-target.c */
void im_dest_error_locked(struct incmirror *mc);
bool im_copier_may_run_locked(struct incmirror *mc);
void im_check_synced_locked(struct incmirror *mc);
enum im_state im_state_locked(struct incmirror *mc);

/* dm-incmirror-write.c */
int im_write_init(struct incmirror *mc);
void im_write_exit(struct incmirror *mc);
int im_map_write(struct incmirror *mc, struct bio *bio, struct im_bio *pb);
int im_map_flush(struct incmirror *mc, struct bio *bio, struct im_bio *pb);
int im_write_end_io(struct incmirror *mc, struct bio *bio,
		    blk_status_t *error);
void im_issue_write(struct incmirror *mc, struct bio *bio);
void im_release_writes(struct incmirror *mc, struct bio_list *bios);
void im_mark_work(struct work_struct *ws);

/* dm-incmirror-handover.c */
int im_instance_register(struct incmirror *mc, char **error);
void im_instance_unregister(struct incmirror *mc);
bool im_handover_take(struct incmirror *mc);

/* dm-incmirror-message.c */
int im_message(struct dm_target *ti, unsigned int argc, char **argv,
	       char *result, unsigned int maxlen);

#endif /* DM_INCMIRROR_H */
