/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: what the destination may hold only in its volatile cache.
 *
 * A write (or a copy) that completed on the destination is durable only
 * after a destination flush issued after its completion has succeeded. A
 * destination that fails and comes back (an NBD server whose host crashed,
 * a disk that lost power) may have lost exactly those writes, while the
 * map says their regions are in sync. This set remembers them, coarsely,
 * until a flush covers them. After every destination error (below the
 * error threshold too: a destination can lose its cache and answer again),
 * when the target enters `degraded`, is suspended while degraded, and when
 * `start` leaves `degraded`, every region of the set is marked dirty again,
 * so it is copied once more. After an error that is done by a work item;
 * until it has run, the target is not reported synced and the metadata
 * clears no bit (im_unflushed_pending_locked()).
 *
 * The set is two small bitmaps of "chunks" (a chunk is 2^shift regions, so
 * that there are at most IM_UNFLUSHED_BITS chunks):
 * - @noted: chunks written since the last destination flush was issued.
 *   Set with atomic bit operations from completions, without the lock.
 * - @flushing: chunks that the destination flushes in flight cover.
 *   Changed only under incmirror.lock.
 * Issuing a flush moves @noted into @flushing word by word with xchg(), so
 * a bit set meanwhile lands in one of the two. @flushing is forgotten when
 * every flush in flight has succeeded: each of its bits was moved there
 * before one of those flushes was issued.
 */
#ifndef DM_INCMIRROR_UNFLUSHED_H
#define DM_INCMIRROR_UNFLUSHED_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct incmirror;

/* At most this many chunks: moving a set at each flush stays cheap. */
#define IM_UNFLUSHED_BITS	8192

struct im_unflushed {
	unsigned long *noted;
	unsigned long *flushing;	/* protected by incmirror.lock */
	unsigned int shift;		/* regions per chunk: 2^shift */
	unsigned int nr_chunks;
	unsigned int flushes;		/* in flight; protected by the lock */
	bool failed;			/* one of them failed; the lock too */
	/* Redirty requests after errors; protected by the lock. */
	u64 redirty_asked;
	u64 redirty_done;
	struct work_struct work;	/* runs im_unflushed_redirty() */
	bool work_ready;
};

int im_unflushed_init(struct incmirror *mc);
void im_unflushed_exit(struct incmirror *mc);
void im_unflushed_note(struct incmirror *mc, u64 first, u64 last);
void im_unflushed_flush_issue_locked(struct incmirror *mc);
void im_unflushed_flush_end_locked(struct incmirror *mc, bool ok);
void im_unflushed_redirty(struct incmirror *mc);
void im_unflushed_redirty_later_locked(struct incmirror *mc);
bool im_unflushed_pending_locked(struct incmirror *mc);
void im_unflushed_stop(struct incmirror *mc);
void im_unflushed_take(struct incmirror *mc, struct incmirror *old);

#endif /* DM_INCMIRROR_UNFLUSHED_H */
