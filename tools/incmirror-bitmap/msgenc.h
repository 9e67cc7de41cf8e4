/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Encode a region bitmap as dm-incmirror messages: `set_dirty <ranges>` and
 * `set_dirty_hex <first> <hex>`, choosing per chunk of MSGENC_CHUNK regions
 * whichever text is shorter, and packing each kind into messages of at most
 * max_len bytes (without the terminating NUL).
 */
#ifndef IMB_MSGENC_H
#define IMB_MSGENC_H

#include <stddef.h>

#include "bitmap.h"

#define MSGENC_CHUNK 4096		/* regions per decision (1024 hex digits) */
#define MSGENC_MAX_DEFAULT 65536	/* default message size limit, bytes */
#define MSGENC_MIN 1200			/* smallest accepted limit: one chunk of hex + header */

/* called for each message (NUL-terminated, len bytes); non-zero return stops encoding */
typedef int (*msg_cb)(void *arg, const char *msg, size_t len);

/* returns 0, -1 on ENOMEM, or the callback's non-zero value */
int msgenc_run(const struct bitmap *bm, size_t max_len, msg_cb cb, void *arg);

/* Apply one message to bm as the target would (validating fully first).
 * Returns 0 or -1 if the message is malformed or out of range. For tests. */
int msg_apply(struct bitmap *bm, const char *msg);

#endif
