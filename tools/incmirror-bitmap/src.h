/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input source: a file or block device (random access with pread), memory, or
 * a stream - standard input, a pipe, a character device - read forward through
 * a window of at most SRC_WINDOW bytes. A format that needs random access
 * reads a stream into memory first (src_need_random), at most SRC_STREAM_MAX
 * bytes: no input is ever held in memory beyond these bounds.
 */
#ifndef IMB_SRC_H
#define IMB_SRC_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

/* the window through which a stream is read forward */
#define SRC_WINDOW (UINT64_C(1) << 20)
/* the most of a stream read into memory for a format that needs random access */
#define SRC_STREAM_MAX (UINT64_C(64) << 20)

struct src_stream;

struct src {
	const char *name;	/* for messages */
	int fd;			/* -1 when in memory */
	uint8_t *mem;		/* owned copy of a stream read with src_need_random */
	const uint8_t *data;	/* memory view (mem or caller's buffer), NULL for fd */
	uint64_t size;		/* UINT64_MAX for a stream until src_need_random */
	struct src_stream *st;	/* non-NULL while read as a stream */
};

/* open PATH ("-" = stdin, a stream). Prints an error and returns -1 on failure. */
int src_open(struct src *s, const char *path);
/* wrap a caller-owned buffer (fuzzers, tests) */
void src_mem(struct src *s, const char *name, const void *buf, size_t len);
void src_close(struct src *s);
/* read exactly n bytes at off; on short read / error prints
 * "NAME: offset OFF: truncated: expected N bytes of WHAT" and returns -1 */
int src_read(const struct src *s, void *buf, size_t n, uint64_t off, const char *what);
/* read up to n bytes; returns bytes read (0 at EOF) or -1 on I/O error (printed) */
long src_read_some(const struct src *s, void *buf, size_t n, uint64_t off);
/* 1 if the input ends at off (no byte there), 0 if not, -1 on I/O error (printed) */
int src_ends_at(const struct src *s, uint64_t off);
/* a stream is read forward only; a format that needs random access calls this:
 * a stream is read into memory, at most SRC_STREAM_MAX bytes. 0, or -1 (printed,
 * naming WHAT, the format). No-op for files, block devices and memory. */
int src_need_random(struct src *s, const char *what);
static inline bool src_is_stream(const struct src *s)
{
	return s->st != NULL;
}

/* Line reader over a src (text formats). Lines longer than max_line are an error. */
struct line_reader {
	const struct src *s;
	uint64_t pos;		/* offset of next unread byte */
	uint64_t line_no;	/* 1-based number of the line last returned */
	uint64_t line_off;	/* offset of the line last returned */
	char buf[4096];
	size_t blen, bpos;
	uint64_t bufoff;
	char line[1024];
};
void lr_init(struct line_reader *lr, const struct src *s);
/* returns 1 with lr->line set (NUL-terminated, without newline), 0 at EOF, -1 on error (printed) */
int lr_next(struct line_reader *lr);

#endif
