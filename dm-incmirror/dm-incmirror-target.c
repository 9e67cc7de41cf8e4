// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror placeholder: registers the "incmirror" target and maps every
 * bio to the first device, so that the build and the guest bench can be
 * proved before the real target lands.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#define DM_MSG_PREFIX "incmirror"

struct incmirror_placeholder {
	struct dm_dev *source;
};

static int incmirror_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct incmirror_placeholder *ip;
	int r;

	if (argc < 1) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}
	ip = kzalloc(sizeof(*ip), GFP_KERNEL);
	if (!ip)
		return -ENOMEM;
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &ip->source);
	if (r) {
		ti->error = "Error opening source device";
		kfree(ip);
		return r;
	}
	ti->private = ip;
	return 0;
}

static void incmirror_dtr(struct dm_target *ti)
{
	struct incmirror_placeholder *ip = ti->private;

	dm_put_device(ti, ip->source);
	kfree(ip);
}

static int incmirror_map(struct dm_target *ti, struct bio *bio)
{
	struct incmirror_placeholder *ip = ti->private;

	bio_set_dev(bio, ip->source->bdev);
	return DM_MAPIO_REMAPPED;
}

static struct target_type incmirror_target = {
	.name = "incmirror",
	.version = {0, 0, 1},
	.module = THIS_MODULE,
	.ctr = incmirror_ctr,
	.dtr = incmirror_dtr,
	.map = incmirror_map,
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

MODULE_DESCRIPTION(DM_NAME " incremental mirror target (placeholder)");
MODULE_LICENSE("GPL");
