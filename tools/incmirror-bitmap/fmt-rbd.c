// SPDX-License-Identifier: GPL-2.0
/*
 * Ceph RBD change lists other than JSON:
 *  - rbd-diff: the plain `rbd diff` table ("Offset Length Type" header, then
 *    "OFFSET LENGTH data|zero" lines); every line is a change.
 *  - rbd-export-diff: `rbd export-diff` format v1: "rbd diff v1\n" then tagged
 *    little-endian records: 'f'/'t' u32 len + snapshot name, 's' u64 image size,
 *    'w' u64 offset, u64 length, data; 'z' u64 offset, u64 length; 'e' end.
 *    Both 'w' and 'z' are changes.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "formats.h"

int parse_rbd_diff(struct pctx *ctx)
{
	struct line_reader lr;
	int r;
	bool header = false;

	lr_init(&lr, ctx->s);
	while ((r = lr_next(&lr)) == 1) {
		char off_s[32], len_s[32], type_s[16], extra;
		uint64_t off, len;
		int n;

		if (!lr.line[strspn(lr.line, " \t")])
			continue;
		if (!header) {
			if (sscanf(lr.line, " %31s %31s %15s %c", off_s, len_s, type_s, &extra) != 3 ||
			    strcasecmp(off_s, "Offset") || strcasecmp(len_s, "Length") || strcasecmp(type_s, "Type")) {
				err_line(ctx->s->name, lr.line_no, "expected the header \"Offset Length Type\" of `rbd diff`");
				return EXIT_INPUT;
			}
			header = true;
			continue;
		}
		n = sscanf(lr.line, " %31s %31s %15s %c", off_s, len_s, type_s, &extra);
		if (n != 3 || parse_u64(off_s, &off) || parse_u64(len_s, &len) ||
		    (strcmp(type_s, "data") && strcmp(type_s, "zero"))) {
			err_line(ctx->s->name, lr.line_no, "expected \"OFFSET LENGTH data|zero\" (decimal bytes)");
			return EXIT_INPUT;
		}
		r = sink_mark(ctx->sk, lr.line_off, off, len);
		if (r)
			return r;
	}
	if (r < 0)
		return EXIT_INPUT;
	if (!header) {
		err_line(ctx->s->name, lr.line_no, "expected the header \"Offset Length Type\" of `rbd diff`");
		return EXIT_INPUT;
	}
	return 0;
}

int parse_rbd_export(struct pctx *ctx)
{
	const struct src *s = ctx->s;
	uint8_t b[16];
	uint64_t pos = 12, size = 0;
	bool have_size = false;

	if (src_read(s, b, 12, 0, "rbd export-diff header"))
		return EXIT_INPUT;
	if (memcmp(b, "rbd diff v1\n", 12)) {
		if (!memcmp(b, "rbd diff v", 10))
			err_at(s->name, 10, "expected export-diff format v1 (\"rbd diff v1\\n\"), found another version");
		else
			err_at(s->name, 0, "expected \"rbd diff v1\\n\"");
		return EXIT_INPUT;
	}
	for (;;) {
		uint64_t tagoff = pos, off, len;
		uint32_t nlen;
		uint8_t tag;
		int r;

		if (src_read(s, b, 1, pos, "record tag (the file must end with 'e')"))
			return EXIT_INPUT;
		pos++;
		tag = b[0];
		switch (tag) {
		case 'f':
		case 't':
			if (src_read(s, b, 4, pos, "snapshot name length"))
				return EXIT_INPUT;
			nlen = get_le32(b);
			if (nlen > 4096) {
				err_at(s->name, pos, "expected a snapshot name of at most 4096 bytes, found length %" PRIu32, nlen);
				return EXIT_INPUT;
			}
			pos += 4;
			if (nlen > s->size || pos > s->size - nlen) {
				err_at(s->name, pos, "truncated: expected %" PRIu32 " bytes of snapshot name", nlen);
				return EXIT_INPUT;
			}
			pos += nlen;
			break;
		case 's':
			if (src_read(s, b, 8, pos, "image size"))
				return EXIT_INPUT;
			size = get_le64(b);
			if (size > (UINT64_C(1) << 62)) {
				err_at(s->name, pos, "oversized: image size %" PRIu64 " exceeds 2^62", size);
				return EXIT_INPUT;
			}
			have_size = true;
			pos += 8;
			break;
		case 'w':
		case 'z':
			if (src_read(s, b, 16, pos, tag == 'w' ? "data record offset and length" : "zero record offset and length"))
				return EXIT_INPUT;
			off = get_le64(b);
			len = get_le64(b + 8);
			pos += 16;
			if (have_size && (off > size || len > size - off)) {
				err_at(s->name, tagoff, "extent %" PRIu64 "+%" PRIu64 " beyond the image size %" PRIu64, off,
				       len, size);
				return EXIT_INPUT;
			}
			r = sink_mark(ctx->sk, tagoff, off, len);
			if (r)
				return r;
			if (tag == 'z')
				break;
			if (len > s->size || pos > s->size - len) {
				err_at(s->name, pos, "truncated: expected %" PRIu64 " bytes of data, file has %" PRIu64, len,
				       s->size - pos);
				return EXIT_INPUT;
			}
			/* a stream's size is unknown: the next record's read finds the end */
			pos += len;
			break;
		case 'e':
			r = src_ends_at(s, pos);
			if (r < 0)
				return EXIT_INPUT;
			if (!r) {
				err_at(s->name, pos, "expected end of file after the 'e' record");
				return EXIT_INPUT;
			}
			if (have_size)
				ctx->in->size = size;
			return 0;
		default:
			err_at(s->name, tagoff, "expected a record tag f, t, s, w, z or e, found 0x%02x", tag);
			return EXIT_INPUT;
		}
	}
}
