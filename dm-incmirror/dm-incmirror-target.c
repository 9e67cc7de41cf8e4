// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: a device-mapper target that mirrors a live source device
 * onto a destination device. Reads go to the source; writes go to both;
 * a background copier brings dirty regions of the destination up to date.
 * With the `incremental` feature the destination is assumed to already hold
 * the source's data except for the regions userspace marks dirty, so only
 * those are copied (an incremental drive-mirror).
 *
 * See Documentation/dm-incmirror.rst for the interface, and
 * dm-incmirror.h for the locking and dirty-bit ordering rules.
 */
#include <linux/blkdev.h>
#include <linux/dm-io.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dm-incmirror.h"
#include "dm-incmirror-compat.h"

/*---------------------------------------------------------------------------
 * Run state (callers hold mc->lock)
 *---------------------------------------------------------------------------
 */
void im_dest_error_locked(struct incmirror *mc)
{
	mc->dest_errors++;
	mc->errors_since_start++;
	im_unflushed_redirty_later_locked(mc);
	if (!mc->degraded && mc->errors_since_start >= mc->error_threshold) {
		mc->degraded = true;
		im_md_degraded_locked(mc);
		DMERR("%s: destination failed %u times, entering degraded state",
		      dm_device_name(dm_table_get_md(mc->ti->table)),
		      mc->errors_since_start);
		/* dm_table_event() takes a mutex: raise it from the workqueue. */
		queue_work(mc->wq, &mc->event_work);
	}
}

bool im_copier_may_run_locked(struct incmirror *mc)
{
	return mc->run == IM_RUN_COPYING && !mc->degraded && !mc->suspending;
}

enum im_state im_state_locked(struct incmirror *mc)
{
	if (mc->degraded)
		return IM_STATE_DEGRADED;
	if (mc->run == IM_RUN_LOADING)
		return IM_STATE_LOADING;
	if (!region_map_count_dirty(mc->map) && !mc->copier.in_flight &&
	    !im_unflushed_pending_locked(mc) && !mc->marks_pending)
		return IM_STATE_SYNCED;
	return mc->run == IM_RUN_PAUSED ? IM_STATE_PAUSED : IM_STATE_COPYING;
}

/* Raise one event per transition into synced. */
void im_check_synced_locked(struct incmirror *mc)
{
	if (im_state_locked(mc) == IM_STATE_SYNCED && !mc->synced_reported) {
		mc->synced_reported = true;
		queue_work(mc->wq, &mc->event_work);
	}
}

static void im_event_work(struct work_struct *ws)
{
	struct incmirror *mc = container_of(ws, struct incmirror, event_work);

	/*
	 * The destination failed: what it had not flushed may be gone with
	 * it. Before the event, so that a map read after `degraded` covers it.
	 */
	if (READ_ONCE(mc->degraded))
		im_unflushed_redirty(mc);
	dm_table_event(mc->ti->table);
}

static const char *const im_md_state_names[] = {
	[IM_MD_NONE] = "none",
	[IM_MD_OK] = "ok",
	[IM_MD_FAILED] = "failed",
};

static const char *const im_verify_state_names[] = {
	[IM_VERIFY_IDLE] = "idle",
	[IM_VERIFY_RUNNING] = "running",
	[IM_VERIFY_DONE] = "done",
};

static const char *const im_state_names[] = {
	[IM_STATE_LOADING] = "loading",
	[IM_STATE_COPYING] = "copying",
	[IM_STATE_PAUSED] = "paused",
	[IM_STATE_SYNCED] = "synced",
	[IM_STATE_DEGRADED] = "degraded",
};

static int incmirror_map(struct dm_target *ti, struct bio *bio)
{
	struct incmirror *mc = ti->private;
	struct im_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	sector_t sector;

	pb->node = NULL;
	pb->flags = 0;

	/*
	 * Data bios never carry PREFLUSH: dm core splits it off. The block
	 * layer may strip the flag on its way down, so remember the bio kind.
	 */
	if (bio->bi_opf & REQ_PREFLUSH) {
		pb->flags = IM_BIO_FLUSH;
		return im_map_flush(mc, bio, pb);
	}

	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	bio->bi_iter.bi_sector = sector;

	if (!op_is_write(bio_op(bio))) {
		bio_set_dev(bio, mc->source->bdev);
		return DM_MAPIO_REMAPPED;
	}

	pb->first = sector >> mc->region_shift;
	pb->last = (sector + max(bio_sectors(bio), 1U) - 1) >> mc->region_shift;
	return im_map_write(mc, bio, pb);
}

static int incmirror_end_io(struct dm_target *ti, struct bio *bio,
			    blk_status_t *error)
{
	/* Reads carry no flags and hold no entry: they return at once. */
	return im_write_end_io(ti->private, bio, error);
}

/*---------------------------------------------------------------------------
 * Constructor / destructor
 *---------------------------------------------------------------------------
 */
static int im_parse_features(struct dm_arg_set *as, struct incmirror *mc,
			     const char **meta_path, char **error)
{
	static const struct dm_arg args[] = {
		{0, 10, "Invalid number of feature arguments"},
	};
	unsigned int argc, v;
	const char *name;

	if (!as->argc)
		return 0;

	/*
	 * dm_read_arg_group() reads the count with sscanf("%u"), which wraps
	 * 2^32 + 1 to 1: check it strictly first.
	 */
	if (kstrtouint(as->argv[0], 10, &argc) || argc > args[0].max) {
		*error = args[0].error;
		return -EINVAL;
	}
	if (dm_read_arg_group(args, as, &argc, error))
		return -EINVAL;

	while (argc) {
		name = dm_shift_arg(as);
		argc--;

		if (!strcasecmp(name, "incremental")) {
			mc->incremental = true;
			continue;
		}

		if (!strcasecmp(name, "dest_zeroed")) {
			mc->dest_zeroed = true;
			continue;
		}

		if (!strcasecmp(name, "metadata")) {
			if (!argc) {
				*error = "Feature metadata is missing its device";
				return -EINVAL;
			}
			if (*meta_path) {
				*error = "Feature metadata given twice";
				return -EINVAL;
			}
			argc--;
			*meta_path = dm_shift_arg(as);
			continue;
		}

		if (strcasecmp(name, "max_copy_rate") &&
		    strcasecmp(name, "copy_depth") &&
		    strcasecmp(name, "error_threshold")) {
			*error = "Unrecognised feature";
			return -EINVAL;
		}
		if (!argc) {
			*error = "Feature is missing its value";
			return -EINVAL;
		}
		argc--;
		if (kstrtouint(dm_shift_arg(as), 10, &v)) {
			*error = "Invalid feature value";
			return -EINVAL;
		}

		if (!strcasecmp(name, "max_copy_rate")) {
			mc->max_copy_rate = v;
		} else if (!strcasecmp(name, "copy_depth")) {
			if (v < 1 || v > IM_COPY_DEPTH_MAX) {
				*error = "Invalid copy_depth";
				return -EINVAL;
			}
			mc->copy_depth = v;
		} else {
			if (v < 1 || v > IM_MAX_ERROR_THRESHOLD) {
				*error = "Invalid error_threshold";
				return -EINVAL;
			}
			mc->error_threshold = v;
		}
	}

	if (as->argc) {
		*error = "Feature argument count does not match the arguments";
		return -EINVAL;
	}
	return 0;
}

static void im_destroy(struct incmirror *mc)
{
	im_instance_unregister(mc);
	if (mc->wq) {
		/* Both may touch the metadata, which goes next. */
		cancel_work_sync(&mc->event_work);
		/* No bio is left for it: it can only be finishing. */
		cancel_work_sync(&mc->mark_work);
		im_unflushed_stop(mc);
		im_verify_exit(mc);
		im_md_destroy(mc);
		im_copier_exit(mc);
		destroy_workqueue(mc->wq);
	}
	if (mc->write_ready)
		im_write_exit(mc);
	im_regions_exit(mc);
	im_unflushed_exit(mc);
	if (mc->io_client)
		dm_io_client_destroy(mc->io_client);
	if (mc->map)
		region_map_destroy(mc->map);
	if (mc->meta_dev)
		dm_put_device(mc->ti, mc->meta_dev);
	if (mc->dest)
		dm_put_device(mc->ti, mc->dest);
	if (mc->source)
		dm_put_device(mc->ti, mc->source);
	kfree(mc);
}

/*
 * <source_dev> <dest_dev> <region_sectors> [<#features> <feature>...]
 */
static int incmirror_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	const char *meta_path = NULL;
	struct dm_arg_set as;
	struct incmirror *mc;
	unsigned long long rs;
	int r;

	if (argc < 3) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}

	mc = kzalloc(sizeof(*mc), GFP_KERNEL);
	if (!mc) {
		ti->error = "Cannot allocate incmirror context";
		return -ENOMEM;
	}
	mc->ti = ti;
	mc->copy_depth = IM_DEFAULT_COPY_DEPTH;
	mc->error_threshold = IM_DEFAULT_ERROR_THRESHOLD;
	spin_lock_init(&mc->lock);
	mutex_init(&mc->msg_mutex);
	INIT_LIST_HEAD(&mc->instances);
	bio_list_init(&mc->ready);
	bio_list_init(&mc->mark_bios);
	INIT_WORK(&mc->event_work, im_event_work);
	INIT_WORK(&mc->mark_work, im_mark_work);
	im_verify_init(mc);
	/* The copier starts on the first resume. */
	mc->suspending = true;

	r = -EINVAL;
	if (kstrtoull(argv[2], 10, &rs)) {
		ti->error = "Invalid region size";
		goto bad;
	}
	if (rs < IM_MIN_REGION_SECTORS) {
		ti->error = "Region size must be at least 8 sectors";
		goto bad;
	}
	if (!is_power_of_2(rs)) {
		ti->error = "Region size must be a power of two";
		goto bad;
	}
	if (rs > IM_MAX_REGION_SECTORS) {
		ti->error = "Region size must be at most 2097152 sectors (1 GiB)";
		goto bad;
	}
	mc->region_sectors = rs;
	mc->region_shift = __ffs64(rs);

	as.argc = argc - 3;
	as.argv = argv + 3;
	r = im_parse_features(&as, mc, &meta_path, &ti->error);
	if (r)
		goto bad;

	r = im_get_device(ti, argv[0], &mc->source);
	if (r) {
		mc->source = NULL;
		ti->error = "Error opening source device";
		goto bad;
	}
	r = im_get_device(ti, argv[1], &mc->dest);
	if (r) {
		mc->dest = NULL;
		ti->error = "Error opening destination device";
		goto bad;
	}
	r = -EINVAL;
	if (mc->source->bdev == mc->dest->bdev) {
		ti->error = "Source and destination are the same device";
		goto bad;
	}
	if (bdev_nr_sectors(mc->source->bdev) < ti->len) {
		ti->error = "Source device is smaller than the target";
		goto bad;
	}
	if (bdev_nr_sectors(mc->dest->bdev) < ti->len) {
		ti->error = "Destination device is smaller than the target";
		goto bad;
	}

	mc->nr_regions = DIV_ROUND_UP_ULL(ti->len, rs);
	if (mc->nr_regions > REGION_MAP_MAX_REGIONS) {
		ti->error = "Too many regions: use larger regions";
		goto bad;
	}

	if (meta_path) {
		r = im_get_device(ti, meta_path, &mc->meta_dev);
		if (r) {
			mc->meta_dev = NULL;
			ti->error = "Error opening metadata device";
			goto bad;
		}
		r = -EINVAL;
		if (mc->meta_dev->bdev == mc->source->bdev ||
		    mc->meta_dev->bdev == mc->dest->bdev) {
			ti->error = "Metadata device is the source or the destination";
			goto bad;
		}
	}

	r = im_unflushed_init(mc);
	if (r) {
		ti->error = "Cannot allocate the unflushed region set";
		goto bad;
	}

	/* Before the metadata is formatted: refuses devices in use elsewhere. */
	r = im_instance_register(mc, &ti->error);
	if (r)
		goto bad;

	r = -ENOMEM;
	mc->map = region_map_create_core(mc->nr_regions, !mc->incremental);
	if (!mc->map) {
		ti->error = "Cannot allocate region map";
		goto bad;
	}
	mc->run = mc->incremental ? IM_RUN_LOADING : IM_RUN_COPYING;

	mc->io_client = dm_io_client_create();
	if (IS_ERR(mc->io_client)) {
		r = PTR_ERR(mc->io_client);
		mc->io_client = NULL;
		ti->error = "Cannot create dm-io client";
		goto bad;
	}

	r = im_regions_init(mc);
	if (r) {
		ti->error = "Cannot allocate active region pool";
		goto bad;
	}

	r = im_write_init(mc);
	if (r) {
		ti->error = "Cannot allocate write clone pools";
		goto bad;
	}
	mc->write_ready = true;

	mc->wq = alloc_workqueue("dm-incmirror", WQ_MEM_RECLAIM, 0);
	if (!mc->wq) {
		r = -ENOMEM;
		ti->error = "Cannot allocate workqueue";
		goto bad;
	}

	r = im_copier_init(mc);
	if (r) {
		ti->error = "Cannot set up the copier";
		goto bad;
	}

	if (mc->meta_dev) {
		r = im_md_create(mc, mc->meta_dev, &ti->error);
		if (r)
			goto bad;
	}

	/* One region per write: the exclusion works region by region. */
	r = dm_set_target_max_io_len(ti, rs);
	if (r) {
		ti->error = "Cannot set the maximum I/O length";
		goto bad;
	}

	ti->num_flush_bios = 2;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	/* Discards still reach the source when the destination lacks them. */
	ti->discards_supported = true;
	ti->per_io_data_size = sizeof(struct im_bio);
	ti->private = mc;
	return 0;

bad:
	im_destroy(mc);
	return r;
}

static void incmirror_dtr(struct dm_target *ti)
{
	im_destroy(ti->private);
}

/*---------------------------------------------------------------------------
 * Suspend / resume
 *---------------------------------------------------------------------------
 */

/*
 * Stop starting copies and wait for those in flight. Writes parked behind
 * a copy are issued by the worker when it ends; dm core then waits for them
 * like for any other bio, so after postsuspend nothing destination-bound is
 * in flight.
 */
static void incmirror_presuspend(struct dm_target *ti)
{
	struct incmirror *mc = ti->private;

	spin_lock_irq(&mc->lock);
	mc->suspending = true;
	spin_unlock_irq(&mc->lock);

	im_verify_suspend(mc);
	im_copier_drain(mc);
}

/* Nothing is in flight now: the metadata gets the exact map. */
static void incmirror_postsuspend(struct dm_target *ti)
{
	struct incmirror *mc = ti->private;

	im_copier_stop(mc);
	/* A redirty after a destination error is part of the map. */
	im_unflushed_stop(mc);
	/*
	 * Writes that reached a failed destination after it entered degraded
	 * are in flight no more: cover them too, for a map read while
	 * suspended or handed over.
	 */
	if (READ_ONCE(mc->degraded))
		im_unflushed_redirty(mc);
	if (mc->md)
		im_md_suspend(mc);
	if (mc->resumed_once)
		WRITE_ONCE(mc->suspended_live, true);
}

/*
 * The map is set up at the first resume, not in the constructor: until
 * now the table this one replaces was live and still changing its map
 * (and its metadata). Take over its state if there is one
 * (dm-incmirror-handover.c), else load the metadata, else keep the map of
 * the constructor.
 */
static int incmirror_preresume(struct dm_target *ti)
{
	struct incmirror *mc = ti->private;
	bool handed_over = false;

	mutex_lock(&mc->msg_mutex);
	if (!mc->resumed_once) {
		handed_over = im_handover_take(mc);
		/*
		 * A map from an existing metadata device outlived a table whose
		 * writes reached the destination: dest_zeroed cannot be trusted.
		 */
		if (!handed_over && mc->md && !mc->md->formatted)
			im_dest_touch_all(mc);
	}
	if (mc->md)
		im_md_resume(mc, handed_over);
	mc->resumed_once = true;
	mutex_unlock(&mc->msg_mutex);
	return 0;
}

static void incmirror_resume(struct dm_target *ti)
{
	struct incmirror *mc = ti->private;

	WRITE_ONCE(mc->suspended_live, false);
	spin_lock_irq(&mc->lock);
	mc->suspending = false;
	spin_unlock_irq(&mc->lock);

	im_copier_kick(mc);
	im_verify_resume(mc);
}

/*---------------------------------------------------------------------------
 * Status and device iteration
 *---------------------------------------------------------------------------
 */
static void incmirror_status(struct dm_target *ti, status_type_t type,
			     unsigned int status_flags, char *result,
			     unsigned int maxlen)
{
	struct incmirror *mc = ti->private;
	unsigned long long dirty, copied, dest_errors, verified, mismatches;
	unsigned long long zeroed;
	enum im_verify_state verify;
	unsigned int in_flight, rate, max_rate, nfeat;
	enum im_md_state md_state;
	enum im_state state;
	unsigned long flags;
	unsigned int sz = 0;

	spin_lock_irqsave(&mc->lock, flags);
	state = im_state_locked(mc);
	dirty = region_map_count_dirty(mc->map);
	in_flight = mc->copier.in_flight;
	dest_errors = mc->dest_errors;
	copied = mc->copier.copied_sectors;
	rate = im_copier_rate_locked(mc);
	max_rate = mc->max_copy_rate;
	md_state = im_md_state_locked(mc);
	verify = mc->verify.state;
	verified = mc->verify.verified;
	mismatches = mc->verify.mismatches;
	zeroed = mc->copier.zeroed_regions;
	spin_unlock_irqrestore(&mc->lock, flags);

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s %llu/%llu %llu %llu %llu %u %u %u metadata=%s verify=%s %llu %llu zeroed=%llu",
		       im_state_names[state],
		       mc->nr_regions - dirty, mc->nr_regions,
		       (unsigned long long)mc->region_sectors, dest_errors,
		       copied, rate, max_rate, in_flight,
		       im_md_state_names[md_state], im_verify_state_names[verify],
		       verified, mismatches, zeroed);
		break;

	case STATUSTYPE_TABLE:
		/*
		 * Only non-default features. max_copy_rate is the current
		 * value, so a reload keeps a rate set by message.
		 */
		nfeat = (mc->incremental ? 1 : 0) + (mc->dest_zeroed ? 1 : 0) +
			(max_rate ? 2 : 0) +
			(mc->copy_depth != IM_DEFAULT_COPY_DEPTH ? 2 : 0) +
			(mc->error_threshold != IM_DEFAULT_ERROR_THRESHOLD ?
			 2 : 0) + (mc->meta_dev ? 2 : 0);
		DMEMIT("%s %s %llu", mc->source->name, mc->dest->name,
		       (unsigned long long)mc->region_sectors);
		if (!nfeat)
			break;
		DMEMIT(" %u", nfeat);
		if (mc->incremental)
			DMEMIT(" incremental");
		if (mc->dest_zeroed)
			DMEMIT(" dest_zeroed");
		if (max_rate)
			DMEMIT(" max_copy_rate %u", max_rate);
		if (mc->copy_depth != IM_DEFAULT_COPY_DEPTH)
			DMEMIT(" copy_depth %u", mc->copy_depth);
		if (mc->error_threshold != IM_DEFAULT_ERROR_THRESHOLD)
			DMEMIT(" error_threshold %u", mc->error_threshold);
		if (mc->meta_dev)
			DMEMIT(" metadata %s", mc->meta_dev->name);
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",source_name=%s,dest_name=%s,region_sectors=%llu,state=%s,metadata=%s;",
		       mc->source->name, mc->dest->name,
		       (unsigned long long)mc->region_sectors,
		       im_state_names[state], im_md_state_names[md_state]);
		break;
	}
}

/*
 * Both legs: so that queue limits (write cache, FUA, ...) cover both. Not
 * the metadata device, whose limits are no business of the mapped device
 * (as for dm-clone's and dm-cache's metadata).
 */
static int incmirror_iterate_devices(struct dm_target *ti,
				     iterate_devices_callout_fn fn, void *data)
{
	struct incmirror *mc = ti->private;
	int r;

	r = fn(ti, mc->source, 0, ti->len, data);
	if (!r)
		r = fn(ti, mc->dest, 0, ti->len, data);
	return r;
}

/*
 * DM_TARGET_ALWAYS_WRITEABLE: dm core refuses a read-only table of this
 * type ("target type may not be included in a read-only table"), as for
 * dm-thin's pool. The target writes the destination and the metadata
 * whatever the mapped device's mode, and the block layer only warns about
 * writes to a read-only mapped device, so they would reach the source too:
 * a read-only mirror would be a promise the target cannot keep. So every
 * device is opened read-write (im_get_device()).
 */
static struct target_type incmirror_target = {
	.name = "incmirror",
	.version = {1, 2, 0},
	.features = DM_TARGET_ALWAYS_WRITEABLE,
	.module = THIS_MODULE,
	.ctr = incmirror_ctr,
	.dtr = incmirror_dtr,
	.map = incmirror_map,
	.end_io = incmirror_end_io,
	.presuspend = incmirror_presuspend,
	.presuspend_undo = incmirror_resume,
	.postsuspend = incmirror_postsuspend,
	.preresume = incmirror_preresume,
	.resume = incmirror_resume,
	.status = incmirror_status,
	.message = im_message,
	.iterate_devices = incmirror_iterate_devices,
};

static int __init dm_incmirror_init(void)
{
	return dm_register_target(&incmirror_target);
}

static void __exit dm_incmirror_exit(void)
{
	dm_unregister_target(&incmirror_target);
}

module_init(dm_incmirror_init);
module_exit(dm_incmirror_exit);

MODULE_DESCRIPTION(DM_NAME " incremental mirror target");
MODULE_LICENSE("GPL");
