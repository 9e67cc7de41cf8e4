// SPDX-License-Identifier: GPL-2.0
/* Message encoder (see msgenc.h) and a reference decoder for tests. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "msgenc.h"

#define RANGES_PREFIX "set_dirty"
#define HEX_PREFIX "set_dirty_hex"

struct enc {
	size_t max;
	msg_cb cb;
	void *arg;
	/* ranges message */
	char *r;
	size_t rlen;
	uint64_t pa, pb;
	int have;
	/* hex message */
	char *h;
	size_t hlen, hhdr;
	uint64_t hend;		/* byte index just after the last byte in the hex message */
	int hopen;
};

static unsigned digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int flush_r(struct enc *e)
{
	int ret = 0;

	if (e->rlen > strlen(RANGES_PREFIX))
		ret = e->cb(e->arg, e->r, e->rlen);
	e->rlen = (size_t)sprintf(e->r, "%s", RANGES_PREFIX);
	return ret;
}

static int put_range(struct enc *e, uint64_t a, uint64_t b)
{
	char tok[48];
	int n = a == b ? sprintf(tok, " %" PRIu64, a) : sprintf(tok, " %" PRIu64 "-%" PRIu64, a, b);
	int ret;

	if (e->rlen + (size_t)n > e->max && (ret = flush_r(e)))
		return ret;
	memcpy(e->r + e->rlen, tok, (size_t)n + 1);
	e->rlen += (size_t)n;
	return 0;
}

static int add_range(struct enc *e, uint64_t a, uint64_t b)
{
	int ret;

	if (e->have && a == e->pb + 1) {
		e->pb = b;
		return 0;
	}
	if (e->have && (ret = put_range(e, e->pa, e->pb)))
		return ret;
	e->pa = a;
	e->pb = b;
	e->have = 1;
	return 0;
}

static int flush_h(struct enc *e)
{
	int ret = 0;

	if (e->hopen && e->hlen > e->hhdr)
		ret = e->cb(e->arg, e->h, e->hlen);
	e->hopen = 0;
	e->hlen = 0;
	return ret;
}

/*
 * Starting another hex message costs a whole message, while ranges pack into
 * full messages: a hex island must save at least this many characters.
 */
static uint64_t new_hex_penalty(const struct enc *e)
{
	return e->max / 16;
}

/* can bytes fb..lb be appended to the open hex message (bridging a short zero gap)? */
static int hex_appendable(const struct enc *e, uint64_t fb, uint64_t lb)
{
	return e->hopen && fb >= e->hend && (fb - e->hend) * 2 <= new_hex_penalty(e) &&
	       e->hlen + (lb + 1 - e->hend) * 2 <= e->max;
}

static int add_hex(struct enc *e, const struct bitmap *bm, uint64_t fb, uint64_t lb)
{
	static const char hx[] = "0123456789abcdef";
	int ret;

	if (hex_appendable(e, fb, lb)) {
		fb = e->hend;	/* bridge the gap with zero bytes */
	} else {
		if ((ret = flush_h(e)))
			return ret;
		e->hlen = e->hhdr = (size_t)sprintf(e->h, "%s %" PRIu64 " ", HEX_PREFIX, fb * 8);
		e->hopen = 1;
	}
	for (uint64_t i = fb; i <= lb; i++) {
		uint8_t b = bm_byte(bm, i);

		e->h[e->hlen++] = hx[b >> 4];
		e->h[e->hlen++] = hx[b & 15];
	}
	e->h[e->hlen] = '\0';
	e->hend = lb + 1;
	return 0;
}

int msgenc_run(const struct bitmap *bm, size_t max_len, msg_cb cb, void *arg)
{
	struct enc e = { .max = max_len < MSGENC_MIN ? MSGENC_MIN : max_len, .cb = cb, .arg = arg };
	int ret = -1;

	e.r = malloc(e.max + 64);
	e.h = malloc(e.max + 64);
	if (!e.r || !e.h)
		goto out;
	e.rlen = (size_t)sprintf(e.r, "%s", RANGES_PREFIX);
	for (uint64_t c0 = bm_next_set(bm, 0); c0 < bm->nbits;) {
		uint64_t c1, fb, lb, cost_r = 0, cost_h, i;

		c0 -= c0 % MSGENC_CHUNK;
		c1 = c0 + MSGENC_CHUNK < bm->nbits ? c0 + MSGENC_CHUNK : bm->nbits;
		/* cost of the ranges in this chunk */
		for (i = bm_next_set(bm, c0); i < c1;) {
			uint64_t j = bm_next_clear(bm, i);
			uint64_t last = (j < c1 ? j : c1) - 1;

			cost_r += 1 + digits(i) + (last > i ? 1 + digits(last) : 0);
			i = j < c1 ? bm_next_set(bm, j) : c1;
		}
		fb = bm_next_set(bm, c0) / 8;
		/* last set bit below c1 */
		lb = fb;
		for (i = bm_next_set(bm, c0); i < c1;) {
			uint64_t j = bm_next_clear(bm, i);

			lb = ((j < c1 ? j : c1) - 1) / 8;
			i = j < c1 ? bm_next_set(bm, j) : c1;
		}
		if (hex_appendable(&e, fb, lb))
			cost_h = (lb + 1 - e.hend) * 2;
		else
			cost_h = (lb - fb + 1) * 2 + new_hex_penalty(&e);
		if (cost_r <= cost_h) {
			for (i = bm_next_set(bm, c0); i < c1;) {
				uint64_t j = bm_next_clear(bm, i);

				if ((ret = add_range(&e, i, (j < c1 ? j : c1) - 1)))
					goto out;
				i = j < c1 ? bm_next_set(bm, j) : c1;
			}
		} else if ((ret = add_hex(&e, bm, fb, lb))) {
			goto out;
		}
		c0 = bm_next_set(bm, c1);
	}
	ret = 0;
	if (e.have)
		ret = put_range(&e, e.pa, e.pb);
	if (!ret)
		ret = flush_r(&e);
	if (!ret)
		ret = flush_h(&e);
out:
	free(e.r);
	free(e.h);
	return ret;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int msg_apply(struct bitmap *bm, const char *msg)
{
	char *copy = strdup(msg), *save = NULL, *tok;
	int ret = -1;

	if (!copy)
		return -1;
	tok = strtok_r(copy, " ", &save);
	if (tok && !strcmp(tok, RANGES_PREFIX)) {
		/* two passes: validate, then set */
		for (int pass = 0; pass < 2; pass++) {
			char *c2 = strdup(msg), *s2 = NULL, *t;
			int n = 0;

			if (!c2)
				goto out;
			strtok_r(c2, " ", &s2);
			while ((t = strtok_r(NULL, " ", &s2))) {
				uint64_t a, b;
				char *dash = strchr(t, '-');

				if (dash)
					*dash = '\0';
				if (parse_u64(t, &a) || (dash ? parse_u64(dash + 1, &b) : (b = a, 0)) || b < a ||
				    b >= bm->nbits) {
					free(c2);
					goto out;
				}
				if (pass)
					bm_set_range(bm, a, b - a + 1);
				n++;
			}
			free(c2);
			if (!n)
				goto out;
		}
		ret = 0;
	} else if (tok && !strcmp(tok, HEX_PREFIX)) {
		char *f = strtok_r(NULL, " ", &save), *hex = strtok_r(NULL, " ", &save);
		uint64_t first;
		size_t len;
		uint8_t *bytes;

		if (!f || !hex || strtok_r(NULL, " ", &save) || parse_u64(f, &first))
			goto out;
		len = strlen(hex);
		if (!len || len % 2)
			goto out;
		bytes = malloc(len / 2);
		if (!bytes)
			goto out;
		for (size_t i = 0; i < len / 2; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				free(bytes);
				goto out;
			}
			bytes[i] = (uint8_t)(hi << 4 | lo);
		}
		ret = bm_or_bytes(bm, first, bytes, len / 2);
		free(bytes);
	}
out:
	free(copy);
	return ret;
}
