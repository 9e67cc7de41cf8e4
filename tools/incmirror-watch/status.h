/* SPDX-License-Identifier: GPL-2.0 */
/*
 * incmirror-watch: the dm-incmirror status line and the progress it implies.
 * Pure functions (no device-mapper, no I/O), shared with the unit test.
 */
#ifndef IMW_STATUS_H
#define IMW_STATUS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The fields of `dmsetup status` for an incmirror target (see
 * Documentation/dm-incmirror.rst, "Status"):
 *   <state> <in_sync>/<total> <region_sectors> <dest_errors>
 *   <copied_sectors> <rate> <max_rate> <in_flight> metadata=<m> [more...]
 * Fields added later come after metadata= and are ignored.
 */
struct im_status {
	char state[16];		/* loading copying paused synced degraded, or unknown words */
	uint64_t insync;
	uint64_t total;
	uint64_t region_sectors;
	uint64_t dest_errors;
	uint64_t copied_sectors;
	uint64_t rate_kib_s;	/* copy rate over the last window of >= 1 s */
	uint64_t max_rate_kib_s;	/* 0 = unlimited */
	uint64_t in_flight;
	char metadata[16];	/* none ok failed; "" when the field is absent */
};

/* Parses PARAMS (the target's status parameters). 0, or -1 with a reason in ERR. */
int im_status_parse(const char *params, struct im_status *st, char *err, size_t errlen);

/* One observation of a device, as printed. */
struct im_sample {
	const char *device;	/* the device-mapper name */
	double time;		/* seconds since the epoch */
	uint32_t event_nr;
	struct im_status st;
};

/* Tenths of a percent in sync: 0..1000, 1000 only when every region is. */
unsigned im_permille(const struct im_status *st);
/* Seconds until synced at the current rate, 0 when synced, -1 when unknown. */
int64_t im_eta(const struct im_status *st);

/*
 * The output formats. Each writes one line, ending in '\n', to BUF (always
 * NUL-terminated) and returns its length (truncated to LEN - 1).
 * im_format_json: one JSON object; im_format_text: the human-readable line
 * without a time stamp (the caller adds one for plain output).
 */
size_t im_format_json(char *buf, size_t len, const struct im_sample *s);
size_t im_format_text(char *buf, size_t len, const struct im_sample *s);

#endif
