/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: every difference between the kernel series we build for
 * (6.1.y and 6.12.y) lives here, so the rest of the code is version-free.
 *
 * Features are probed at build time (see Kbuild), never inferred from
 * LINUX_VERSION_CODE: stable series backport API changes (dm_io() gained
 * its ioprio argument in 6.9 and later 6.1.y kernels received it too).
 */
#ifndef DM_INCMIRROR_COMPAT_H
#define DM_INCMIRROR_COMPAT_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>

/*
 * dm_io(): INCMIRROR_DM_IO_HAS_IOPRIO is defined by Kbuild when the
 * installed <linux/dm-io.h> declares the ioprio argument.
 */
static inline int im_dm_io(struct dm_io_request *req, unsigned int num_regions,
			   struct dm_io_region *where,
			   unsigned long *sync_error_bits, unsigned short ioprio)
{
#ifdef INCMIRROR_DM_IO_HAS_IOPRIO
	return dm_io(req, num_regions, where, sync_error_bits, ioprio);
#else
	return dm_io(req, num_regions, where, sync_error_bits);
#endif
}

/*
 * dm_get_device() takes fmode_t on 6.1 and blk_mode_t on 6.12; passing the
 * table's own mode through keeps the type right on both. That mode is
 * always read and write: the target type is DM_TARGET_ALWAYS_WRITEABLE, so
 * dm core refuses a read-only table before the constructor runs, and the
 * source, destination and metadata device are all opened for writing.
 */
static inline int im_get_device(struct dm_target *ti, const char *path,
				struct dm_dev **result)
{
	return dm_get_device(ti, path, dm_table_get_mode(ti->table), result);
}

#endif /* DM_INCMIRROR_COMPAT_H */
