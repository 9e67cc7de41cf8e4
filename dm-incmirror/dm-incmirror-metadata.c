// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: persistent dirty map on a metadata device.
 *
 * Layout (little endian, 4 KiB blocks): block 0 is the superblock (struct
 * im_disk_sb in its first sector), blocks 1.. hold one bit per region,
 * region i being bit i % 8 of byte i / 8. See dm-incmirror-metadata.h for
 * the rule that makes a crash safe and for the locking, and
 * Documentation/dm-incmirror.rst for the format and the recovery costs.
 *
 * All I/O here is synchronous dm-io from process context: the constructor,
 * preresume, postsuspend and the metadata work item, serialised by
 * io_mutex. A *round* (im_md_round) writes the image blocks changed since
 * the previous round, and the superblock if asked, each with FUA, then lets
 * the writes that waited for it go.
 */
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/dm-ioctl.h>
#include <linux/ioprio.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uuid.h>
#include <linux/vmalloc.h>

#include "dm-incmirror.h"
#include "dm-incmirror-compat.h"

/* Blocks per metadata I/O (128 KiB). */
#define IM_MD_IO_BLOCKS		32
/* A region's bit is cleared after it has been idle for 1 to 2 periods. */
#define IM_MD_CLEAR_PERIOD	(5 * HZ)
#define IM_MD_WORDS_PER_BLOCK	(IM_MD_BITS_PER_BLOCK / BITS_PER_LONG)

static const char *im_md_name(struct im_metadata *md)
{
	return dm_device_name(dm_table_get_md(md->mc->ti->table));
}

sector_t im_md_needed_sectors(u64 nr_regions)
{
	return IM_MD_BLOCK_SECTORS +
		DIV_ROUND_UP_ULL(nr_regions, IM_MD_BITS_PER_BLOCK) *
		IM_MD_BLOCK_SECTORS;
}

static void im_md_kick(struct im_metadata *md)
{
	mod_delayed_work(md->mc->wq, &md->work, 0);
}

/* Run the work item now, for bits set without kicking it. Any context. */
void im_md_kick_work(struct incmirror *mc)
{
	if (mc->md)
		im_md_kick(mc->md);
}

/* Synchronous I/O of @nr_blocks blocks between md->buf and @sector. */
static int im_md_io(struct im_metadata *md, enum req_op op, blk_opf_t flags,
		    sector_t sector, unsigned int nr_blocks)
{
	struct dm_io_region where = {
		.bdev = md->dev->bdev,
		.sector = sector,
		.count = (sector_t)nr_blocks * IM_MD_BLOCK_SECTORS,
	};
	struct dm_io_request req = {
		.bi_opf = op | flags,
		.mem.type = DM_IO_VMA,
		.mem.ptr.vma = md->buf,
		.client = md->mc->io_client,
	};
	unsigned long error_bits = 0;
	int r;

	r = im_dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
	if (!r && error_bits)
		r = -EIO;
	return r;
}

/*---------------------------------------------------------------------------
 * Superblock
 *---------------------------------------------------------------------------
 */
static u32 im_md_csum(const void *sector)
{
	/* Standard CRC-32 (as zlib's crc32()), csum field zeroed. */
	return ~crc32_le(~0U, sector, SECTOR_SIZE);
}

static void im_md_sb_encode(struct im_metadata *md, u32 flags, void *block)
{
	struct incmirror *mc = md->mc;
	struct im_disk_sb *sb = block;

	memset(block, 0, IM_MD_BLOCK_SIZE);
	sb->magic = cpu_to_le32(IM_MD_MAGIC);
	sb->version = cpu_to_le32(IM_MD_VERSION);
	sb->flags = cpu_to_le32(flags);
	memcpy(sb->uuid, md->uuid, sizeof(sb->uuid));
	memcpy(sb->owner, md->owner, sizeof(sb->owner));
	sb->region_sectors = cpu_to_le64(mc->region_sectors);
	sb->target_sectors = cpu_to_le64(mc->ti->len);
	sb->nr_regions = cpu_to_le64(md->nr_regions);
	sb->bitmap_offset = cpu_to_le64(IM_MD_BLOCK_SECTORS);
	sb->bitmap_sectors = cpu_to_le64(md->nr_blocks * IM_MD_BLOCK_SECTORS);
	sb->generation = cpu_to_le64(md->generation);
	sb->csum = cpu_to_le32(im_md_csum(block));
}

static int im_md_write_sb(struct im_metadata *md, u32 flags)
{
	md->generation++;
	im_md_sb_encode(md, flags, md->buf);
	return im_md_io(md, REQ_OP_WRITE, REQ_FUA | REQ_SYNC, 0, 1);
}

/* Reads block 0 into md->buf; returns the superblock or NULL if all zero. */
static int im_md_read_sb(struct im_metadata *md, struct im_disk_sb **sbp,
			 char **error)
{
	int r;

	r = im_md_io(md, REQ_OP_READ, 0, 0, 1);
	if (r) {
		*error = "Cannot read the metadata superblock";
		return r;
	}
	*sbp = memchr_inv(md->buf, 0, IM_MD_BLOCK_SIZE) ? md->buf : NULL;
	return 0;
}

/* Checks what identifies the superblock's format; not its geometry. */
static int im_md_check_sb(struct im_disk_sb *sb, char **error)
{
	u32 csum = le32_to_cpu(sb->csum);

	if (le32_to_cpu(sb->magic) != IM_MD_MAGIC) {
		*error = "Metadata device holds no incmirror superblock (zero its first 4 KiB to format it)";
		return -EINVAL;
	}
	sb->csum = 0;
	if (im_md_csum(sb) != csum) {
		*error = "Metadata superblock checksum mismatch";
		return -EINVAL;
	}
	sb->csum = cpu_to_le32(csum);
	if (le32_to_cpu(sb->version) != IM_MD_VERSION) {
		*error = "Unsupported metadata version";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->flags) & ~IM_MD_KNOWN_FLAGS) {
		*error = "Unknown metadata superblock flags";
		return -EINVAL;
	}
	return 0;
}

static int im_md_check_geometry(struct im_metadata *md, struct im_disk_sb *sb,
				char **error)
{
	struct incmirror *mc = md->mc;

	if (memcmp(sb->owner, md->owner, IM_MD_OWNER_LEN)) {
		*error = "Metadata belongs to another incmirror device (owner differs)";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->region_sectors) != mc->region_sectors) {
		*error = "Metadata region size differs from the table's";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->target_sectors) != mc->ti->len) {
		*error = "Metadata device size differs from the table's";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->nr_regions) != md->nr_regions ||
	    le64_to_cpu(sb->bitmap_offset) != IM_MD_BLOCK_SECTORS ||
	    le64_to_cpu(sb->bitmap_sectors) !=
	    md->nr_blocks * IM_MD_BLOCK_SECTORS) {
		*error = "Metadata superblock geometry is inconsistent";
		return -EINVAL;
	}
	return 0;
}

/*
 * The owner recorded in a new superblock: the mapped device's dm uuid (LVM
 * sets one), else its name.
 */
static int im_md_owner(struct incmirror *mc, char *owner)
{
	char name[DM_NAME_LEN], uuid[DM_UUID_LEN];
	const char *src;
	int r;

	memset(owner, 0, IM_MD_OWNER_LEN);
	r = dm_copy_name_and_uuid(dm_table_get_md(mc->ti->table), name, uuid);
	if (r)
		return r;
	src = uuid[0] ? uuid : name;
	memcpy(owner, src, min_t(size_t, strlen(src), IM_MD_OWNER_LEN));
	return 0;
}

static int im_md_format(struct im_metadata *md, char **error)
{
	struct block_device *bdev = md->dev->bdev;
	int r;

	generate_random_uuid(md->uuid);
	md->generation = 0;
	md->formatted = true;
	r = blkdev_issue_zeroout(bdev, IM_MD_BLOCK_SECTORS,
				 md->nr_blocks * IM_MD_BLOCK_SECTORS,
				 GFP_KERNEL, 0);
	if (!r)
		r = blkdev_issue_flush(bdev);
	if (r) {
		*error = "Cannot zero the metadata bitmap";
		return r;
	}
	/* A full mirror starts all dirty: say so until the bits are written. */
	md->flags = md->mc->incremental ? 0 : IM_MD_NEEDS_FULL_COPY;
	r = im_md_write_sb(md, md->flags);
	if (r) {
		*error = "Cannot write the metadata superblock";
		return r;
	}
	return 0;
}

/*---------------------------------------------------------------------------
 * Image blocks <-> disk blocks
 *---------------------------------------------------------------------------
 */
static unsigned int im_md_block_bits(struct im_metadata *md, u64 blk)
{
	return min_t(u64, IM_MD_BITS_PER_BLOCK,
		     md->nr_regions - blk * IM_MD_BITS_PER_BLOCK);
}

static u64 im_md_block_words(struct im_metadata *md, u64 blk)
{
	return BITS_TO_LONGS(im_md_block_bits(md, blk));
}

/* Caller holds incmirror.lock (the image may change otherwise). */
static void im_md_block_to_disk(struct im_metadata *md, u64 blk, void *dst)
{
	unsigned int nbits = im_md_block_bits(md, blk);
	__le64 *le = dst;
	u64 *w = dst;
	unsigned int i;

	memset(dst, 0, IM_MD_BLOCK_SIZE);
	bitmap_to_arr64(w, md->image + blk * IM_MD_WORDS_PER_BLOCK, nbits);
	for (i = 0; i < DIV_ROUND_UP(nbits, 64); i++)
		le[i] = cpu_to_le64(w[i]);
}

static void im_md_block_from_disk(struct im_metadata *md, u64 blk, void *src)
{
	unsigned int nbits = im_md_block_bits(md, blk);
	__le64 *le = src;
	u64 *w = src;
	unsigned int i;

	for (i = 0; i < DIV_ROUND_UP(nbits, 64); i++)
		w[i] = le64_to_cpu(le[i]);
	/* Clears the bits past nr_regions: a hostile image cannot set them. */
	bitmap_from_arr64(md->image + blk * IM_MD_WORDS_PER_BLOCK, w, nbits);
}

/*
 * Write the blocks of blk_inflight, a run of up to IM_MD_IO_BLOCKS at once;
 * each block is encoded in a hold of the lock of its own (IM_LOCK_CHUNK).
 */
static int im_md_write_blocks(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	u64 nb = md->nr_blocks, b, e, blk;
	int r;

	for (b = find_first_bit(md->blk_inflight, nb); b < nb;
	     b = find_next_bit(md->blk_inflight, nb, e)) {
		e = find_next_zero_bit(md->blk_inflight, nb, b);
		e = min_t(u64, e, b + IM_MD_IO_BLOCKS);
		for (blk = b; blk < e; blk++) {
			spin_lock_irq(&mc->lock);
			im_md_block_to_disk(md, blk, md->buf +
					    (blk - b) * IM_MD_BLOCK_SIZE);
			spin_unlock_irq(&mc->lock);
		}
		r = im_md_io(md, REQ_OP_WRITE, REQ_FUA | REQ_SYNC,
			     IM_MD_BLOCK_SECTORS + b * IM_MD_BLOCK_SECTORS,
			     e - b);
		if (r)
			return r;
	}
	return 0;
}

/* Read the whole bitmap into the image. */
static int im_md_read_bitmap(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	u64 b, blk, n;
	int r;

	for (b = 0; b < md->nr_blocks; b += n) {
		n = min_t(u64, IM_MD_IO_BLOCKS, md->nr_blocks - b);
		r = im_md_io(md, REQ_OP_READ, 0,
			     IM_MD_BLOCK_SECTORS + b * IM_MD_BLOCK_SECTORS, n);
		if (r)
			return r;
		for (blk = b; blk < b + n; blk++) {
			spin_lock_irq(&mc->lock);
			im_md_block_from_disk(md, blk, md->buf +
					      (blk - b) * IM_MD_BLOCK_SIZE);
			spin_unlock_irq(&mc->lock);
		}
		cond_resched();
	}
	return 0;
}

/*
 * image := map, block by block; the blocks that change become pending.
 * Only while nothing is in flight (suspended, or not yet resumed).
 */
static void im_md_image_from_map(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	unsigned long *img;
	u64 blk, n;

	for (blk = 0; blk < md->nr_blocks; blk++) {
		n = im_md_block_words(md, blk);
		img = md->image + blk * IM_MD_WORDS_PER_BLOCK;
		spin_lock_irq(&mc->lock);
		region_map_get_words(mc->map, blk * IM_MD_WORDS_PER_BLOCK, n,
				     md->scratch);
		if (memcmp(img, md->scratch, n * sizeof(long))) {
			memcpy(img, md->scratch, n * sizeof(long));
			__set_bit(blk, md->blk_pending);
		}
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}
}

static void im_md_map_from_image(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	u64 blk;

	for (blk = 0; blk < md->nr_blocks; blk++) {
		spin_lock_irq(&mc->lock);
		region_map_set_words(mc->map, blk * IM_MD_WORDS_PER_BLOCK,
				     im_md_block_words(md, blk),
				     md->image + blk * IM_MD_WORDS_PER_BLOCK);
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}
}

/*---------------------------------------------------------------------------
 * Rounds, failure, clear passes (io_mutex held)
 *---------------------------------------------------------------------------
 */
static void im_md_fail(struct im_metadata *md, int r)
{
	struct incmirror *mc = md->mc;
	bool first;

	spin_lock_irq(&mc->lock);
	first = !md->failed;
	md->failed = true;
	spin_unlock_irq(&mc->lock);
	if (!first)
		return;

	DMERR("%s: metadata device I/O failed (%d): the dirty map is kept in memory only",
	      im_md_name(md), r);
	/* Best effort, so that a later load copies everything. */
	im_md_write_sb(md, md->flags | IM_MD_NEEDS_FULL_COPY);
	queue_work(mc->wq, &mc->event_work);
}

static void im_md_round(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	struct bio_list release;
	bool sb, failed;
	u32 flags;
	u64 round;
	int r = 0;

	lockdep_assert_held(&md->io_mutex);

	bio_list_init(&release);
	spin_lock_irq(&mc->lock);
	bio_list_merge(&release, &md->waiting);
	bio_list_init(&md->waiting);
	round = ++md->rounds_started;
	bitmap_or(md->blk_inflight, md->blk_inflight, md->blk_pending,
		  md->nr_blocks);
	bitmap_zero(md->blk_pending, md->nr_blocks);
	sb = md->sb_pending;
	md->sb_pending = false;
	flags = md->flags;
	failed = md->failed;
	spin_unlock_irq(&mc->lock);

	if (!failed) {
		r = im_md_write_blocks(md);
		if (!r && sb)
			r = im_md_write_sb(md, flags);
		if (r)
			im_md_fail(md, r);
	}

	spin_lock_irq(&mc->lock);
	bitmap_zero(md->blk_inflight, md->nr_blocks);
	md->rounds_done = round;
	spin_unlock_irq(&mc->lock);
	wake_up_all(&md->round_wq);

	/* Their bits are durable now (or the metadata has failed). */
	im_release_writes(mc, &release);
}

/*
 * Flush both legs, as every clearing of bits must first. Returns true if
 * both flushes succeeded.
 *
 * A leg whose flush failed may have lost any write that completed since its
 * last good flush, which is any region whose image bit is set (the rule in
 * dm-incmirror-metadata.h): those regions become dirty in the map, their
 * bits stay set, and a failed destination flush is a destination error,
 * as for a failed foreground flush (im_flush_failed()). Otherwise the next
 * pass whose flush succeeds would clear the bits of writes the destination
 * never stored.
 */
static bool im_md_flush_legs(struct im_metadata *md, const char *when)
{
	struct incmirror *mc = md->mc;
	bool source_failed, dest_failed, kick;
	u64 blk, r, e, end;

	source_failed = blkdev_issue_flush(mc->source->bdev) != 0;
	dest_failed = blkdev_issue_flush(mc->dest->bdev) != 0;
	if (!source_failed && !dest_failed)
		return true;

	DMERR_LIMIT("%s: %s flush %s failed: recently written regions made dirty",
		    im_md_name(md), dest_failed ? "destination" : "source", when);

	/*
	 * The marking below drops the lock between blocks: marks_pending
	 * keeps status from saying synced (and the clear pass from running)
	 * until every block's regions are dirty, as for the other chunked
	 * markings (IM_LOCK_CHUNK).
	 */
	spin_lock_irq(&mc->lock);
	if (dest_failed)
		im_dest_error_locked(mc);
	mc->marks_pending++;
	spin_unlock_irq(&mc->lock);

	for (blk = 0; blk < md->nr_blocks; blk++) {
		r = blk * IM_MD_BITS_PER_BLOCK;
		end = r + im_md_block_bits(md, blk);
		spin_lock_irq(&mc->lock);
		for (r = find_next_bit(md->image, end, r); r < end;
		     r = find_next_bit(md->image, end, e)) {
			e = find_next_zero_bit(md->image, end, r);
			im_mark_dirty_locked(mc, r, e - 1);
		}
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}

	spin_lock_irq(&mc->lock);
	mc->marks_pending--;
	kick = im_copier_may_run_locked(mc);
	spin_unlock_irq(&mc->lock);
	if (kick)
		im_copier_kick(mc);
	return false;
}

/*
 * Flush both legs, then clear the bits of regions that are clean in the
 * map, have no active entry, are under no spanning write in flight and were
 * not hot since the previous pass.
 * Flushing first is enough: a region that was not hot had no write or
 * copy mapped since the previous pass and none in flight at its end (those
 * are made hot at the end of a pass), so all its I/O completed before this
 * flush. The cleared blocks are written by the round that follows.
 */
static void im_md_clear_pass(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	struct im_region *node;
	unsigned long *img, *hot;
	u64 blk, n, i, w0;
	unsigned int bkt;
	bool any;

	if (!im_md_flush_legs(md, "before clearing metadata bits"))
		return;

	for (blk = 0; blk < md->nr_blocks; blk++) {
		w0 = blk * IM_MD_WORDS_PER_BLOCK;
		n = im_md_block_words(md, blk);
		img = md->image + w0;
		hot = md->hot + w0;
		spin_lock_irq(&mc->lock);
		/*
		 * A chunked marking (IM_LOCK_CHUNK) has not reached every
		 * region it is for yet: clear nothing more in this pass.
		 */
		if (mc->marks_pending) {
			spin_unlock_irq(&mc->lock);
			break;
		}
		region_map_get_words(mc->map, w0, n, md->scratch);
		any = false;
		for (i = 0; i < n; i++) {
			md->scratch[i] = img[i] & ~md->scratch[i] & ~hot[i];
			hot[i] = 0;
			any |= md->scratch[i] != 0;
		}
		if (any) {
			im_for_each_active_region(mc, bkt, node)
				if (node->region / BITS_PER_LONG >= w0 &&
				    node->region / BITS_PER_LONG < w0 + n)
					__clear_bit(node->region -
						    w0 * BITS_PER_LONG,
						    md->scratch);
			/*
			 * A spanning write holds no entry and the copier may
			 * clean its regions while it runs: keep their bits
			 * until it has ended (region.c rule 7), or a crash
			 * before it ends finds them clean.
			 */
			im_region_spanning_unmark_locked(mc, md->scratch,
							 w0 * BITS_PER_LONG,
							 n * BITS_PER_LONG);
			any = false;
			for (i = 0; i < n; i++) {
				img[i] &= ~md->scratch[i];
				any |= md->scratch[i] != 0;
			}
			if (any)
				__set_bit(blk, md->blk_pending);
		}
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}

	spin_lock_irq(&mc->lock);
	im_for_each_active_region(mc, bkt, node)
		__set_bit(node->region, md->hot);
	spin_unlock_irq(&mc->lock);
}

static void im_md_work(struct work_struct *ws)
{
	struct im_metadata *md = container_of(to_delayed_work(ws),
					      struct im_metadata, work);
	struct incmirror *mc = md->mc;
	bool live;

	mutex_lock(&md->io_mutex);
	spin_lock_irq(&mc->lock);
	live = md->live && !md->failed;
	/* A degraded destination is not flushed: keep every bit. */
	if (live && !mc->degraded && !im_unflushed_pending_locked(mc) &&
	    !mc->marks_pending && time_after_eq(jiffies, md->next_clear)) {
		spin_unlock_irq(&mc->lock);
		im_md_clear_pass(md);
		md->next_clear = jiffies + IM_MD_CLEAR_PERIOD;
	} else {
		spin_unlock_irq(&mc->lock);
	}
	im_md_round(md);
	mutex_unlock(&md->io_mutex);

	/* Does not postpone a kick that arrived meanwhile. */
	if (live)
		queue_delayed_work(mc->wq, &md->work,
				   time_after(md->next_clear, jiffies) ?
				   md->next_clear - jiffies : 1);
}

/*---------------------------------------------------------------------------
 * Interface to the target
 *---------------------------------------------------------------------------
 */

/* Sets the image bits of [first, last]; true if any was clear. */
static bool im_md_set_image_locked(struct im_metadata *md, u64 first, u64 last)
{
	if (find_next_zero_bit(md->image, last + 1, first) > last)
		return false;
	bitmap_set(md->image, first, last + 1 - first);
	bitmap_set(md->blk_pending, first / IM_MD_BITS_PER_BLOCK,
		   last / IM_MD_BITS_PER_BLOCK - first / IM_MD_BITS_PER_BLOCK + 1);
	return true;
}

/*
 * A write to regions [first, last] is about to be issued: returns true if
 * it must wait for a round (im_md_wait_locked()) because a bit of its is
 * not durable yet. Also makes the regions hot.
 */
bool im_md_write_intent_locked(struct incmirror *mc, u64 first, u64 last)
{
	struct im_metadata *md = mc->md;
	u64 fb, lb;

	if (!md || md->failed)
		return false;
	bitmap_set(md->hot, first, last + 1 - first);
	if (!im_md_set_image_locked(md, first, last)) {
		/* Set, but maybe not written yet: in a pending or busy block. */
		fb = first / IM_MD_BITS_PER_BLOCK;
		lb = last / IM_MD_BITS_PER_BLOCK;
		if (find_next_bit(md->blk_pending, lb + 1, fb) > lb &&
		    find_next_bit(md->blk_inflight, lb + 1, fb) > lb)
			return false;
	}
	im_md_kick(md);
	return true;
}

void im_md_wait_locked(struct incmirror *mc, struct bio *bio)
{
	bio_list_add(&mc->md->waiting, bio);
}

/*
 * Keeps image >= map: everything that marks the map dirty calls this.
 * Returns true if a bit was set: the caller kicks the work item
 * (im_md_kick_work()), once for a batch of calls.
 */
bool im_md_mark_dirty_locked(struct incmirror *mc, u64 first, u64 last)
{
	struct im_metadata *md = mc->md;

	return md && !md->failed && im_md_set_image_locked(md, first, last);
}

void im_md_copy_claimed_locked(struct incmirror *mc, u64 region)
{
	struct im_metadata *md = mc->md;

	if (md && !md->failed)
		__set_bit(region, md->hot);
}

static bool im_md_round_done(struct im_metadata *md, u64 round)
{
	bool done;

	spin_lock_irq(&md->mc->lock);
	done = md->rounds_done >= round;
	spin_unlock_irq(&md->mc->lock);
	return done;
}

/* Wait until everything set in the image so far is durable. */
void im_md_sync(struct incmirror *mc)
{
	struct im_metadata *md = mc->md;
	u64 want;

	if (!md)
		return;
	spin_lock_irq(&mc->lock);
	want = md->rounds_started + 1;
	spin_unlock_irq(&mc->lock);
	im_md_kick(md);
	wait_event(md->round_wq, im_md_round_done(md, want));
}

/*
 * Replace @clear by @set in the superblock flags and wait until that is on
 * disk. Process context (messages).
 */
static void im_md_change_flags(struct incmirror *mc, u32 set, u32 clear)
{
	struct im_metadata *md = mc->md;

	if (!md)
		return;
	spin_lock_irq(&mc->lock);
	if ((md->flags & (set | clear)) != set) {
		md->flags = (md->flags & ~clear) | set;
		md->sb_pending = true;
	}
	spin_unlock_irq(&mc->lock);
	im_md_sync(mc);
}

/*
 * `start` survives a crash: the next load resumes copying by itself. It
 * also leaves `degraded` and `paused`.
 */
void im_md_set_started(struct incmirror *mc)
{
	im_md_change_flags(mc, IM_MD_STARTED, IM_MD_PAUSED);
}

/*
 * `start` left `degraded` (incmirror.lock held, in the same hold that
 * cleared it: a destination error right after sets it again, and the flag
 * on disk must follow). im_md_set_started() writes it.
 */
void im_md_undegraded_locked(struct incmirror *mc)
{
	struct im_metadata *md = mc->md;

	if (!md || !(md->flags & IM_MD_DEGRADED))
		return;
	md->flags &= ~IM_MD_DEGRADED;
	md->sb_pending = true;
}

/* `pause` survives a crash too: status must not say less than the truth. */
void im_md_set_paused(struct incmirror *mc)
{
	im_md_change_flags(mc, IM_MD_PAUSED, 0);
}

/*
 * The target entered `degraded` (any context, incmirror.lock held): so
 * does the next load, until a `start`. The next round writes it.
 */
void im_md_degraded_locked(struct incmirror *mc)
{
	struct im_metadata *md = mc->md;

	if (!md || (md->flags & IM_MD_DEGRADED))
		return;
	md->flags |= IM_MD_DEGRADED;
	md->sb_pending = true;
	im_md_kick(md);
}

/*
 * Hand-over to a table with another metadata device, or none (from the
 * successor's first preresume; @old is suspended, its work cancelled): the
 * map on @old's device is frozen from now on, so it must never be loaded
 * as the current one. It asks for a full copy instead, and is no longer
 * clean.
 */
void im_md_retire(struct incmirror *old)
{
	struct im_metadata *md = old->md;
	int r;

	mutex_lock(&md->io_mutex);
	if (!md->failed) {
		md->flags = (md->flags & ~IM_MD_CLEAN) | IM_MD_NEEDS_FULL_COPY;
		r = im_md_write_sb(md, md->flags);
		if (r)
			DMERR("%s: cannot mark the replaced metadata device stale (%d): do not load it again",
			      im_md_name(md), r);
		else
			DMINFO("%s: the replaced metadata device is marked stale (a full copy if loaded again)",
			       im_md_name(md));
	}
	mutex_unlock(&md->io_mutex);
}

enum im_md_state im_md_state_locked(struct incmirror *mc)
{
	if (!mc->md)
		return IM_MD_NONE;
	return mc->md->failed ? IM_MD_FAILED : IM_MD_OK;
}

/*
 * First resume without a predecessor: the map is the device's bitmap (all
 * of it with NEEDS_FULL_COPY). The superblock is read again: the instance
 * this table replaced may have changed its flags since the constructor.
 */
static int im_md_load(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	struct im_disk_sb *sb;
	char *error = NULL;
	u64 blk;
	int r;

	r = im_md_read_sb(md, &sb, &error);
	if (!r && !sb)
		r = -EINVAL;
	if (!r)
		r = im_md_check_sb(sb, &error);
	if (!r)
		r = im_md_check_geometry(md, sb, &error);
	if (r) {
		DMERR("%s: metadata superblock unusable at resume: %s",
		      im_md_name(md), error ? error : "zeroed");
		return r;
	}
	md->generation = le64_to_cpu(sb->generation);
	md->flags = le32_to_cpu(sb->flags) & ~IM_MD_CLEAN;

	r = im_md_read_bitmap(md);
	if (r) {
		DMERR("%s: cannot read the metadata bitmap (%d)",
		      im_md_name(md), r);
		return r;
	}
	if (md->flags & IM_MD_NEEDS_FULL_COPY) {
		/* One block per hold of the lock (IM_LOCK_CHUNK). */
		for (blk = 0; blk < md->nr_blocks; blk++) {
			spin_lock_irq(&mc->lock);
			bitmap_set(md->image, blk * IM_MD_BITS_PER_BLOCK,
				   im_md_block_bits(md, blk));
			__set_bit(blk, md->blk_pending);
			spin_unlock_irq(&mc->lock);
			cond_resched();
		}
		md->flags &= ~IM_MD_NEEDS_FULL_COPY;
	}
	return 0;
}

/*
 * Before a handed-over map's clean bits go to disk: the predecessor's
 * copies and writes completed, but maybe only into the legs' volatile
 * caches (it flushes nothing when it had no metadata device, or a failed
 * one: adding or replacing one by reload is the way out of that). A clean
 * bit on disk is only for data stable on both legs, so flush both first.
 * Where a flush fails nothing is known to be stable: every region stays
 * dirty, and a failed destination flush counts as a destination error.
 */
static void im_md_handover_flush(struct im_metadata *md)
{
	struct incmirror *mc = md->mc;
	int rs, rd;

	rs = blkdev_issue_flush(mc->source->bdev);
	rd = blkdev_issue_flush(mc->dest->bdev);
	if (!rs && !rd)
		return;
	DMERR("%s: flushing the %s before recording the handed-over map failed: every region dirty",
	      im_md_name(md), rs ? (rd ? "legs" : "source") : "destination");
	if (rd) {
		spin_lock_irq(&mc->lock);
		im_dest_error_locked(mc);
		spin_unlock_irq(&mc->lock);
	}
	im_mark_dirty_range(mc, 0, mc->nr_regions - 1);
}

void im_md_resume(struct incmirror *mc, bool handed_over)
{
	struct im_metadata *md = mc->md;
	int r;

	mutex_lock(&md->io_mutex);
	if (handed_over) {
		/* The predecessor's exact map goes to this device. */
		im_md_handover_flush(md);
		im_md_image_from_map(md);
		spin_lock_irq(&mc->lock);
		bitmap_fill(md->blk_pending, md->nr_blocks);
		md->flags = mc->run == IM_RUN_LOADING ? 0 : IM_MD_STARTED;
		if (mc->run == IM_RUN_PAUSED)
			md->flags |= IM_MD_PAUSED;
		if (mc->degraded)
			md->flags |= IM_MD_DEGRADED;
		spin_unlock_irq(&mc->lock);
		md->loaded = true;
	} else if (!md->loaded) {
		r = im_md_load(md);
		if (r) {
			/* Nothing known: the safe state is a full copy. */
			im_mark_dirty_range(mc, 0, mc->nr_regions - 1);
			im_md_fail(md, r);
		} else {
			im_md_map_from_image(md);
		}
		spin_lock_irq(&mc->lock);
		if (md->flags & IM_MD_DEGRADED) {
			/* Whatever failed may still be failing: `start` says. */
			mc->degraded = true;
			mc->errors_since_start = mc->error_threshold;
		}
		if (md->flags & IM_MD_STARTED)
			mc->run = md->flags & IM_MD_PAUSED ? IM_RUN_PAUSED :
				IM_RUN_COPYING;
		else if (mc->incremental)
			mc->run = IM_RUN_LOADING;
		else
			md->flags |= IM_MD_STARTED;
		spin_unlock_irq(&mc->lock);
		md->loaded = true;
	}

	spin_lock_irq(&mc->lock);
	md->flags &= ~IM_MD_CLEAN;
	md->sb_pending = true;
	md->live = true;
	spin_unlock_irq(&mc->lock);
	md->next_clear = jiffies + IM_MD_CLEAR_PERIOD;
	im_md_round(md);
	mutex_unlock(&md->io_mutex);

	queue_delayed_work(mc->wq, &md->work, IM_MD_CLEAR_PERIOD);
}

/*
 * Clean shutdown (postsuspend: nothing in flight, the copier stopped):
 * flush both legs, then write the exact map and the CLEAN flag.
 */
void im_md_suspend(struct incmirror *mc)
{
	struct im_metadata *md = mc->md;
	bool failed;

	mutex_lock(&md->io_mutex);
	spin_lock_irq(&mc->lock);
	md->live = false;
	failed = md->failed;
	spin_unlock_irq(&mc->lock);

	if (!failed && md->loaded) {
		/*
		 * A failed flush keeps the image, not the map: its bits
		 * cover every write the legs may have lost.
		 */
		if (im_md_flush_legs(md, "at suspend")) {
			im_md_image_from_map(md);
			spin_lock_irq(&mc->lock);
			md->flags |= IM_MD_CLEAN;
			md->sb_pending = true;
			spin_unlock_irq(&mc->lock);
		}
	}
	im_md_round(md);
	mutex_unlock(&md->io_mutex);

	cancel_delayed_work_sync(&md->work);
}

int im_md_create(struct incmirror *mc, struct dm_dev *dev, char **error)
{
	struct block_device *bdev = dev->bdev;
	struct im_metadata *md;
	struct im_disk_sb *sb;
	u64 words;
	int r;

	if (bdev_logical_block_size(bdev) > IM_MD_BLOCK_SIZE) {
		*error = "Metadata device has blocks larger than 4096 bytes";
		return -EINVAL;
	}
	if (bdev_nr_sectors(bdev) < im_md_needed_sectors(mc->nr_regions)) {
		*error = "Metadata device too small for this table";
		return -EINVAL;
	}

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md) {
		*error = "Cannot allocate metadata context";
		return -ENOMEM;
	}
	mc->md = md;
	md->mc = mc;
	md->dev = dev;
	md->nr_regions = mc->nr_regions;
	md->nr_blocks = DIV_ROUND_UP_ULL(mc->nr_regions, IM_MD_BITS_PER_BLOCK);
	mutex_init(&md->io_mutex);
	init_waitqueue_head(&md->round_wq);
	INIT_DELAYED_WORK(&md->work, im_md_work);
	bio_list_init(&md->waiting);

	words = BITS_TO_LONGS(md->nr_regions);
	md->image = kvcalloc(words, sizeof(long), GFP_KERNEL);
	md->hot = kvcalloc(words, sizeof(long), GFP_KERNEL);
	md->blk_pending = bitmap_zalloc(md->nr_blocks, GFP_KERNEL);
	md->blk_inflight = bitmap_zalloc(md->nr_blocks, GFP_KERNEL);
	md->buf = vzalloc(IM_MD_IO_BLOCKS * IM_MD_BLOCK_SIZE);
	md->scratch = kmalloc(IM_MD_BLOCK_SIZE, GFP_KERNEL);
	if (!md->image || !md->hot || !md->blk_pending || !md->blk_inflight ||
	    !md->buf || !md->scratch) {
		*error = "Cannot allocate the metadata bitmaps";
		return -ENOMEM;
	}

	r = im_md_owner(mc, md->owner);
	if (r) {
		*error = "Cannot read the name of the mapped device";
		return r;
	}

	r = im_md_read_sb(md, &sb, error);
	if (r)
		return r;
	if (!sb)
		return im_md_format(md, error);

	r = im_md_check_sb(sb, error);
	if (!r)
		r = im_md_check_geometry(md, sb, error);
	if (r)
		return r;
	memcpy(md->uuid, sb->uuid, sizeof(md->uuid));
	md->generation = le64_to_cpu(sb->generation);
	md->flags = le32_to_cpu(sb->flags);
	return 0;
}

/* After postsuspend, or for a table that never went live. */
void im_md_destroy(struct incmirror *mc)
{
	struct im_metadata *md = mc->md;

	if (!md)
		return;
	cancel_delayed_work_sync(&md->work);
	kfree(md->scratch);
	vfree(md->buf);
	bitmap_free(md->blk_inflight);
	bitmap_free(md->blk_pending);
	kvfree(md->hot);
	kvfree(md->image);
	kfree(md);
	mc->md = NULL;
}
