// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-incmirror: target messages.
 *
 * dm core does not serialise messages against I/O or suspend, so every
 * message takes incmirror.lock for what it reads or changes. Each message is
 * parsed and validated completely before anything changes; a malformed one
 * returns -EINVAL with a warning and leaves the target as it was.
 *
 * Messages are serialised with each other and with the first resume by
 * msg_mutex. With metadata, set_dirty and set_dirty_hex return once what
 * they set is durable, and start once it is recorded on disk.
 *
 * Walks over the map hold the lock for at most IM_MSG_CHUNK regions
 * (get_dirty, which formats its ranges under it, and set_dirty_hex, which
 * may mark a run per two regions), IM_HEX_CHUNK regions (get_dirty_hex,
 * which formats them after unlocking) or IM_LOCK_CHUNK regions (set_dirty)
 * at a time, so that a huge map never keeps interrupts off for long; their
 * view is therefore not one atomic snapshot, which is no weaker than the
 * map changing right after the message.
 */
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "dm-incmirror.h"

#define IM_MSG_CHUNK		(1ULL << 12)
#define IM_HEX_CHUNK		2048
/* Room kept for " next=<u64>" plus the NUL and dm's one spare byte. */
#define IM_NEXT_RESERVE		(sizeof(" next=") + 20 + 1)

#define im_warn(mc, fmt, ...)						\
	DMWARN("%s: " fmt,						\
	       dm_device_name(dm_table_get_md((mc)->ti->table)),	\
	       ##__VA_ARGS__)

/* Strict decimal: digits only, no sign, no overflow. */
static int im_parse_u64(const char *s, size_t len, u64 *out)
{
	u64 v = 0;

	if (!len)
		return -EINVAL;
	while (len--) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (check_mul_overflow(v, 10ULL, &v) ||
		    check_add_overflow(v, (u64)(*s - '0'), &v))
			return -EINVAL;
		s++;
	}
	*out = v;
	return 0;
}

static int im_parse_arg_u64(const char *s, u64 *out)
{
	return im_parse_u64(s, strlen(s), out);
}

/* "N" or "N-M", inclusive, within the map. */
static int im_parse_range(struct incmirror *mc, const char *arg,
			  u64 *first, u64 *last)
{
	const char *dash = strchr(arg, '-');

	if (!dash) {
		if (im_parse_arg_u64(arg, first))
			return -EINVAL;
		*last = *first;
	} else if (im_parse_u64(arg, dash - arg, first) ||
		   im_parse_arg_u64(dash + 1, last)) {
		return -EINVAL;
	}
	if (*first > *last || *last >= mc->nr_regions)
		return -EINVAL;
	return 0;
}

static void im_kick_if_running(struct incmirror *mc)
{
	bool kick;

	spin_lock_irq(&mc->lock);
	kick = im_copier_may_run_locked(mc);
	spin_unlock_irq(&mc->lock);
	if (kick)
		im_copier_kick(mc);
}

static int im_msg_set_dirty(struct incmirror *mc, unsigned int argc,
			    char **argv)
{
	u64 first, last;
	unsigned int i;

	if (argc < 2) {
		im_warn(mc, "set_dirty: no range given");
		return -EINVAL;
	}
	for (i = 1; i < argc; i++) {
		if (im_parse_range(mc, argv[i], &first, &last)) {
			im_warn(mc, "set_dirty: invalid range '%.40s' (%llu regions)",
				argv[i], mc->nr_regions);
			return -EINVAL;
		}
	}

	for (i = 1; i < argc; i++) {
		/* Cannot fail: validated above. */
		im_parse_range(mc, argv[i], &first, &last);
		im_mark_dirty_range(mc, first, last);
	}

	im_md_sync(mc);
	im_kick_if_running(mc);
	return 0;
}

/* Byte @i of a validated hex string. */
static u8 im_hex_byte(const char *hex, size_t i)
{
	return (hex_to_bin(hex[2 * i]) << 4) | hex_to_bin(hex[2 * i + 1]);
}

static int im_msg_set_dirty_hex(struct incmirror *mc, unsigned int argc,
				char **argv)
{
	unsigned long bits[BITS_TO_LONGS(IM_MSG_CHUNK)], byte;
	size_t len, nbytes, i, j, stop;
	unsigned int b, nbits, r, e;
	const char *hex;
	u64 first;

	if (argc != 3) {
		im_warn(mc, "set_dirty_hex: expects <first_region> <hex>");
		return -EINVAL;
	}
	if (im_parse_arg_u64(argv[1], &first)) {
		im_warn(mc, "set_dirty_hex: invalid first region '%.40s'",
			argv[1]);
		return -EINVAL;
	}
	hex = argv[2];
	len = strlen(hex);
	if (!len || len % 2) {
		im_warn(mc, "set_dirty_hex: hex string of odd or zero length");
		return -EINVAL;
	}
	nbytes = len / 2;

	for (i = 0; i < len; i++) {
		if (hex_to_bin(hex[i]) < 0) {
			im_warn(mc, "set_dirty_hex: invalid hex digit at %zu", i);
			return -EINVAL;
		}
		if (!(i % (1 << 20)))
			cond_resched();
	}
	/* Every set bit must name an existing region (no overflow). */
	for (i = 0; i < nbytes; i++) {
		byte = im_hex_byte(hex, i);
		if (byte && (first >= mc->nr_regions ||
			     (u64)i * 8 + __fls(byte) >= mc->nr_regions - first)) {
			im_warn(mc, "set_dirty_hex: bit set beyond the last region %llu",
				mc->nr_regions - 1);
			return -EINVAL;
		}
		if (!(i % (1 << 20)))
			cond_resched();
	}

	/* Every byte is zero (checked above): nothing to mark. */
	if (first >= mc->nr_regions)
		return 0;
	/*
	 * IM_MSG_CHUNK regions at a time (every other one may start a run):
	 * decoded into a bitmap without the lock, then each run of set bits
	 * marked as one range. The metadata's work item is not kicked per
	 * mark: im_md_sync() kicks it once.
	 */
	for (i = 0; i < nbytes; i = stop) {
		stop = min_t(size_t, nbytes, i + IM_MSG_CHUNK / 8);
		nbits = (stop - i) * 8;
		bitmap_zero(bits, nbits);
		for (j = i; j < stop; j++) {
			byte = im_hex_byte(hex, j);
			for_each_set_bit(b, &byte, 8)
				__set_bit((j - i) * 8 + b, bits);
		}
		spin_lock_irq(&mc->lock);
		for (r = find_first_bit(bits, nbits); r < nbits;
		     r = find_next_bit(bits, nbits, e)) {
			e = find_next_zero_bit(bits, nbits, r);
			im_mark_dirty_nokick_locked(mc, first + i * 8 + r,
						    first + i * 8 + e - 1);
		}
		spin_unlock_irq(&mc->lock);
		cond_resched();
	}

	im_md_sync(mc);
	im_kick_if_running(mc);
	return 0;
}

/* Result buffer that always keeps room for a final " next=<region>". */
struct im_out {
	char *buf;
	unsigned int maxlen;
	unsigned int sz;
	bool full;
};

static void im_out_next(struct im_out *o, u64 region)
{
	o->full = true;
	if (o->sz < o->maxlen)
		o->sz += scnprintf(o->buf + o->sz, o->maxlen - o->sz,
				   "%snext=%llu", o->sz ? " " : "", region);
}

/* Append @tok, or stop with next=@resume if it would not leave room. */
static bool im_out_token(struct im_out *o, const char *tok, u64 resume)
{
	size_t len = strlen(tok);

	if (o->full)
		return false;
	if ((u64)o->sz + len + IM_NEXT_RESERVE >= o->maxlen) {
		im_out_next(o, resume);
		return false;
	}
	memcpy(o->buf + o->sz, tok, len + 1);
	o->sz += len;
	return true;
}

static bool im_out_range(struct im_out *o, u64 first, u64 last)
{
	char tok[48];

	if (first == last)
		snprintf(tok, sizeof(tok), "%s%llu", o->sz ? " " : "", first);
	else
		snprintf(tok, sizeof(tok), "%s%llu-%llu", o->sz ? " " : "",
			 first, last);
	return im_out_token(o, tok, first);
}

/*
 * Parse "<first> [<count>]" into the window [*first, *end), clipping the
 * count at the end of the map.
 */
static int im_parse_window(struct incmirror *mc, unsigned int argc,
			   char **argv, u64 *first, u64 *end)
{
	u64 count;

	*first = 0;
	count = mc->nr_regions;
	if (argc >= 2 && im_parse_arg_u64(argv[1], first))
		return -EINVAL;
	if (*first > mc->nr_regions)
		return -EINVAL;
	if (argc >= 3 && im_parse_arg_u64(argv[2], &count))
		return -EINVAL;
	*end = *first + min(count, mc->nr_regions - *first);
	return 0;
}

static int im_msg_get_dirty(struct incmirror *mc, unsigned int argc,
			    char **argv, char *result, unsigned int maxlen)
{
	struct im_out o = { .buf = result, .maxlen = maxlen };
	u64 first, end, pos, wend, r, c, rs = 0;
	bool open = false;

	if (argc > 3 || im_parse_window(mc, argc, argv, &first, &end)) {
		im_warn(mc, "get_dirty: expects [<first> [<count>]] within %llu regions",
			mc->nr_regions);
		return -EINVAL;
	}
	if (!maxlen)
		return 1;
	result[0] = '\0';

	for (pos = first; pos < end && !o.full; cond_resched()) {
		wend = min(pos + IM_MSG_CHUNK, end);
		spin_lock_irq(&mc->lock);
		while (pos < wend) {
			if (!open) {
				r = region_map_find_next_dirty(mc->map, pos, wend);
				if (r >= wend) {
					pos = wend;
					break;
				}
				rs = r;
				open = true;
				pos = r;
			}
			/* A range may run on into the next chunk. */
			c = region_map_find_next_clean(mc->map, pos, wend);
			if (c >= wend) {
				pos = wend;
				break;
			}
			open = false;
			pos = c;
			if (!im_out_range(&o, rs, c - 1))
				break;
		}
		spin_unlock_irq(&mc->lock);
	}
	if (open && !o.full)
		im_out_range(&o, rs, end - 1);
	return 1;
}

static int im_msg_get_dirty_hex(struct incmirror *mc, unsigned int argc,
				char **argv, char *result, unsigned int maxlen)
{
	struct im_out o = { .buf = result, .maxlen = maxlen };
	u8 bytes[IM_HEX_CHUNK / 8];
	u64 first, end, pos, wend, r;
	unsigned int i, nb;
	char tok[3];

	if (argc != 3 || im_parse_window(mc, argc, argv, &first, &end)) {
		im_warn(mc, "get_dirty_hex: expects <first> <count> within %llu regions",
			mc->nr_regions);
		return -EINVAL;
	}
	if (!maxlen)
		return 1;
	result[0] = '\0';

	/* pos - first stays a multiple of 8: one byte per 8 regions. */
	for (pos = first; pos < end && !o.full; cond_resched()) {
		wend = min(pos + IM_HEX_CHUNK, end);
		nb = DIV_ROUND_UP(wend - pos, 8);
		memset(bytes, 0, nb);
		spin_lock_irq(&mc->lock);
		for (r = region_map_find_next_dirty(mc->map, pos, wend); r < wend;
		     r = region_map_find_next_dirty(mc->map, r + 1, wend))
			bytes[(r - pos) / 8] |= 1 << ((r - pos) % 8);
		spin_unlock_irq(&mc->lock);
		for (i = 0; i < nb; i++, pos += 8) {
			snprintf(tok, sizeof(tok), "%02x", bytes[i]);
			if (!im_out_token(&o, tok, pos))
				break;
		}
	}
	return 1;
}

static int im_msg_start(struct incmirror *mc, unsigned int argc)
{
	if (argc != 1) {
		im_warn(mc, "start: takes no argument");
		return -EINVAL;
	}

	/*
	 * The destination may have come back without what it had not flushed
	 * when it failed, including writes and copy chunks that completed on
	 * it after the target entered degraded (copies in flight go on): copy
	 * all of that again. A copy chunk that completes after this reached
	 * the destination that is back; a job still running on a region
	 * marked here keeps its bit (rule 3 of dm-incmirror-region.c).
	 */
	if (READ_ONCE(mc->degraded))
		im_unflushed_redirty(mc);

	spin_lock_irq(&mc->lock);
	mc->run = IM_RUN_COPYING;
	if (mc->degraded)
		DMINFO("%s: leaving degraded state, retrying dirty regions",
		       dm_device_name(dm_table_get_md(mc->ti->table)));
	mc->degraded = false;
	im_md_undegraded_locked(mc);
	mc->errors_since_start = 0;
	mc->copier.backoff_until = jiffies;
	spin_unlock_irq(&mc->lock);

	im_md_set_started(mc);

	/* Also raises the synced event when there is nothing to copy. */
	im_copier_kick(mc);
	return 0;
}

static int im_msg_pause(struct incmirror *mc, unsigned int argc)
{
	bool paused;

	if (argc != 1) {
		im_warn(mc, "pause: takes no argument");
		return -EINVAL;
	}

	spin_lock_irq(&mc->lock);
	/* `loading` stays `loading`: nothing is being copied yet anyway. */
	if (mc->run == IM_RUN_COPYING)
		mc->run = IM_RUN_PAUSED;
	paused = mc->run == IM_RUN_PAUSED;
	spin_unlock_irq(&mc->lock);
	if (paused)
		im_md_set_paused(mc);
	return 0;
}

static int im_msg_max_copy_rate(struct incmirror *mc, unsigned int argc,
				char **argv)
{
	u64 rate;

	if (argc != 2 || im_parse_arg_u64(argv[1], &rate) || rate > UINT_MAX) {
		im_warn(mc, "max_copy_rate: expects <KiB/s> (0 = unlimited)");
		return -EINVAL;
	}

	spin_lock_irq(&mc->lock);
	mc->max_copy_rate = rate;
	im_copier_rate_changed_locked(mc);
	spin_unlock_irq(&mc->lock);

	im_kick_if_running(mc);
	return 0;
}

/* verify [repair] [<first_region> <count>] */
static int im_msg_verify(struct incmirror *mc, unsigned int argc, char **argv)
{
	bool repair = false;
	u64 first = 0, count = mc->nr_regions;
	unsigned int i = 1;
	int r;

	if (argc > 1 && !strcasecmp(argv[1], "repair")) {
		repair = true;
		i++;
	}
	if (argc - i == 2) {
		if (im_parse_arg_u64(argv[i], &first) ||
		    im_parse_arg_u64(argv[i + 1], &count) || !count ||
		    first >= mc->nr_regions ||
		    count > mc->nr_regions - first) {
			im_warn(mc, "verify: invalid window '%.20s %.20s' (%llu regions)",
				argv[i], argv[i + 1], mc->nr_regions);
			return -EINVAL;
		}
	} else if (argc != i) {
		im_warn(mc, "verify: expects [repair] [<first_region> <count>]");
		return -EINVAL;
	}

	r = im_verify_start(mc, repair, first, count);
	if (r == -EBUSY)
		im_warn(mc, "verify: a verify is already running (verify_stop ends it)");
	return r;
}

static int im_msg_verify_stop(struct incmirror *mc, unsigned int argc)
{
	if (argc != 1) {
		im_warn(mc, "verify_stop: takes no argument");
		return -EINVAL;
	}
	/* Stopping when nothing runs is not an error: the goal is reached. */
	im_verify_stop(mc);
	return 0;
}

static int im_dispatch(struct incmirror *mc, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	if (!argc) {
		im_warn(mc, "empty message");
		return -EINVAL;
	}

	if (!strcasecmp(argv[0], "set_dirty"))
		return im_msg_set_dirty(mc, argc, argv);
	if (!strcasecmp(argv[0], "set_dirty_hex"))
		return im_msg_set_dirty_hex(mc, argc, argv);
	if (!strcasecmp(argv[0], "get_dirty"))
		return im_msg_get_dirty(mc, argc, argv, result, maxlen);
	if (!strcasecmp(argv[0], "get_dirty_hex"))
		return im_msg_get_dirty_hex(mc, argc, argv, result, maxlen);
	if (!strcasecmp(argv[0], "start"))
		return im_msg_start(mc, argc);
	if (!strcasecmp(argv[0], "pause"))
		return im_msg_pause(mc, argc);
	if (!strcasecmp(argv[0], "max_copy_rate"))
		return im_msg_max_copy_rate(mc, argc, argv);
	if (!strcasecmp(argv[0], "verify"))
		return im_msg_verify(mc, argc, argv);
	if (!strcasecmp(argv[0], "verify_stop"))
		return im_msg_verify_stop(mc, argc);

	im_warn(mc, "unrecognised message '%.40s'", argv[0]);
	return -EINVAL;
}

int im_message(struct dm_target *ti, unsigned int argc, char **argv,
	       char *result, unsigned int maxlen)
{
	struct incmirror *mc = ti->private;
	int r;

	mutex_lock(&mc->msg_mutex);
	r = im_dispatch(mc, argc, argv, result, maxlen);
	mutex_unlock(&mc->msg_mutex);
	return r;
}
