// SPDX-License-Identifier: GPL-2.0
/* libdevmapper glue: table lookup, messages, reading the dirty map. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "common.h"
#include "dm.h"

#define GET_WINDOW (UINT64_C(1) << 20)	/* regions asked for per get_dirty call */

static struct dm_task *task(const struct dmdev *d, int type)
{
	struct dm_task *t = dm_task_create(type);

	if (!t) {
		err_msg("%s: cannot create a device-mapper task", d->arg);
		return NULL;
	}
	if (d->by_devno ? !dm_task_set_major(t, (int)d->major) || !dm_task_set_minor(t, (int)d->minor)
			: !dm_task_set_name(t, d->arg)) {
		err_msg("%s: cannot set the device-mapper device", d->arg);
		dm_task_destroy(t);
		return NULL;
	}
	return t;
}

int dm_open_target(struct dmdev *d, const char *arg)
{
	struct stat st;
	struct dm_task *t;
	struct dm_info info;
	void *next;
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	int ret = EXIT_DEVICE, fd;
	char ctl[PATH_MAX];

	memset(d, 0, sizeof(*d));
	d->arg = arg;
	if (strchr(arg, '/')) {
		if (stat(arg, &st) || !S_ISBLK(st.st_mode)) {
			err_msg("%s: not a block device (give a device-mapper name or device node)", arg);
			return EXIT_DEVICE;
		}
		d->major = major(st.st_rdev);
		d->minor = minor(st.st_rdev);
		d->by_devno = 1;
	}
	/*
	 * Without device-mapper (no dm-mod, not root) libdevmapper prints four
	 * lines of its own on the first task; say it in one line instead.
	 */
	if (getenv("DM_DEV_DIR") && !dm_set_dev_dir(getenv("DM_DEV_DIR"))) {
		err_msg("DM_DEV_DIR: cannot use '%s'", getenv("DM_DEV_DIR"));
		return EXIT_DEVICE;
	}
	snprintf(ctl, sizeof(ctl), "%s/control", dm_dir());
	fd = open(ctl, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err_msg("cannot use device-mapper: %s: %s (is dm-mod loaded, are you root?)", ctl,
			strerror(errno));
		return EXIT_DEVICE;
	}
	close(fd);
	t = task(d, DM_DEVICE_TABLE);
	if (!t)
		return EXIT_DEVICE;
	if (!dm_task_run(t)) {
		err_msg("%s: cannot read the device-mapper table", arg);
		goto out;
	}
	if (!dm_task_get_info(t, &info) || !info.exists) {
		err_msg("%s: no such device-mapper device", arg);
		goto out;
	}
	next = dm_get_next_target(t, NULL, &start, &length, &type, &params);
	if (!type) {
		err_msg("%s: the device has no table loaded", arg);
		goto out;
	}
	if (next) {
		err_msg("%s: expected a table with exactly one incmirror target, found several lines", arg);
		goto out;
	}
	if (strcmp(type, "incmirror")) {
		err_msg("%s: expected an incmirror target, found '%s'", arg, type);
		goto out;
	}
	{
		char src[256], dst[256], rs[32];

		if (!params || sscanf(params, "%255s %255s %31s", src, dst, rs) != 3 ||
		    parse_u64(rs, &d->region_sectors) || d->region_sectors < 8 || !is_pow2(d->region_sectors)) {
			err_msg("%s: cannot read region_sectors from the table parameters '%s'", arg,
				params ? params : "");
			goto out;
		}
	}
	if (start != 0) {
		err_msg("%s: expected the incmirror target at sector 0, found %" PRIu64, arg, start);
		goto out;
	}
	d->len_sectors = length;
	ret = 0;
out:
	dm_task_destroy(t);
	return ret;
}

int dm_message(const struct dmdev *d, const char *msg, char **resp)
{
	struct dm_task *t = task(d, DM_DEVICE_TARGET_MSG);
	const char *r;
	int ret = EXIT_DEVICE;

	if (resp)
		*resp = NULL;
	if (!t)
		return EXIT_DEVICE;
	if (!dm_task_set_sector(t, 0) || !dm_task_set_message(t, msg)) {
		err_msg("%s: cannot prepare message", d->arg);
		goto out;
	}
	if (!dm_task_run(t)) {
		err_msg("%s: message '%.60s%s' (%zu bytes) failed", d->arg, msg, strlen(msg) > 60 ? "..." : "",
			strlen(msg));
		goto out;
	}
	if (resp) {
		r = dm_task_get_message_response(t);
		*resp = strdup(r ? r : "");
		if (!*resp) {
			err_msg("out of memory");
			ret = EXIT_SYSTEM;
			goto out;
		}
	}
	ret = 0;
out:
	dm_task_destroy(t);
	return ret;
}

/* parse "N" / "N-M" / "next=N" tokens of get_dirty; returns 0, sets *next (0 if none) */
static int apply_ranges(const struct dmdev *d, struct bitmap *bm, char *resp, uint64_t lo, uint64_t hi,
			uint64_t *next)
{
	char *save = NULL, *tok;
	uint64_t prev_end = lo;

	*next = 0;
	for (tok = strtok_r(resp, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		uint64_t a, b;
		char *dash;

		if (*next) {
			err_msg("%s: get_dirty: unexpected '%s' after next=", d->arg, tok);
			return EXIT_DEVICE;
		}
		if (!strncmp(tok, "next=", 5)) {
			if (parse_u64(tok + 5, next) || *next < prev_end || *next >= hi || *next == 0) {
				err_msg("%s: get_dirty: bad continuation '%s' in window %" PRIu64 "-%" PRIu64, d->arg, tok,
					lo, hi - 1);
				return EXIT_DEVICE;
			}
			continue;
		}
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		if (parse_u64(tok, &a) || (dash ? parse_u64(dash + 1, &b) : (b = a, 0)) || b < a || a < prev_end ||
		    b >= hi) {
			err_msg("%s: get_dirty: unexpected range '%s%s%s' in window %" PRIu64 "-%" PRIu64, d->arg, tok,
				dash ? "-" : "", dash ? dash + 1 : "", lo, hi - 1);
			return EXIT_DEVICE;
		}
		bm_set_range(bm, a, b - a + 1);
		prev_end = b + 1;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* get_dirty_hex response: "<hex>[ next=<region>]" for [first, hi) */
static int apply_hex(const struct dmdev *d, struct bitmap *bm, char *resp, uint64_t first, uint64_t hi,
		     uint64_t *next)
{
	char *sp = strchr(resp, ' ');
	size_t len;

	*next = 0;
	if (sp) {
		*sp++ = '\0';
		while (*sp == ' ')
			sp++;
		if (strncmp(sp, "next=", 5) || parse_u64(sp + 5, next) || *next <= first || *next >= hi) {
			err_msg("%s: get_dirty_hex: bad continuation '%s'", d->arg, sp);
			return EXIT_DEVICE;
		}
	}
	len = strlen(resp);
	if (len && resp[len - 1] == '\n')
		resp[--len] = '\0';
	if (len % 2 || (*next && (uint64_t)len * 4 != *next - first) || (!*next && (uint64_t)len * 4 < hi - first) ||
	    (uint64_t)len * 4 > hi - first + 7) {
		err_msg("%s: get_dirty_hex: %zu hex digits do not match the window %" PRIu64 "-%" PRIu64, d->arg, len,
			first, hi - 1);
		return EXIT_DEVICE;
	}
	for (size_t i = 0; i < len; i += 2) {
		int h = hexval(resp[i]), l = hexval(resp[i + 1]);
		uint8_t byte;

		if (h < 0 || l < 0) {
			err_msg("%s: get_dirty_hex: bad hex digit at %zu", d->arg, i);
			return EXIT_DEVICE;
		}
		byte = (uint8_t)(h << 4 | l);
		for (int k = 0; k < 8; k++) {
			uint64_t r = first + i * 4 + (uint64_t)k;

			if ((byte >> k) & 1) {
				if (r >= hi) {
					err_msg("%s: get_dirty_hex: padding bit %" PRIu64 " set", d->arg, r);
					return EXIT_DEVICE;
				}
				bm_set_range(bm, r, 1);
			}
		}
	}
	return 0;
}

int dm_read_map(const struct dmdev *d, struct bitmap *bm, uint64_t *messages)
{
	uint64_t total = div_up(d->len_sectors, d->region_sectors);
	char msg[96];
	int ret;

	*messages = 0;
	if (bm_init(bm, total)) {
		err_msg("out of memory for %" PRIu64 " regions", total);
		return EXIT_SYSTEM;
	}
	for (uint64_t w = 0; w < total; w += GET_WINDOW) {
		uint64_t hi = total - w < GET_WINDOW ? total : w + GET_WINDOW, pos = w, next;
		bool hex = false;

		while (pos < hi) {
			char *resp;

			if (!hex)
				snprintf(msg, sizeof(msg), "get_dirty %" PRIu64 " %" PRIu64, pos, hi - pos);
			else
				snprintf(msg, sizeof(msg), "get_dirty_hex %" PRIu64 " %" PRIu64, pos, hi - pos);
			ret = dm_message(d, msg, &resp);
			if (ret)
				return ret;
			(*messages)++;
			ret = hex ? apply_hex(d, bm, resp, pos, hi, &next) : apply_ranges(d, bm, resp, pos, hi, &next);
			free(resp);
			if (ret)
				return ret;
			if (!next)
				break;
			/* a window too dense for one ranges reply: fetch the rest in the dense form */
			pos = next;
			hex = true;
		}
	}
	return 0;
}
