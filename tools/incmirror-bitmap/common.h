/* SPDX-License-Identifier: GPL-2.0 */
/* incmirror-bitmap: shared definitions (exit codes, error reporting, numbers). */
#ifndef IMB_COMMON_H
#define IMB_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROG "incmirror-bitmap"

/* Exit status (documented in Documentation/incmirror-bitmap.rst). */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command line */
	EXIT_INPUT = 2,		/* unreadable, malformed, corrupt or refused input */
	EXIT_DEVICE = 3,	/* device-mapper / kernel error */
	EXIT_SIZE = 4,		/* size mismatch between input and device */
	EXIT_SYSTEM = 5,	/* out of memory, cannot write output */
};

/* Error reporting: everything goes to stderr prefixed with PROG. */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: FILE: offset N: ..." */
void err_at(const char *file, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "PROG: FILE: line N: ..." */
void err_line(const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Unsigned decimal/size parsing. All return 0 on success, -1 on error. */
int parse_u64(const char *s, uint64_t *out);		/* decimal only */
/* decimal with optional binary suffix K M G T P E (case-insensitive, optional "iB"/"B") */
int parse_size(const char *s, uint64_t *out);
int parse_ssize(const char *s, int64_t *out);		/* like parse_size, optional '-' */

/* overflow-checked arithmetic; return false on overflow */
static inline bool mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_mul_overflow(a, b, r);
}
static inline bool add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}
static inline uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}
static inline bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
	return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}
static inline uint32_t get_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}
static inline uint64_t get_le64(const uint8_t *p)
{
	return ((uint64_t)get_le32(p + 4) << 32) | get_le32(p);
}
static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);	/* IEEE 802.3, start with 0 */

#endif
