/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-incmirror: online verify (messages `verify` and `verify_stop`).
 */
#ifndef DM_INCMIRROR_VERIFY_H
#define DM_INCMIRROR_VERIFY_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct incmirror;

/* What status reports as verify=<...>. */
enum im_verify_state {
	IM_VERIFY_IDLE,		/* no verify since the table was loaded */
	IM_VERIFY_RUNNING,
	IM_VERIFY_DONE,		/* finished or stopped; counts are kept */
};

/*
 * Fields below "protected by incmirror.lock" are read and written with that
 * lock held; buffers and the work item belong to the verify worker.
 */
struct im_verify {
	struct delayed_work work;
	void *buf[2];		/* source and destination chunk */

	/* protected by incmirror.lock */
	enum im_verify_state state;
	bool repair;		/* mark mismatching regions dirty */
	bool stop;		/* verify_stop received */
	u64 next;		/* next region to compare */
	u64 end;		/* one past the last region of the window */
	unsigned int busy_tries;	/* retries of a region with writes */
	struct im_region *node;	/* entry of the region compared, or NULL */
	u64 verified;		/* regions compared */
	u64 mismatches;		/* regions that differed */
	u64 skipped;		/* regions not compared: never idle */
};

void im_verify_init(struct incmirror *mc);
void im_verify_exit(struct incmirror *mc);
int im_verify_start(struct incmirror *mc, bool repair, u64 first, u64 count);
bool im_verify_stop(struct incmirror *mc);
void im_verify_suspend(struct incmirror *mc);
void im_verify_resume(struct incmirror *mc);

#endif /* DM_INCMIRROR_VERIFY_H */
