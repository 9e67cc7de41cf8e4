/* SPDX-License-Identifier: GPL-2.0 */
/* Input source: a file (random access with pread), a block device, or memory. */
#ifndef IMB_SRC_H
#define IMB_SRC_H

#include <stddef.h>
#include <stdint.h>

struct src {
	const char *name;	/* for messages */
	int fd;			/* -1 when in memory */
	uint8_t *mem;		/* owned copy when slurped (stdin/pipes) */
	const uint8_t *data;	/* memory view (mem or caller's buffer), NULL for fd */
	uint64_t size;
};

/* open PATH ("-" = stdin, read into memory). Prints an error and returns -1 on failure. */
int src_open(struct src *s, const char *path);
/* wrap a caller-owned buffer (fuzzers, tests) */
void src_mem(struct src *s, const char *name, const void *buf, size_t len);
void src_close(struct src *s);
/* read exactly n bytes at off; on short read / error prints
 * "NAME: offset OFF: truncated: expected N bytes of WHAT" and returns -1 */
int src_read(const struct src *s, void *buf, size_t n, uint64_t off, const char *what);
/* read up to n bytes; returns bytes read (0 at EOF) or -1 on I/O error (printed) */
long src_read_some(const struct src *s, void *buf, size_t n, uint64_t off);

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
