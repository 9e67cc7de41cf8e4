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
#include <linux/fs.h>

#include "common.h"
#include "src.h"

static int slurp(struct src *s, int fd)
{
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -1;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			uint8_t *n = realloc(buf, cap * 2);

			if (!n) {
				free(buf);
				return -1;
			}
			buf = n;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_msg("%s: read: %s", s->name, strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	s->mem = buf;
	s->data = buf;
	s->size = len;
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
		return slurp(s, 0);
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
	/* pipe, socket, character device: read it all */
	if (slurp(s, fd)) {
		close(fd);
		return -1;
	}
	close(fd);
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
		err_at(s->name, off, "truncated: expected %zu bytes of %s, file has %" PRIu64,
		       n, what, s->size > off ? s->size - off : 0);
		return -1;
	}
	return 0;
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
