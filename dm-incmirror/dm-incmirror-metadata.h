/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: the persistent, crash-consistent dirty map (feature
 * `metadata <dev>`).
 *
 * The in-core region map (dm-incmirror-region-map.c) stays the truth about
 * what the copier has to do. The metadata device holds a superblock and an
 * on-disk bitmap whose in-core copy is the *image*. The one rule that makes
 * a crash safe:
 *
 *   image (as durable on disk) >= every region that is dirty in the map,
 *   or has a write in flight, or was written since both legs were last
 *   flushed.
 *
 * It is kept by three orderings:
 * - write-intent: a write is issued to the legs only once its regions' bits
 *   are durable (a round that started after the bits were set has
 *   completed); writes meanwhile wait on `waiting`, holding their active
 *   region entry;
 * - lazy clearing: a clear pass first flushes both legs, then clears the
 *   bits of regions that are clean in the map, have no I/O in flight and
 *   were neither written nor copied since the previous pass (the `hot`
 *   bits); a write to a region whose bit was cleared waits for the next
 *   round like any first write;
 * - everything that marks the map dirty sets the image too
 *   (im_md_mark_dirty_locked), so image >= map in core at all times.
 *
 * Locking: image, hot, the block bitmaps, `waiting`, the round counters,
 * the superblock flags and `failed` are protected by incmirror.lock. All
 * metadata I/O is done by one work item, by ctr, or by preresume/postsuspend,
 * serialised by io_mutex; a round snapshots what it writes under the
 * spinlock, so the image may change while the blocks are on their way.
 */
#ifndef DM_INCMIRROR_METADATA_H
#define DM_INCMIRROR_METADATA_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct incmirror;

/* On-disk format (see Documentation/dm-incmirror.rst, "Metadata device"). */
#define IM_MD_MAGIC		0x524d4d49	/* "IMMR" in little endian */
#define IM_MD_VERSION		1
#define IM_MD_BLOCK_SIZE	4096
#define IM_MD_BLOCK_SECTORS	(IM_MD_BLOCK_SIZE >> SECTOR_SHIFT)
#define IM_MD_BITS_PER_BLOCK	(IM_MD_BLOCK_SIZE * 8)
#define IM_MD_OWNER_LEN		128

enum im_md_sb_flags {
	IM_MD_CLEAN		= 1 << 0,	/* clean shutdown: bitmap exact */
	IM_MD_STARTED		= 1 << 1,	/* `start` was received */
	IM_MD_NEEDS_FULL_COPY	= 1 << 2,	/* every region is dirty */
	IM_MD_DEGRADED		= 1 << 3,	/* degraded: `start` not yet */
	IM_MD_PAUSED		= 1 << 4,	/* `pause` after `start` */
};
#define IM_MD_KNOWN_FLAGS	(IM_MD_CLEAN | IM_MD_STARTED | \
				 IM_MD_NEEDS_FULL_COPY | IM_MD_DEGRADED | \
				 IM_MD_PAUSED)

/* The first 512 bytes of block 0: one sector, so its update is atomic. */
struct im_disk_sb {
	__le32 magic;
	__le32 csum;		/* CRC-32 of the sector with csum = 0 */
	__le32 version;
	__le32 flags;
	u8 uuid[16];		/* of the pairing, made at format time */
	char owner[IM_MD_OWNER_LEN];	/* dm uuid, or name, of the device */
	__le64 region_sectors;
	__le64 target_sectors;
	__le64 nr_regions;
	__le64 bitmap_offset;	/* in sectors */
	__le64 bitmap_sectors;
	__le64 generation;	/* bumped on every superblock write */
} __packed;

/* What status reports about the metadata device. */
enum im_md_state {
	IM_MD_NONE,		/* no metadata feature */
	IM_MD_OK,
	IM_MD_FAILED,		/* I/O failed: the map is in core only */
};

struct im_metadata {
	struct incmirror *mc;
	struct dm_dev *dev;
	u64 nr_regions;
	u64 nr_blocks;		/* bitmap blocks */

	/* protected by incmirror.lock */
	unsigned long *image;	/* nr_regions bits: what the disk holds */
	unsigned long *hot;	/* written or copied since the last pass */
	unsigned long *blk_pending;	/* image blocks changed, not written */
	unsigned long *blk_inflight;	/* blocks the current round writes */
	struct bio_list waiting;	/* writes waiting for a round */
	u64 rounds_started;
	u64 rounds_done;
	u32 flags;		/* enum im_md_sb_flags, as to be written */
	bool sb_pending;	/* superblock to be written */
	bool failed;
	bool live;		/* resumed: clear passes run */

	/* used by the holder of io_mutex only */
	struct mutex io_mutex;
	void *buf;		/* IM_MD_IO_BLOCKS blocks of I/O buffer */
	unsigned long *scratch;	/* one block's worth of map words */
	u8 uuid[16];
	char owner[IM_MD_OWNER_LEN];
	u64 generation;
	bool loaded;		/* the image holds the device's state */
	bool formatted;		/* formatted by this table's constructor */
	unsigned long next_clear;	/* jiffies */

	struct delayed_work work;
	wait_queue_head_t round_wq;
};

/* Metadata sectors needed for @nr_regions regions. */
sector_t im_md_needed_sectors(u64 nr_regions);

int im_md_create(struct incmirror *mc, struct dm_dev *dev, char **error);
void im_md_destroy(struct incmirror *mc);
void im_md_resume(struct incmirror *mc, bool handed_over);
void im_md_suspend(struct incmirror *mc);

bool im_md_write_intent_locked(struct incmirror *mc, u64 first, u64 last);
void im_md_wait_locked(struct incmirror *mc, struct bio *bio);
bool im_md_mark_dirty_locked(struct incmirror *mc, u64 first, u64 last);
void im_md_kick_work(struct incmirror *mc);
void im_md_copy_claimed_locked(struct incmirror *mc, u64 region);
void im_md_set_started(struct incmirror *mc);
void im_md_set_paused(struct incmirror *mc);
void im_md_degraded_locked(struct incmirror *mc);
void im_md_undegraded_locked(struct incmirror *mc);
void im_md_retire(struct incmirror *old);
void im_md_sync(struct incmirror *mc);
enum im_md_state im_md_state_locked(struct incmirror *mc);

#endif /* DM_INCMIRROR_METADATA_H */
