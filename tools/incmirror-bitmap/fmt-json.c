// SPDX-License-Identifier: GPL-2.0
/*
 * JSON extent lists, parsed with json-c one array element at a time so that
 * memory stays bounded and errors carry the element's byte offset:
 *  - nbd:      `nbdinfo --json --map=qemu:dirty-bitmap:NAME`:
 *              [{"offset":O,"length":L,"type":T,"description":D}, ...],
 *              contiguous from 0; dirty iff T & 1 (NBD_STATE_DIRTY).
 *  - rbd-json: `rbd diff --format json`: [{"offset":O,"length":L,"exists":E}, ...];
 *              every extent is a change whatever E says.
 * Only the array punctuation between elements ('[' ',' ']' and blanks) is
 * stepped over here; each element is parsed by json_tokener.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

#include <json.h>

#include "common.h"
#include "formats.h"

struct jr {
	const struct src *s;
	char buf[65536];
	size_t len, off;
	uint64_t bufpos;	/* file offset of buf[0] */
};

static int fill(struct jr *j)
{
	long r;

	j->bufpos += j->len;
	j->len = j->off = 0;
	r = src_read_some(j->s, j->buf, sizeof(j->buf), j->bufpos);
	if (r < 0)
		return -1;
	j->len = (size_t)r;
	return 0;
}

/* next non-blank character without consuming it: >= 0 char, -1 EOF, -2 error */
static int peek(struct jr *j)
{
	for (;;) {
		if (j->off == j->len) {
			if (fill(j))
				return -2;
			if (!j->len)
				return -1;
		}
		if (!isspace((unsigned char)j->buf[j->off]))
			return (unsigned char)j->buf[j->off];
		j->off++;
	}
}

static uint64_t pos(const struct jr *j)
{
	return j->bufpos + j->off;
}

/* parse one JSON value at the current position */
static json_object *parse_value(struct jr *j, int *err)
{
	json_tokener *tok = json_tokener_new_ex(8);
	json_object *o = NULL;

	*err = 0;
	if (!tok) {
		*err = EXIT_SYSTEM;
		return NULL;
	}
	for (;;) {
		enum json_tokener_error e;

		o = json_tokener_parse_ex(tok, j->buf + j->off, (int)(j->len - j->off));
		e = json_tokener_get_error(tok);
		if (e == json_tokener_continue) {
			if (fill(j) || !j->len) {
				if (!j->len)
					err_at(j->s->name, pos(j), "truncated: expected the rest of a JSON array element");
				*err = EXIT_INPUT;
				break;
			}
			continue;
		}
		if (e != json_tokener_success) {
			err_at(j->s->name, pos(j) + json_tokener_get_parse_end(tok), "malformed JSON: %s",
			       json_tokener_error_desc(e));
			*err = EXIT_INPUT;
			o = NULL;
			break;
		}
		j->off += json_tokener_get_parse_end(tok);
		break;
	}
	json_tokener_free(tok);
	return o;
}

static int get_u64(const struct src *s, uint64_t eoff, json_object *o, const char *key, uint64_t *out)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
		err_at(s->name, eoff, "expected an integer \"%s\" in the extent object", key);
		return EXIT_INPUT;
	}
	errno = 0;
	x = json_object_get_int64(v);
	if (x < 0 || (x == INT64_MAX && errno)) {
		err_at(s->name, eoff, "expected \"%s\" between 0 and 2^63-1, found %s", key,
		       json_object_to_json_string(v));
		return EXIT_INPUT;
	}
	*out = (uint64_t)x;
	return 0;
}

static int parse_json(struct pctx *ctx, bool nbd)
{
	struct jr *j = calloc(1, sizeof(*j));
	uint64_t next = 0, n = 0;
	int c, r = EXIT_INPUT;

	if (!j) {
		err_msg("out of memory");
		return EXIT_SYSTEM;
	}
	j->s = ctx->s;
	c = peek(j);
	if (c != '[') {
		if (c != -2)
			err_at(ctx->s->name, pos(j), "expected a JSON array '['");
		goto out;
	}
	j->off++;
	for (;;) {
		json_object *o;
		uint64_t off, len, type = 1, eoff;
		int e;

		c = peek(j);
		if (c == -2)
			goto out;
		if (c == ']' && n == 0) {
			j->off++;
			break;
		}
		if (n > 0) {
			if (c == ']') {
				j->off++;
				break;
			}
			if (c != ',') {
				err_at(ctx->s->name, pos(j), c < 0 ? "truncated: expected ',' or ']'" : "expected ',' or ']'");
				goto out;
			}
			j->off++;
			c = peek(j);
			if (c == -2)
				goto out;
		}
		if (c != '{') {
			err_at(ctx->s->name, pos(j), c < 0 ? "truncated: expected an extent object" : "expected an extent object '{'");
			goto out;
		}
		eoff = pos(j);
		o = parse_value(j, &e);
		if (!o) {
			r = e ? e : EXIT_INPUT;
			goto out;
		}
		e = get_u64(ctx->s, eoff, o, "offset", &off);
		if (!e)
			e = get_u64(ctx->s, eoff, o, "length", &len);
		if (!e && nbd)
			e = get_u64(ctx->s, eoff, o, "type", &type);
		json_object_put(o);
		if (e) {
			r = e;
			goto out;
		}
		if (nbd) {
			if (off != next) {
				err_at(ctx->s->name, eoff, "expected an extent at offset %" PRIu64 " (nbdinfo maps are contiguous), found %" PRIu64,
				       next, off);
				goto out;
			}
			if (!len || !add_u64(off, len, &next)) {
				err_at(ctx->s->name, eoff, "expected a non-zero length that does not overflow, found %" PRIu64, len);
				goto out;
			}
		}
		if (type & 1) {
			e = sink_mark(ctx->sk, eoff, off, len);
			if (e) {
				r = e;
				goto out;
			}
		}
		n++;
	}
	c = peek(j);
	if (c != -1) {
		if (c >= 0)
			err_at(ctx->s->name, pos(j), "expected end of file after the JSON array");
		goto out;
	}
	if (nbd) {
		ctx->in->size = next;
		ctx->in->granularity = 0;
	}
	r = 0;
out:
	free(j);
	return r;
}

int parse_nbd_json(struct pctx *ctx)
{
	return parse_json(ctx, true);
}

int parse_rbd_json(struct pctx *ctx)
{
	return parse_json(ctx, false);
}
