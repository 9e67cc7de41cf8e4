// SPDX-License-Identifier: GPL-2.0
/* Input sources. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdbool.h>
#include <linux/fs.h>

#include "common.h"
#include "src.h"

struct src_stream {
	uint8_t *buf;
	size_t cap, len;	/* buf holds stream bytes [start, start + len) */
	uint64_t start;
	size_t max;		/* cap may grow up to max */
	bool eof;
};

static int stream_open(struct src *s, int fd)
{
	struct src_stream *st = calloc(1, sizeof(*st));

	if (st)
		st->buf = malloc(65536);
	if (!st || !st->buf) {
		free(st);
		err_msg("out of memory");
		return -1;
	}
	st->cap = 65536;
	st->max = (size_t)SRC_WINDOW;
	s->st = st;
	s->fd = fd;
	s->size = UINT64_MAX;
	return 0;
}

static void stream_free(struct src *s)
{
	if (s->st)
		free(s->st->buf);
	free(s->st);
	s->st = NULL;
}

/*
 * Read forward: the window keeps the bytes from the lowest offset still
 * asked for; asking for bytes before the window is an error (no parser of a
 * streamed format goes back). At most st->max bytes are held.
 */
static long stream_read(const struct src *s, void *out, size_t n, uint64_t off)
{
	struct src_stream *st = s->st;
	uint64_t avail;

	if (off < st->start) {
		err_at(s->name, off, "cannot read back in a stream (standard input, a pipe or a character "
		       "device): write the input to a file");
		return -1;
	}
	if (n > st->max)
		n = st->max;
	while (st->start + st->len < off + n && !st->eof) {
		ssize_t r;

		if (st->len == st->cap) {
			uint64_t drop = off - st->start;

			if (drop > st->len)
				drop = st->len;
			if (drop && st->cap == st->max) {
				/* slide the window: what lies before off is not needed again */
				memmove(st->buf, st->buf + drop, st->len - (size_t)drop);
				st->len -= (size_t)drop;
				st->start += drop;
			} else if (st->cap < st->max) {
				size_t ncap = st->cap * 2 < st->max ? st->cap * 2 : st->max;
				uint8_t *nb = realloc(st->buf, ncap);

				if (!nb) {
					err_msg("out of memory");
					return -1;
				}
				st->buf = nb;
				st->cap = ncap;
			} else {
				err_at(s->name, st->start, "more than %zu bytes of a stream would have to be held in "
				       "memory: write the input to a file", st->max);
				return -1;
			}
		}
		r = read(s->fd, st->buf + st->len, st->cap - st->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_at(s->name, st->start + st->len, "read error: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			st->eof = true;
		st->len += (size_t)r;
	}
	if (off >= st->start + st->len)
		return 0;
	avail = st->start + st->len - off;
	if (n > avail)
		n = (size_t)avail;
	memcpy(out, st->buf + (off - st->start), n);
	return (long)n;
}

int src_need_random(struct src *s, const char *what)
{
	struct src_stream *st = s->st;
	uint8_t b;

	if (!st)
		return 0;
	if (st->start) {
		err_msg("%s: a %s input needs random access, and this stream has been read past: write the "
			"input to a file", s->name, what);
		return -1;
	}
	st->max = (size_t)SRC_STREAM_MAX;
	/* read up to the bound, then one byte more to tell "ends there" from "longer" */
	if (stream_read(s, &b, 1, SRC_STREAM_MAX - 1) < 0)
		return -1;
	if (!st->eof) {
		/* the window is full at the bound: is there more? */
		ssize_t r;

		do
			r = read(s->fd, &b, 1);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			err_at(s->name, SRC_STREAM_MAX, "read error: %s", strerror(errno));
			return -1;
		}
		if (r > 0) {
			err_at(s->name, SRC_STREAM_MAX, "a %s input read from a stream (standard input, a pipe or a "
			       "character device) is held in memory, at most %" PRIu64 " MiB; this one is longer: "
			       "write it to a file", what, SRC_STREAM_MAX >> 20);
			return -1;
		}
	}
	s->mem = st->buf;
	s->data = st->buf;
	s->size = st->len;
	st->buf = NULL;
	stream_free(s);
	return 0;
}

int src_open(struct src *s, const char *path)
{
	struct stat st;
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->name = path;
	if (!strcmp(path, "-")) {
		s->name = "<stdin>";
		fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			err_msg("<stdin>: %s", strerror(errno));
			return -1;
		}
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0) {
			s->fd = fd;	/* a regular file from its start: random access */
			s->size = (uint64_t)st.st_size;
			return 0;
		}
		if (stream_open(s, fd)) {
			close(fd);
			return -1;
		}
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_msg("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		err_msg("%s: stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		s->fd = fd;
		s->size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;

		if (ioctl(fd, BLKGETSIZE64, &sz)) {
			err_msg("%s: BLKGETSIZE64: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		s->fd = fd;
		s->size = sz;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		err_msg("%s: is a directory", path);
		close(fd);
		return -1;
	}
	/* pipe, socket, character device: read forward */
	if (stream_open(s, fd)) {
		close(fd);
		return -1;
	}
	return 0;
}

void src_mem(struct src *s, const char *name, const void *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->name = name;
	s->data = buf;
	s->size = len;
}

void src_close(struct src *s)
{
	stream_free(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->mem);
	s->fd = -1;
	s->mem = NULL;
	s->data = NULL;
}

long src_read_some(const struct src *s, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	if (s->st)
		return stream_read(s, buf, n, off);
	if (off >= s->size)
		return 0;
	if (n > s->size - off)
		n = (size_t)(s->size - off);
	if (n > (size_t)LONG_MAX)
		n = (size_t)LONG_MAX;
	if (s->data) {
		memcpy(buf, s->data + off, n);
		return (long)n;
	}
	while (done < n) {
		ssize_t r = pread(s->fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_at(s->name, off + done, "read error: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (long)done;
}

int src_read(const struct src *s, void *buf, size_t n, uint64_t off, const char *what)
{
	long r = src_read_some(s, buf, n, off);

	if (r < 0)
		return -1;
	if ((size_t)r != n) {
		err_at(s->name, off, "truncated: expected %zu bytes of %s, file has %ld", n, what, r);
		return -1;
	}
	return 0;
}

int src_ends_at(const struct src *s, uint64_t off)
{
	uint8_t b;
	long r = src_read_some(s, &b, 1, off);

	return r < 0 ? -1 : r == 0;
}

void lr_init(struct line_reader *lr, const struct src *s)
{
	memset(lr, 0, sizeof(*lr));
	lr->s = s;
}

int lr_next(struct line_reader *lr)
{
	size_t len = 0;
	bool any = false;

	lr->line_off = lr->pos;
	lr->line_no++;
	for (;;) {
		char c;

		if (lr->bpos == lr->blen) {
			long r = src_read_some(lr->s, lr->buf, sizeof(lr->buf), lr->pos);

			if (r < 0)
				return -1;
			if (r == 0) {
				if (!any)
					return 0;
				break;
			}
			lr->blen = (size_t)r;
			lr->bpos = 0;
		}
		c = lr->buf[lr->bpos++];
		lr->pos++;
		any = true;
		if (c == '\n')
			break;
		if (c == '\0') {
			err_at(lr->s->name, lr->pos - 1, "expected text, found a NUL byte (line %" PRIu64 ")",
			       lr->line_no);
			return -1;
		}
		if (len + 1 >= sizeof(lr->line)) {
			err_line(lr->s->name, lr->line_no, "line longer than %zu bytes (offset %" PRIu64 ")",
				 sizeof(lr->line) - 1, lr->line_off);
			return -1;
		}
		lr->line[len++] = c;
	}
	if (len && lr->line[len - 1] == '\r')
		len--;
	lr->line[len] = '\0';
	return 1;
}
