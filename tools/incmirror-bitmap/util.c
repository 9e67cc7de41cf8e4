// SPDX-License-Identifier: GPL-2.0
/* incmirror-bitmap: error reporting, number parsing, CRC32. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common.h"

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void err_at(const char *file, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: offset %" PRIu64 ": ", file, off);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void err_line(const char *file, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: line %" PRIu64 ": ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (!mul_u64(v, 10, &v) || !add_u64(v, (uint64_t)(*s - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*p); p++)
		if (!mul_u64(v, 10, &v) || !add_u64(v, (uint64_t)(*p - '0'), &v))
			return -1;
	if (*p) {
		static const char units[] = "KMGTPE";
		const char *u = strchr(units, toupper((unsigned char)*p));

		if (!u)
			return -1;
		for (long i = 0; i <= u - units; i++)
			mult *= 1024;
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
		if (*p)
			return -1;
	}
	if (!mul_u64(v, mult, &v))
		return -1;
	*out = v;
	return 0;
}

int parse_ssize(const char *s, int64_t *out)
{
	uint64_t v;
	bool neg = false;

	if (s && *s == '-') {
		neg = true;
		s++;
	}
	if (parse_size(s, &v) || v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* CRC-32 (IEEE 802.3): zlib's crc32_z(), which takes a size_t length. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}
