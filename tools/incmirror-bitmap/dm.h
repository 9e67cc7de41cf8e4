/* SPDX-License-Identifier: GPL-2.0 */
/* Talking to a live dm-incmirror device through libdevmapper. */
#ifndef IMB_DM_H
#define IMB_DM_H

#include <stdint.h>

#include "bitmap.h"

struct dmdev {
	const char *arg;	/* as given: NAME, /dev/mapper/NAME or /dev/dm-N */
	uint32_t major, minor;	/* set when arg is a block device node */
	int by_devno;
	uint64_t len_sectors;	/* table length */
	uint64_t region_sectors;
};

/* Read the table: exactly one incmirror target. Returns 0 or EXIT_DEVICE (printed). */
int dm_open_target(struct dmdev *d, const char *arg);
/* Send a message to sector 0; *resp (may be NULL) gets a malloc'd copy of the response
 * (empty string if none). Returns 0 or EXIT_DEVICE (printed). */
int dm_message(const struct dmdev *d, const char *msg, char **resp);
/* Read the whole dirty map into bm (bm->nbits = total regions). Returns 0 or EXIT_*. */
int dm_read_map(const struct dmdev *d, struct bitmap *bm, uint64_t *messages);

#endif
