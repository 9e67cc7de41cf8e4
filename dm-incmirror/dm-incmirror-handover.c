// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: handing the dirty map over from one table to the next.
 *
 * A table reload creates a new target instance while the old one is still
 * live; dm then suspends the old table, swaps the tables and resumes the
 * new one (preresume), and only then destroys the old table. So at the new
 * instance's first preresume its predecessor is suspended (no I/O, copier
 * stopped and drained) but still exists: the new instance takes its map
 * and its run state then, as dm-snapshot hands its exception store over.
 *
 * A predecessor is an instance of the same mapped device with the same
 * source and destination that went live and is suspended now. With the
 * same region size and the same length in sectors the map itself moves
 * over; otherwise it is rescaled: a new region is dirty when any old region
 * it overlaps is dirty or when it reaches past the old table's end. The
 * same number of regions is not enough: a table that grows by less than a
 * region keeps its region count, and the grown part of its last region was
 * never mirrored.
 *
 * All instances are on one list under im_instances_lock, which also keeps
 * a mapped device from writing a device another one uses (see
 * im_instance_register()).
 */
#include <linux/mutex.h>
#include <linux/sched.h>

#include "dm-incmirror.h"

static LIST_HEAD(im_instances);
static DEFINE_MUTEX(im_instances_lock);


static bool im_same_md(struct incmirror *a, struct incmirror *b)
{
	return dm_table_get_md(a->ti->table) == dm_table_get_md(b->ti->table);
}

static bool im_same_bdev(struct dm_dev *a, struct dm_dev *b)
{
	return a && b && a->bdev->bd_dev == b->bdev->bd_dev;
}

/* Whether @d is one of the devices @o writes: its destination or metadata. */
static bool im_writes_to(struct incmirror *o, struct dm_dev *d)
{
	return im_same_bdev(o->dest, d) || im_same_bdev(o->meta_dev, d);
}

/* Whether @d is any device of @o. */
static bool im_uses(struct incmirror *o, struct dm_dev *d)
{
	return im_same_bdev(o->source, d) || im_writes_to(o, d);
}

/*
 * Another mapped device's destination or metadata device is written behind
 * that device's back by anyone else, and its source would be changed
 * behind its back by a mirror writing to it: refuse all of those. Sharing a
 * source between two mirrors (both only write it through their own mapped
 * device) is allowed, as for two linear targets.
 */
int im_instance_register(struct incmirror *mc, char **error)
{
	struct incmirror *o;
	int r = 0;

	mutex_lock(&im_instances_lock);
	list_for_each_entry(o, &im_instances, instances) {
		if (im_same_md(o, mc))
			continue;
		if (im_uses(o, mc->dest)) {
			*error = "Destination is in use by another incmirror device";
			r = -EBUSY;
			break;
		}
		if (mc->meta_dev && im_uses(o, mc->meta_dev)) {
			*error = "Metadata device is in use by another incmirror device";
			r = -EBUSY;
			break;
		}
		if (im_writes_to(o, mc->source)) {
			*error = "Source is written by another incmirror device";
			r = -EBUSY;
			break;
		}
	}
	if (!r)
		list_add(&mc->instances, &im_instances);
	mutex_unlock(&im_instances_lock);
	return r;
}

void im_instance_unregister(struct incmirror *mc)
{
	mutex_lock(&im_instances_lock);
	list_del_init(&mc->instances);
	mutex_unlock(&im_instances_lock);
}

static struct incmirror *im_find_predecessor(struct incmirror *mc)
{
	struct incmirror *o;

	list_for_each_entry(o, &im_instances, instances)
		if (o != mc && im_same_md(o, mc) &&
		    im_same_bdev(o->source, mc->source) &&
		    im_same_bdev(o->dest, mc->dest) &&
		    READ_ONCE(o->suspended_live))
			return o;
	return NULL;
}

/*
 * The predecessor is suspended and no longer live: nothing changes its map
 * any more, so it is read without its lock. A hold of the new instance's
 * lock sets at most IM_LOCK_CHUNK regions and scans at most IM_LOCK_CHUNK
 * words of the old map (a 1 GiB region covers 16384 regions of 64 KiB).
 */
static void im_rescale_map(struct incmirror *old, struct incmirror *mc)
{
	u64 n, first, last, budget;
	sector_t start, end;
	bool dirty;

	for (n = 0; n < mc->nr_regions;) {
		spin_lock_irq(&mc->lock);
		for (budget = 0; n < mc->nr_regions && budget < IM_LOCK_CHUNK;
		     n++) {
			start = im_region_start(mc, n);
			end = start + im_region_len(mc, n);
			if (end > old->ti->len) {
				dirty = true;
			} else {
				first = start >> old->region_shift;
				last = (end - 1) >> old->region_shift;
				dirty = region_map_find_next_dirty(old->map, first,
								   last + 1) <= last;
				budget += (last - first) / BITS_PER_LONG;
			}
			budget++;
			if (dirty)
				region_map_mark_dirty(mc->map, n);
			else
				region_map_mark_clean(mc->map, n);
		}
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}
}

/* Whether @old's map and dest_touched describe @mc's regions exactly. */
static bool im_same_geometry(struct incmirror *old, struct incmirror *mc)
{
	return old->region_sectors == mc->region_sectors &&
		old->ti->len == mc->ti->len;
}

/*
 * Called from the first preresume of @mc (msg_mutex held). Returns true if
 * a predecessor's state was taken over.
 */
bool im_handover_take(struct incmirror *mc)
{
	struct region_map *theirs = NULL, *mine;
	struct incmirror *old;
	u64 copied, zeroed, dest_errors, dirty;
	unsigned int errors;
	enum im_run run;
	bool degraded;

	mutex_lock(&im_instances_lock);
	old = im_find_predecessor(mc);
	if (old)
		/* Taken once: a later table finds this instance instead. */
		WRITE_ONCE(old->suspended_live, false);
	mutex_unlock(&im_instances_lock);
	if (!old)
		return false;

	/* Only this function (under msg_mutex) replaces mc->map now. */
	mine = mc->map;
	spin_lock_irq(&old->lock);
	if (im_same_geometry(old, mc)) {
		theirs = old->map;
		/* The old instance only has its destructor left to run. */
		old->map = mine;
	}
	run = old->run;
	degraded = old->degraded;
	errors = old->errors_since_start;
	dest_errors = old->dest_errors;
	copied = old->copier.copied_sectors;
	zeroed = old->copier.zeroed_regions;
	spin_unlock_irq(&old->lock);

	/*
	 * dest_zeroed: what the destination may hold carries over only from a
	 * predecessor that tracked it on the same regions (rule 6 of
	 * dm-incmirror-region.c). Neither instance's lock is needed: @old is
	 * suspended (no I/O, no copy changes its set), mc is not live yet.
	 */
	if (mc->dest_touched) {
		if (old->dest_touched && im_same_geometry(old, mc))
			bitmap_copy(mc->dest_touched, old->dest_touched,
				    mc->nr_regions);
		else
			im_dest_touch_all(mc);
	}

	if (!theirs)
		im_rescale_map(old, mc);
	im_unflushed_take(mc, old);
	/* Its map lives on elsewhere: the old metadata device is stale. */
	if (old->md && !im_same_bdev(old->meta_dev, mc->meta_dev))
		im_md_retire(old);

	spin_lock_irq(&mc->lock);
	if (theirs)
		mc->map = theirs;
	mc->run = run;
	mc->degraded = degraded;
	mc->errors_since_start = errors;
	mc->dest_errors = dest_errors;
	mc->copier.copied_sectors = copied;
	mc->copier.zeroed_regions = zeroed;
	mc->synced_reported = false;
	dirty = region_map_count_dirty(mc->map);
	spin_unlock_irq(&mc->lock);

	DMINFO("%s: took over the dirty map of the replaced table (%llu of %llu regions dirty)",
	       dm_device_name(dm_table_get_md(mc->ti->table)), dirty,
	       mc->nr_regions);
	return true;
}
