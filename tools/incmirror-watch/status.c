// SPDX-License-Identifier: GPL-2.0
/* incmirror-watch: parsing the status line, progress figures, output lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "status.h"

#define NUM_FIELDS 6	/* the numbers after "<in_sync>/<total>" */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A decimal u64 of exactly LEN characters at S. */
static int parse_num(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* The next whitespace-separated token after *P: its start and length; 0 at the end. */
static size_t next_token(const char **p, const char **tok)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	*tok = s;
	while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '\n')
		n++;
	*p = s + n;
	return n;
}

int im_status_parse(const char *params, struct im_status *st, char *err, size_t errlen)
{
	static const char *const names[NUM_FIELDS] = {
		"region_sectors", "dest_errors", "copied_sectors", "rate", "max_rate", "in_flight",
	};
	uint64_t *const nums[NUM_FIELDS] = {
		&st->region_sectors, &st->dest_errors, &st->copied_sectors,
		&st->rate_kib_s, &st->max_rate_kib_s, &st->in_flight,
	};
	const char *p = params ? params : "", *tok, *slash;
	size_t n, i;

	memset(st, 0, sizeof(*st));
	n = next_token(&p, &tok);
	if (!n) {
		set_err(err, errlen, "empty status");
		return -1;
	}
	if (n >= sizeof(st->state)) {
		set_err(err, errlen, "state '%.*s' too long", (int)n, tok);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (tok[i] < 'a' || tok[i] > 'z') {
			set_err(err, errlen, "expected a state word, found '%.*s'", (int)n, tok);
			return -1;
		}
	}
	memcpy(st->state, tok, n);

	n = next_token(&p, &tok);
	slash = n ? memchr(tok, '/', n) : NULL;
	if (!slash || parse_num(tok, (size_t)(slash - tok), &st->insync) ||
	    parse_num(slash + 1, n - (size_t)(slash - tok) - 1, &st->total)) {
		set_err(err, errlen, "expected <in_sync>/<total>, found '%.*s'", (int)n, tok);
		return -1;
	}
	if (!st->total || st->insync > st->total) {
		set_err(err, errlen, "bad region counts %" PRIu64 "/%" PRIu64, st->insync, st->total);
		return -1;
	}
	for (i = 0; i < NUM_FIELDS; i++) {
		n = next_token(&p, &tok);
		if (parse_num(tok, n, nums[i])) {
			set_err(err, errlen, "expected a number for %s, found '%.*s'", names[i], (int)n,
				tok);
			return -1;
		}
	}
	/* metadata=, then anything a later version adds: ignored. */
	while ((n = next_token(&p, &tok))) {
		if (n > 9 && !memcmp(tok, "metadata=", 9) && n - 9 < sizeof(st->metadata) &&
		    !st->metadata[0])
			memcpy(st->metadata, tok + 9, n - 9);
	}
	return 0;
}

unsigned im_permille(const struct im_status *st)
{
	double p;

	if (!st->total || st->insync >= st->total)
		return st->total ? 1000 : 0;
	p = (double)st->insync * 1000.0 / (double)st->total;
	return p >= 999.0 ? 999 : (unsigned)p;
}

int64_t im_eta(const struct im_status *st)
{
	double kib;

	if (!strcmp(st->state, "synced"))
		return 0;
	if (strcmp(st->state, "copying") || !st->rate_kib_s)
		return -1;
	kib = (double)(st->total - st->insync) * (double)st->region_sectors / 2.0;
	kib /= (double)st->rate_kib_s;
	if (kib > 1e12)
		return -1;
	return (int64_t)kib + ((double)(int64_t)kib < kib);
}

/* Appending to a bounded buffer; the length keeps counting past the end. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL, o->pos < o->len ? o->len - o->pos : 0,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static size_t finish(struct out *o)
{
	if (!o->len)
		return 0;
	if (o->pos >= o->len) {
		/* Truncated: keep the line a line. */
		o->pos = o->len - 1;
		if (o->pos)
			o->buf[o->pos - 1] = '\n';
	}
	o->buf[o->pos] = '\0';
	return o->pos;
}

/* A number printed as TEXT (json-c keeps the text of a "double_s"). */
static json_object *num_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *num_text(const char *fmt, ...)
{
	char t[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	return json_object_new_double_s(strtod(t, NULL), t);
}

/*
 * One JSON object and a newline, written by json-c (strings escaped by it,
 * the keys in this order); "" when it does not fit or memory is short.
 */
size_t im_format_json(char *buf, size_t len, const struct im_sample *s)
{
	struct out o = { buf, len, 0 };
	const struct im_status *st = &s->st;
	unsigned pm = im_permille(st);
	int64_t eta = im_eta(st);
	json_object *j = json_object_new_object();
	const char *text;

	if (!j) {
		put(&o, "%s", "");
		return finish(&o);
	}
	json_object_object_add(j, "time", num_text("%.3f", s->time));
	json_object_object_add(j, "device", json_object_new_string(s->device));
	json_object_object_add(j, "event_nr", json_object_new_int64(s->event_nr));
	json_object_object_add(j, "state", json_object_new_string(st->state));
	json_object_object_add(j, "insync", json_object_new_uint64(st->insync));
	json_object_object_add(j, "total", json_object_new_uint64(st->total));
	json_object_object_add(j, "percent", num_text("%u.%u", pm / 10, pm % 10));
	json_object_object_add(j, "region_sectors", json_object_new_uint64(st->region_sectors));
	json_object_object_add(j, "copied_sectors", json_object_new_uint64(st->copied_sectors));
	json_object_object_add(j, "rate_kib_s", json_object_new_uint64(st->rate_kib_s));
	json_object_object_add(j, "max_rate_kib_s", json_object_new_uint64(st->max_rate_kib_s));
	json_object_object_add(j, "in_flight", json_object_new_uint64(st->in_flight));
	json_object_object_add(j, "eta_s", eta < 0 ? NULL : json_object_new_int64(eta));
	json_object_object_add(j, "dest_errors", json_object_new_uint64(st->dest_errors));
	json_object_object_add(j, "metadata",
			       st->metadata[0] ? json_object_new_string(st->metadata) : NULL);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	put(&o, "%s\n", text ? text : "");
	json_object_put(j);
	return finish(&o);
}

/* KiB as "512 KiB", "1.5 MiB", "20.0 GiB", ... */
static void put_kib(struct out *o, double kib)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;

	while (kib >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		kib /= 1024.0;
		u++;
	}
	if (u == 0)
		put(o, "%.0f %s", kib, unit[u]);
	else
		put(o, "%.1f %s", kib, unit[u]);
}

size_t im_format_text(char *buf, size_t len, const struct im_sample *s)
{
	struct out o = { buf, len, 0 };
	const struct im_status *st = &s->st;
	unsigned pm = im_permille(st);
	int64_t eta = im_eta(st);

	put(&o, "%s: %s %u.%u%% (%" PRIu64 "/%" PRIu64 " regions", s->device, st->state, pm / 10,
	    pm % 10, st->insync, st->total);
	put(&o, ", ");
	put_kib(&o, (double)st->copied_sectors / 2.0);
	put(&o, " copied) ");
	put_kib(&o, (double)st->rate_kib_s);
	put(&o, "/s");
	if (eta >= 0)
		put(&o, " ETA %" PRId64 ":%02" PRId64 ":%02" PRId64, eta / 3600, eta / 60 % 60,
		    eta % 60);
	else
		put(&o, " ETA -");
	if (st->dest_errors)
		put(&o, ", %" PRIu64 " destination error%s", st->dest_errors,
		    st->dest_errors == 1 ? "" : "s");
	if (!strcmp(st->metadata, "failed"))
		put(&o, ", metadata failed");
	put(&o, "\n");
	return finish(&o);
}
