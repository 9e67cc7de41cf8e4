// SPDX-License-Identifier: GPL-2.0
/*
 * lw-replay: read and replay dm-log-writes logs, compare images region by
 * region, decode dm-incmirror metadata images. A test tool: strict about its
 * inputs, says which field at which offset is wrong.
 *
 * The dm-log-writes log format (drivers/md/dm-log-writes.c), all little
 * endian. S below is the log's sectorsize: the logical block size of the
 * logged device, recorded in the super.
 *
 *   byte 0:  super  { le64 magic = 0x6a736677736872; le64 version = 1;
 *                     le64 nr_entries; le32 sectorsize; }   padded to S
 *   byte S:  entry 0 header { le64 sector; le64 nr_sectors; le64 flags;
 *                             le64 data_len; }  then, for a mark, data_len
 *            bytes of text (no NUL); the rest of the S bytes are zero
 *            then nr_sectors * S bytes of written data (none for discards)
 *   entry 1 header right after, and so on.
 *
 * sector and nr_sectors are in units of S (the kernel shifts bio sectors by
 * log2(S) - 9), so the data goes to byte sector * S of the device.
 *
 * The kernel rewrites the super (nr_entries) after FUA and mark entries only,
 * not after plain flushes, so a log whose device was never removed (a crash)
 * has entries past nr_entries. Entries below nr_entries must all be valid
 * (else exit 2); past it the scan goes on while entries stay valid and stops
 * at the first invalid one (zeroed space, end of device). Stale entries left
 * by an earlier log on the same device cannot be told from new ones: zero a
 * reused log device first, or use --no-scan.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "lw-replay"

enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_ERR = 2 };

#define LOG_FLUSH_FLAG (1u << 0)
#define LOG_FUA_FLAG (1u << 1)
#define LOG_DISCARD_FLAG (1u << 2)
#define LOG_MARK_FLAG (1u << 3)
#define LOG_METADATA_FLAG (1u << 4)
#define LOG_ALL_FLAGS 0x1fu

#define WRITE_LOG_MAGIC UINT64_C(0x6a736677736872)
#define WRITE_LOG_VERSION 1
#define ENTRY_HDR 32

#define IM_MAGIC UINT32_C(0x524d4d49)
#define IM_VERSION 1
#define IM_FLAG_CLEAN (1u << 0)
#define IM_FLAG_STARTED (1u << 1)
#define IM_FLAG_NEEDS_FULL_COPY (1u << 2)
#define IM_ALL_FLAGS 31u /* CLEAN STARTED NEEDS_FULL_COPY DEGRADED PAUSED */
#define IM_BITMAP_OFFSET 8
#define IM_SB_USED 512

#define CHUNK (8u << 20)

static const char usage_text[] =
	"Usage: lw-replay COMMAND ARGS...\n"
	"\n"
	"Read and replay dm-log-writes logs; compare images; decode dm-incmirror\n"
	"metadata.\n"
	"\n"
	"  info [--no-scan] LOG\n"
	"      sectorsize, nr_entries of the super, entries found, where the scan\n"
	"      stopped.\n"
	"  points [--no-scan] LOG\n"
	"      one line per flush, FUA or mark entry:\n"
	"      <index> <flags, comma separated> [mark text]\n"
	"  list [--no-scan] LOG\n"
	"      every entry: <index> <log byte offset> <flags> <byte start> <bytes>\n"
	"      [mark text]\n"
	"  replay [--no-scan] LOG TARGET [--from N] [--to M]\n"
	"      apply the entries with index in [N, M) (default: all) to TARGET (a\n"
	"      file or block device) in log order, then fsync TARGET. The state at\n"
	"      point P is that after replaying [0, P + 1). A discard is replayed\n"
	"      as zeroes written over its range: what loop on tmpfs and brd (for\n"
	"      whole pages) read back after a discard; a device that keeps data\n"
	"      on discard will not match.\n"
	"  diff-regions A OFFA B OFFB LEN REGION_BYTES\n"
	"      compare LEN bytes of A at byte OFFA with B at byte OFFB; print the\n"
	"      index of every region of REGION_BYTES (the last one may be short)\n"
	"      that differs. Exit 1 when any differs.\n"
	"  meta-dirty META OFF\n"
	"      validate the dm-incmirror metadata at byte OFF of META and print its\n"
	"      dirty regions, one per line (all of them when NEEDS_FULL_COPY is\n"
	"      set).\n"
	"  check-incmirror [--no-scan] LOG BASE --src OFF --dst OFF --len LEN\n"
	"          --meta OFF --region BYTES [--after-mark TEXT] [--until-mark TEXT]\n"
	"          [--save-at I,J,K --save-dir DIR]\n"
	"      crash consistency of dm-incmirror, in one pass over LOG. BASE is an\n"
	"      image (at most 1 GiB, loaded in memory) of the logged device as it\n"
	"      was when the log started; the entries are applied to it in log\n"
	"      order as replay does. A point is a flush or FUA entry: at each, on\n"
	"      the state after applying it, D = the regions of REGION bytes (the\n"
	"      last one may be short) where LEN bytes at --src and --dst differ,\n"
	"      M = the dirty regions of the metadata at --meta, decoded as\n"
	"      meta-dirty does (all of them when NEEDS_FULL_COPY is set). A point\n"
	"      violates when some region of D is not in M, or when the metadata\n"
	"      is invalid, or its region_sectors * 512 is not REGION, or its\n"
	"      nr_regions not LEN / REGION rounded up; one line each:\n"
	"        VIOLATION point <index>: <n> regions differ but are clean in the\n"
	"        metadata: <the first 16 of them> [...]\n"
	"        VIOLATION point <index>: invalid metadata: offset <byte>: <why>\n"
	"        (<n> regions differ)\n"
	"      then: checked <P> points (<F> flush, <U> fua) from entry <first>\n"
	"      to <last>, <V> violations, max dirty-in-metadata <X>, max\n"
	"      differing <Y>   (an entry with flush and FUA counts as flush).\n"
	"      Only the points after the first mark TEXT of --after-mark, and\n"
	"      before the first mark TEXT of --until-mark that follows it, are\n"
	"      checked (a mark not found: exit 2). --save-at writes the image\n"
	"      after entry I (any entry) to DIR/point-I.img (DIR made as mkdir -p):\n"
	"      the same as replay --to I+1 over a copy of BASE. Exit 1 when any\n"
	"      point violates.\n"
	"\n"
	"Numbers take an optional binary suffix K, M, G or T. Entry indexes count\n"
	"from 0 (the first entry after the super).\n"
	"\n"
	"The kernel rewrites the super's nr_entries only after FUA and mark\n"
	"entries, so a log whose device was not removed cleanly has entries past\n"
	"it: every entry below nr_entries must be valid (else exit 2), and the\n"
	"scan goes on past it while entries stay valid. Entries left by an older\n"
	"log on the same device look valid too: zero a reused log device first.\n"
	"--no-scan uses only the nr_entries entries the super records.\n"
	"\n"
	"Block devices given as inputs have their clean cached pages dropped\n"
	"first (POSIX_FADV_DONTNEED), as a device-mapper target may have written\n"
	"them behind the page cache.\n"
	"\n"
	"Exit status: 0 ok, 1 check failed (differences), 2 usage, I/O or format\n"
	"error.\n";

/* ------------------------------------------------------------ errors */

static void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "lw-replay: FILE: offset N: ..." */
static void err_at(const char *file, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_at(const char *file, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: offset %" PRIu64 ": ", file, off);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_err(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, PROG " %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return EXIT_ERR;
}

/* ------------------------------------------------------------ helpers */

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Decimal with an optional binary suffix K M G T. 0 ok, -1 bad. */
static int parse_num(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -1;
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = UINT64_C(1) << 10;
		break;
	case 'm': case 'M':
		mul = UINT64_C(1) << 20;
		break;
	case 'g': case 'G':
		mul = UINT64_C(1) << 30;
		break;
	case 't': case 'T':
		mul = UINT64_C(1) << 40;
		break;
	default:
		return -1;
	}
	if (*p && p[1])
		return -1;
	if (__builtin_mul_overflow(v, mul, &v) || v > (UINT64_C(1) << 62))
		return -1;
	*out = v;
	return 0;
}

static int open_input(const char *path, int flags, uint64_t *size)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);
	off_t end;

	if (fd < 0) {
		err_msg("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		err_msg("%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err_msg("%s: not a regular file or block device", path);
		close(fd);
		return -1;
	}
	if (S_ISBLK(st.st_mode))
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		err_msg("%s: cannot find its size: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (size)
		*size = (uint64_t)end;
	return fd;
}

/* Read exactly len bytes at off. 0 ok; -1 error (reported). */
static int read_full(int fd, const char *path, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_at(path, off, "read error: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			err_at(path, off, "unexpected end of file (%zu more bytes expected)", len);
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const char *path, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_at(path, off, "write error: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			err_at(path, off, "write error: no space (end of device?)");
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		err_msg("out of memory (%zu bytes)", n);
		exit(EXIT_ERR);
	}
	return p;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ------------------------------------------------------------ the log */

struct entry {
	uint64_t off;		/* byte offset of the header in the log */
	uint64_t sector;	/* in units of the log's sectorsize */
	uint64_t nr_sectors;
	uint32_t flags;
	char *mark;		/* NUL-terminated mark text, or NULL */
};

struct lwlog {
	const char *path;
	int fd;
	uint64_t size;
	uint32_t ss;
	uint64_t nr_super;
	struct entry *e;
	uint64_t n;		/* entries found */
	uint64_t end;		/* byte just past the last entry */
	char stop[200];		/* why the scan stopped */
};

static void flags_words(uint32_t flags, char *buf, size_t len)
{
	static const char *const names[] = { "flush", "fua", "discard", "mark", "metadata" };
	size_t at = 0;

	buf[0] = '\0';
	if (!flags) {
		snprintf(buf, len, "write");
		return;
	}
	for (unsigned i = 0; i < 5; i++) {
		if (flags & (1u << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "," : "", names[i]);
	}
}

/*
 * Check one entry header block (ss bytes at off). Returns NULL when valid,
 * else a description of what is wrong (and *field_off its log offset).
 */
static const char *check_entry(const struct lwlog *l, const uint8_t *h, uint64_t off,
			       uint64_t *field_off, char *why, size_t whylen)
{
	uint64_t sector = get_le64(h), nr = get_le64(h + 8), flags = get_le64(h + 16);
	uint64_t dlen = get_le64(h + 24), bytes, end;

	*field_off = off;
	if (all_zero(h, l->ss))
		return "zeroed entry header (end of log)";
	*field_off = off + 16;
	if (flags & ~(uint64_t)LOG_ALL_FLAGS) {
		snprintf(why, whylen, "flags: unknown bits set (0x%" PRIx64 ")", flags);
		return why;
	}
	if (flags & LOG_MARK_FLAG) {
		if (flags != LOG_MARK_FLAG) {
			snprintf(why, whylen, "flags: mark combined with other flags (0x%" PRIx64 ")", flags);
			return why;
		}
		*field_off = off + 8;
		if (nr) {
			snprintf(why, whylen, "nr_sectors: a mark with %" PRIu64 " sectors", nr);
			return why;
		}
		*field_off = off + 24;
		if (dlen > l->ss - ENTRY_HDR - 1) {
			snprintf(why, whylen, "data_len: mark text of %" PRIu64 " bytes, at most %u fit",
				 dlen, l->ss - ENTRY_HDR - 1);
			return why;
		}
		for (uint64_t i = 0; i < dlen; i++) {
			if (!h[ENTRY_HDR + i]) {
				*field_off = off + ENTRY_HDR + i;
				snprintf(why, whylen, "mark text: NUL byte within data_len %" PRIu64, dlen);
				return why;
			}
		}
		if (!all_zero(h + ENTRY_HDR + dlen, l->ss - ENTRY_HDR - dlen)) {
			*field_off = off + ENTRY_HDR + dlen;
			return "padding after the mark text is not zero";
		}
		return NULL;
	}
	*field_off = off + 24;
	if (dlen) {
		snprintf(why, whylen, "data_len: %" PRIu64 " for an entry that is not a mark", dlen);
		return why;
	}
	if (!all_zero(h + ENTRY_HDR, l->ss - ENTRY_HDR)) {
		*field_off = off + ENTRY_HDR;
		return "padding after the entry header is not zero";
	}
	*field_off = off + 8;
	if (!nr && !(flags & LOG_FLUSH_FLAG)) {
		snprintf(why, whylen, "nr_sectors: 0 for an entry that is not a flush (flags 0x%" PRIx64 ")",
			 flags);
		return why;
	}
	if ((flags & LOG_DISCARD_FLAG) && (flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG))) {
		*field_off = off + 16;
		snprintf(why, whylen, "flags: discard with flush or FUA (0x%" PRIx64 ")", flags);
		return why;
	}
	if (__builtin_mul_overflow(nr, l->ss, &bytes) ||
	    __builtin_mul_overflow(sector, l->ss, &end) ||
	    __builtin_add_overflow(end, bytes, &end) || end > (UINT64_C(1) << 62)) {
		*field_off = off;
		snprintf(why, whylen, "sector %" PRIu64 " + nr_sectors %" PRIu64 " out of range",
			 sector, nr);
		return why;
	}
	return NULL;
}

static void log_close(struct lwlog *l)
{
	for (uint64_t i = 0; i < l->n; i++)
		free(l->e[i].mark);
	free(l->e);
	if (l->fd >= 0)
		close(l->fd);
}

/* Open and scan a log. 0 ok; EXIT_ERR (reported). */
static int log_open(struct lwlog *l, const char *path, bool scan)
{
	uint8_t sb[512], *h = NULL;
	uint64_t off, cap = 0, version, magic;
	int rc = EXIT_ERR;

	memset(l, 0, sizeof(*l));
	l->path = path;
	l->fd = open_input(path, O_RDONLY, &l->size);
	if (l->fd < 0)
		return EXIT_ERR;
	if (l->size < 512) {
		err_at(path, 0, "truncated: %" PRIu64 " bytes, no room for the log super", l->size);
		return EXIT_ERR;
	}
	if (read_full(l->fd, path, sb, sizeof(sb), 0))
		return EXIT_ERR;
	magic = get_le64(sb);
	if (magic != WRITE_LOG_MAGIC) {
		err_at(path, 0, "magic: expected 0x%" PRIx64 " (dm-log-writes), found 0x%" PRIx64,
		       WRITE_LOG_MAGIC, magic);
		return EXIT_ERR;
	}
	version = get_le64(sb + 8);
	if (version != WRITE_LOG_VERSION) {
		err_at(path, 8, "version: expected %d, found %" PRIu64, WRITE_LOG_VERSION, version);
		return EXIT_ERR;
	}
	l->nr_super = get_le64(sb + 16);
	l->ss = get_le32(sb + 24);
	if (l->ss < 512 || l->ss > 65536 || (l->ss & (l->ss - 1))) {
		err_at(path, 24, "sectorsize: expected a power of two in 512..65536, found %u", l->ss);
		return EXIT_ERR;
	}
	h = xmalloc(l->ss);
	off = l->ss;
	for (;;) {
		uint64_t fo, data;
		const char *bad;
		char why[160];
		struct entry *e;

		if (!scan && l->n >= l->nr_super) {
			snprintf(l->stop, sizeof(l->stop), "offset %" PRIu64 ": --no-scan: nr_entries reached",
				 off);
			break;
		}
		if (l->size - off < l->ss) {
			if (l->n < l->nr_super) {
				err_at(path, off, "truncated: entry %" PRIu64 " of the %" PRIu64
				       " the super records is missing", l->n, l->nr_super);
				goto out;
			}
			snprintf(l->stop, sizeof(l->stop), "offset %" PRIu64 ": end of the log device", off);
			break;
		}
		if (read_full(l->fd, path, h, l->ss, off))
			goto out;
		bad = check_entry(l, h, off, &fo, why, sizeof(why));
		if (bad) {
			if (l->n < l->nr_super) {
				err_at(path, fo, "entry %" PRIu64 " (of %" PRIu64 " the super records): %s",
				       l->n, l->nr_super, bad);
				goto out;
			}
			snprintf(l->stop, sizeof(l->stop), "offset %" PRIu64 ": %s", fo, bad);
			break;
		}
		data = (get_le64(h + 16) & LOG_DISCARD_FLAG) ? 0 : get_le64(h + 8) * l->ss;
		if (data > l->size - off - l->ss) {
			if (l->n < l->nr_super) {
				err_at(path, off + l->ss, "truncated: entry %" PRIu64 " has %" PRIu64
				       " bytes of data, the log ends %" PRIu64 " bytes after its header",
				       l->n, data, l->size - off - l->ss);
				goto out;
			}
			snprintf(l->stop, sizeof(l->stop), "offset %" PRIu64 ": entry data past the end of the log device",
				 off);
			break;
		}
		if (l->n == cap) {
			struct entry *ne;

			cap = cap ? cap * 2 : 256;
			ne = realloc(l->e, cap * sizeof(*ne));
			if (!ne) {
				err_msg("out of memory");
				goto out;
			}
			l->e = ne;
		}
		e = &l->e[l->n];
		e->off = off;
		e->sector = get_le64(h);
		e->nr_sectors = get_le64(h + 8);
		e->flags = (uint32_t)get_le64(h + 16);
		e->mark = NULL;
		if (e->flags & LOG_MARK_FLAG) {
			uint64_t dl = get_le64(h + 24);

			e->mark = xmalloc(dl + 1);
			memcpy(e->mark, h + ENTRY_HDR, dl);
			e->mark[dl] = '\0';
		}
		l->n++;
		off += l->ss + data;
	}
	l->end = off;
	rc = 0;
out:
	free(h);
	return rc;
}

static void print_mark(const char *m)
{
	for (const unsigned char *p = (const unsigned char *)m; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '\\')
			putchar(*p);
		else
			printf("\\x%02x", *p);
	}
}

static int finish_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("cannot write to standard output: %s", strerror(errno));
		return EXIT_ERR;
	}
	return EXIT_OK;
}

static int cmd_info(struct lwlog *l)
{
	uint64_t counts[5] = { 0 }, writes = 0;

	for (uint64_t i = 0; i < l->n; i++) {
		for (unsigned b = 0; b < 5; b++)
			if (l->e[i].flags & (1u << b))
				counts[b]++;
		if (!l->e[i].flags)
			writes++;
	}
	printf("sectorsize: %u\n", l->ss);
	printf("super-nr-entries: %" PRIu64 "\n", l->nr_super);
	printf("entries: %" PRIu64 "\n", l->n);
	printf("entries-after-super: %" PRIu64 "\n", l->n > l->nr_super ? l->n - l->nr_super : 0);
	printf("plain-writes: %" PRIu64 "\n", writes);
	printf("flush: %" PRIu64 "\nfua: %" PRIu64 "\ndiscard: %" PRIu64 "\nmark: %" PRIu64
	       "\nmetadata: %" PRIu64 "\n", counts[0], counts[1], counts[2], counts[3], counts[4]);
	printf("log-bytes-used: %" PRIu64 "\n", l->end);
	printf("scan-end: %s\n", l->stop);
	return finish_stdout();
}

static int cmd_points(struct lwlog *l, bool all)
{
	char fw[64];

	for (uint64_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];

		if (!all && !(e->flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG | LOG_MARK_FLAG)))
			continue;
		flags_words(e->flags, fw, sizeof(fw));
		if (all)
			printf("%" PRIu64 " %" PRIu64 " %s %" PRIu64 " %" PRIu64, i, e->off, fw,
			       e->sector * l->ss, e->nr_sectors * l->ss);
		else
			printf("%" PRIu64 " %s", i, fw);
		if (e->mark) {
			putchar(' ');
			print_mark(e->mark);
		}
		putchar('\n');
	}
	return finish_stdout();
}

static int cmd_replay(struct lwlog *l, const char *target, uint64_t from, uint64_t to)
{
	uint8_t *buf = xmalloc(CHUNK);
	int fd, rc = EXIT_ERR;

	fd = open(target, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err_msg("%s: cannot open for writing: %s", target, strerror(errno));
		free(buf);
		return EXIT_ERR;
	}
	for (uint64_t i = from; i < to; i++) {
		const struct entry *e = &l->e[i];
		uint64_t pos = e->sector * l->ss, len = e->nr_sectors * l->ss, done = 0;

		if (e->flags & LOG_DISCARD_FLAG) {
			memset(buf, 0, CHUNK);
			while (done < len) {
				size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

				if (write_full(fd, target, buf, n, pos + done))
					goto out;
				done += n;
			}
			continue;
		}
		while (done < len) {
			size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

			if (read_full(l->fd, l->path, buf, n, e->off + l->ss + done) ||
			    write_full(fd, target, buf, n, pos + done))
				goto out;
			done += n;
		}
	}
	if (fsync(fd)) {
		err_msg("%s: fsync: %s", target, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	if (close(fd) && rc == EXIT_OK) {
		err_msg("%s: close: %s", target, strerror(errno));
		rc = EXIT_ERR;
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ diff-regions */

static int cmd_diff(char **av)
{
	const char *pa = av[0], *pb = av[2];
	uint64_t offa, offb, len, rb, sa, sb, pos = 0, last = UINT64_MAX;
	uint8_t *ba, *bb;
	int fa, fb, rc = EXIT_ERR;
	bool differ = false;

	if (parse_num(av[1], &offa))
		return usage_err("diff-regions", "bad offset '%s'", av[1]);
	if (parse_num(av[3], &offb))
		return usage_err("diff-regions", "bad offset '%s'", av[3]);
	if (parse_num(av[4], &len))
		return usage_err("diff-regions", "bad length '%s'", av[4]);
	if (parse_num(av[5], &rb) || !rb)
		return usage_err("diff-regions", "bad region size '%s'", av[5]);
	fa = open_input(pa, O_RDONLY, &sa);
	if (fa < 0)
		return EXIT_ERR;
	fb = open_input(pb, O_RDONLY, &sb);
	if (fb < 0) {
		close(fa);
		return EXIT_ERR;
	}
	if (offa > sa || len > sa - offa) {
		err_at(pa, sa, "too short: %" PRIu64 " bytes, the comparison needs %" PRIu64 " + %" PRIu64,
		       sa, offa, len);
		goto out_close;
	}
	if (offb > sb || len > sb - offb) {
		err_at(pb, sb, "too short: %" PRIu64 " bytes, the comparison needs %" PRIu64 " + %" PRIu64,
		       sb, offb, len);
		goto out_close;
	}
	ba = xmalloc(CHUNK);
	bb = xmalloc(CHUNK);
	while (pos < len) {
		size_t n = len - pos < CHUNK ? (size_t)(len - pos) : CHUNK;
		uint64_t r;

		if (read_full(fa, pa, ba, n, offa + pos) || read_full(fb, pb, bb, n, offb + pos))
			goto out;
		if (!memcmp(ba, bb, n)) {
			pos += n;
			continue;
		}
		for (r = pos / rb; r * rb < pos + n; r++) {
			uint64_t s = r * rb, e = s + rb;

			if (s < pos)
				s = pos;
			if (e > pos + n)
				e = pos + n;
			if (r == last)
				continue;
			if (memcmp(ba + (s - pos), bb + (s - pos), (size_t)(e - s))) {
				printf("%" PRIu64 "\n", r);
				last = r;
				differ = true;
			}
		}
		pos += n;
	}
	rc = finish_stdout();
	if (rc == EXIT_OK && differ)
		rc = EXIT_CHECK;
out:
	free(ba);
	free(bb);
out_close:
	close(fa);
	close(fb);
	return rc;
}

/* ------------------------------------------------------------ meta-dirty */

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32(0, buf, len)). */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	}
	while (n--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* Bytes of the bitmap of nr regions: whole 4 KiB blocks. */
static uint64_t im_bitmap_bytes(uint64_t nr)
{
	return ((nr + 7) / 8 + 4095) / 4096 * 4096;
}

/* A dm-incmirror superblock's fields, once valid. */
struct im_sb {
	uint32_t flags;
	uint64_t region, target, nr, bmoff, bmsec, gen;
};

/*
 * Validate the first IM_SB_USED bytes of a dm-incmirror superblock (sb: a
 * copy, its csum field is zeroed on the way). NULL when valid, with *s
 * filled; else what is wrong, in why, and *fo the offset of the field from
 * the start of the superblock.
 */
static const char *im_check_sb(uint8_t *sb, struct im_sb *s, uint64_t *fo, char *why, size_t wl)
{
	uint32_t magic, csum, calc, version;
	uint64_t want;

	*fo = 0;
	magic = get_le32(sb);
	if (magic != IM_MAGIC) {
		snprintf(why, wl, "magic: expected 0x%08x (\"IMMR\"), found 0x%08x", IM_MAGIC, magic);
		return why;
	}
	csum = get_le32(sb + 4);
	memset(sb + 4, 0, 4);
	calc = crc32_ieee(sb, IM_SB_USED);
	*fo = 4;
	if (csum != calc) {
		snprintf(why, wl, "csum: superblock checksum 0x%08x does not match its contents (0x%08x)",
			 csum, calc);
		return why;
	}
	version = get_le32(sb + 8);
	*fo = 8;
	if (version != IM_VERSION) {
		snprintf(why, wl, "version: expected %d, found %u", IM_VERSION, version);
		return why;
	}
	s->flags = get_le32(sb + 12);
	*fo = 12;
	if (s->flags & ~IM_ALL_FLAGS) {
		snprintf(why, wl, "flags: unknown bits set (0x%08x)", s->flags);
		return why;
	}
	for (unsigned i = 32; i < 160; i++) {
		if (sb[i])
			continue;
		for (unsigned k = i + 1; k < 160; k++) {
			if (sb[k]) {
				*fo = k;
				snprintf(why, wl, "owner: not NUL padded (byte 0x%02x after its end)", sb[k]);
				return why;
			}
		}
		break;
	}
	s->region = get_le64(sb + 160);
	s->target = get_le64(sb + 168);
	s->nr = get_le64(sb + 176);
	s->bmoff = get_le64(sb + 184);
	s->bmsec = get_le64(sb + 192);
	s->gen = get_le64(sb + 200);
	*fo = 160;
	if (!s->region || s->region > (UINT64_C(1) << 40)) {
		snprintf(why, wl, "region_sectors: expected 1..2^40, found %" PRIu64, s->region);
		return why;
	}
	*fo = 168;
	if (!s->target || s->target > (UINT64_C(1) << 53)) {
		snprintf(why, wl, "target_sectors: expected 1..2^53, found %" PRIu64, s->target);
		return why;
	}
	want = s->target / s->region + (s->target % s->region != 0);
	*fo = 176;
	if (s->nr != want) {
		snprintf(why, wl, "nr_regions: expected %" PRIu64 " (target_sectors %" PRIu64
			 " / region_sectors %" PRIu64 ", rounded up), found %" PRIu64,
			 want, s->target, s->region, s->nr);
		return why;
	}
	*fo = 184;
	if (s->bmoff != IM_BITMAP_OFFSET) {
		snprintf(why, wl, "bitmap_offset: expected %d, found %" PRIu64, IM_BITMAP_OFFSET, s->bmoff);
		return why;
	}
	want = im_bitmap_bytes(s->nr) / 512;
	*fo = 192;
	if (s->bmsec != want) {
		snprintf(why, wl, "bitmap_sectors: expected %" PRIu64 " for %" PRIu64
			 " regions, found %" PRIu64, want, s->nr, s->bmsec);
		return why;
	}
	for (unsigned i = 208; i < IM_SB_USED; i++) {
		if (sb[i]) {
			*fo = i;
			snprintf(why, wl, "reserved: byte %u of the superblock is 0x%02x, expected 0",
				 i, sb[i]);
			return why;
		}
	}
	return NULL;
}

/* Region r is dirty in the bitmap bm (LSB first) of a valid superblock s. */
static bool im_dirty(const struct im_sb *s, const uint8_t *bm, uint64_t r)
{
	return (s->flags & IM_FLAG_NEEDS_FULL_COPY) || (bm[r / 8] >> (r % 8) & 1);
}

static int cmd_meta(char **av)
{
	const char *path = av[0];
	uint8_t sb[IM_SB_USED], *buf = NULL;
	uint64_t off, size, done = 0, fo;
	struct im_sb s;
	const char *bad;
	char why[200];
	bool padbits = false;
	int fd, rc = EXIT_ERR;

	if (parse_num(av[1], &off))
		return usage_err("meta-dirty", "bad offset '%s'", av[1]);
	fd = open_input(path, O_RDONLY, &size);
	if (fd < 0)
		return EXIT_ERR;
	if (off > size || size - off < IM_SB_USED) {
		err_at(path, off, "truncated: no room for the 512-byte superblock (file has %" PRIu64
		       " bytes)", size);
		goto out;
	}
	if (read_full(fd, path, sb, sizeof(sb), off))
		goto out;
	bad = im_check_sb(sb, &s, &fo, why, sizeof(why));
	if (bad) {
		err_at(path, off + fo, "%s", bad);
		goto out;
	}
	{
		uint64_t bstart = off + s.bmoff * 512, blen = s.bmsec * 512;

		if (bstart > size || size - bstart < blen) {
			err_at(path, size, "truncated: the bitmap needs %" PRIu64 " bytes at offset %" PRIu64
			       ", the file has %" PRIu64, blen, bstart, size);
			goto out;
		}
		buf = xmalloc(CHUNK);
		while (done < blen) {
			size_t n = blen - done < CHUNK ? (size_t)(blen - done) : CHUNK;

			if (read_full(fd, path, buf, n, bstart + done))
				goto out;
			for (size_t i = 0; i < n * 8; i++) {
				uint64_t r = done * 8 + i;

				if (!buf[i / 8] && !(s.flags & IM_FLAG_NEEDS_FULL_COPY)) {
					i |= 7;
					continue;
				}
				if (!im_dirty(&s, buf, i))
					continue;
				if (r < s.nr)
					printf("%" PRIu64 "\n", r);
				else if (!(s.flags & IM_FLAG_NEEDS_FULL_COPY))
					padbits = true;
			}
			done += n;
		}
	}
	if (padbits)
		fprintf(stderr, PROG ": %s: warning: bitmap bits set past nr_regions %" PRIu64 "\n", path, s.nr);
	rc = finish_stdout();
out:
	free(buf);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------ check-incmirror */

#define CHECK_MAX_IMAGE (UINT64_C(1) << 30)
#define CHECK_LIST 16

struct check_opts {
	const char *log, *base, *after, *until, *save_dir;
	uint64_t src, dst, len, meta, region;
	uint64_t *save;		/* --save-at indexes */
	size_t nsave;
	bool scan;
};

struct check {
	const struct check_opts *o;
	uint8_t *img;
	uint64_t size, nreg;
	uint64_t meta_end;	/* end of the metadata area watched for writes */
	uint8_t *differs, *stale, *dirty;
	uint32_t *stale_list;	/* the stale regions (nreg <= 2^30) */
	uint64_t nstale;
	uint64_t ndiff, nviol, ndirty;
	bool meta_touched, meta_valid;
	char meta_why[240];
	uint64_t meta_fo;
};

/* Regions of the slice at byte `slice` that [pos, end) overlaps become stale. */
static void check_stale(struct check *c, uint64_t pos, uint64_t end, uint64_t slice)
{
	uint64_t s = pos > slice ? pos : slice;
	uint64_t e = end < slice + c->o->len ? end : slice + c->o->len;

	if (s >= e)
		return;
	for (uint64_t r = (s - slice) / c->o->region; r <= (e - 1 - slice) / c->o->region; r++) {
		if (!c->stale[r]) {
			c->stale[r] = 1;
			c->stale_list[c->nstale++] = (uint32_t)r;
		}
	}
}

/* Decode the metadata of the image into c->dirty; recompute nviol. */
static void check_decode(struct check *c)
{
	uint8_t sb[IM_SB_USED];
	uint64_t meta = c->o->meta, fo, bstart, blen;
	const uint8_t *bm;
	const char *bad;
	struct im_sb s;

	c->meta_valid = false;
	memcpy(sb, c->img + meta, sizeof(sb));
	bad = im_check_sb(sb, &s, &fo, c->meta_why, sizeof(c->meta_why));
	if (bad) {
		if (bad != c->meta_why)
			snprintf(c->meta_why, sizeof(c->meta_why), "%s", bad);
		c->meta_fo = meta + fo;
		return;
	}
	if (s.region * 512 != c->o->region) {
		c->meta_fo = meta + 160;
		snprintf(c->meta_why, sizeof(c->meta_why), "region_sectors: %" PRIu64 " (%" PRIu64
			 " bytes), the check's --region is %" PRIu64, s.region, s.region * 512,
			 c->o->region);
		return;
	}
	if (s.nr != c->nreg) {
		c->meta_fo = meta + 176;
		snprintf(c->meta_why, sizeof(c->meta_why), "nr_regions: %" PRIu64
			 ", the check's --len / --region makes %" PRIu64, s.nr, c->nreg);
		return;
	}
	bstart = meta + s.bmoff * 512;
	blen = s.bmsec * 512;
	if (bstart > c->size || c->size - bstart < blen) {
		c->meta_fo = c->size;
		snprintf(c->meta_why, sizeof(c->meta_why), "truncated: the bitmap needs %" PRIu64
			 " bytes at offset %" PRIu64 ", BASE has %" PRIu64, blen, bstart, c->size);
		return;
	}
	bm = c->img + bstart;
	c->meta_valid = true;
	c->ndirty = 0;
	c->nviol = 0;
	for (uint64_t r = 0; r < c->nreg; r++) {
		c->dirty[r] = im_dirty(&s, bm, r);
		c->ndirty += c->dirty[r];
		c->nviol += c->differs[r] && !c->dirty[r];
	}
}

/* The check at point i. Returns true on a violation. */
static bool check_point(struct check *c, uint64_t i)
{
	const struct check_opts *o = c->o;

	for (uint64_t k = 0; k < c->nstale; k++) {
		uint64_t r = c->stale_list[k], at = r * o->region;
		uint64_t n = o->len - at < o->region ? o->len - at : o->region;
		uint8_t d = memcmp(c->img + o->src + at, c->img + o->dst + at, (size_t)n) != 0;

		c->stale[r] = 0;
		if (d == c->differs[r])
			continue;
		c->differs[r] = d;
		if (d)
			c->ndiff++;
		else
			c->ndiff--;
		if (!c->dirty[r]) {
			if (d)
				c->nviol++;
			else
				c->nviol--;
		}
	}
	c->nstale = 0;
	if (c->meta_touched) {
		check_decode(c);
		c->meta_touched = false;
	}
	if (!c->meta_valid) {
		printf("VIOLATION point %" PRIu64 ": invalid metadata: offset %" PRIu64 ": %s (%" PRIu64
		       " regions differ)\n", i, c->meta_fo, c->meta_why, c->ndiff);
		return true;
	}
	if (!c->nviol)
		return false;
	printf("VIOLATION point %" PRIu64 ": %" PRIu64 " regions differ but are clean in the metadata:",
	       i, c->nviol);
	for (uint64_t r = 0, shown = 0; r < c->nreg && shown < CHECK_LIST; r++) {
		if (c->differs[r] && !c->dirty[r]) {
			printf(" %" PRIu64, r);
			shown++;
		}
	}
	if (c->nviol > CHECK_LIST)
		printf(" ...");
	putchar('\n');
	return true;
}

static int check_save(const struct check *c, uint64_t i)
{
	char path[4096];
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s/point-%" PRIu64 ".img", c->o->save_dir, i) >=
	    (int)sizeof(path)) {
		err_msg("%s: --save-dir path too long", c->o->save_dir);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err_msg("%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	rc = write_full(fd, path, c->img, (size_t)c->size, 0);
	if (close(fd) && !rc) {
		err_msg("%s: close: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* mkdir -p. 0 ok; -1 error (reported). */
static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);
	struct stat st;

	if (n >= sizeof(path)) {
		err_msg("%s: --save-dir path too long", dir);
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i])
			continue;
		path[i] = '\0';
		if (mkdir(path, 0777) && errno != EEXIST) {
			err_msg("%s: cannot create: %s", path, strerror(errno));
			return -1;
		}
		path[i] = i < n ? '/' : '\0';
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		err_msg("%s: cannot create: not a directory", dir);
		return -1;
	}
	return 0;
}

/* Index of the first mark with text t at index >= from, or UINT64_MAX. */
static uint64_t find_mark(const struct lwlog *l, const char *t, uint64_t from)
{
	for (uint64_t i = from; i < l->n; i++)
		if (l->e[i].mark && !strcmp(l->e[i].mark, t))
			return i;
	return UINT64_MAX;
}

static bool fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int cmd_check(const struct check_opts *o)
{
	struct check c = { .o = o };
	struct lwlog l;
	uint64_t first = UINT64_MAX, last = 0, npts = 0, nflush = 0, nfua = 0, nv = 0;
	uint64_t maxdirty = 0, maxdiff = 0, lo = 0, hi, end, save_end = 0;
	int fd, rc = EXIT_ERR;

	rc = log_open(&l, o->log, o->scan);
	if (rc)
		goto out_log;
	rc = EXIT_ERR;
	if (o->after) {
		lo = find_mark(&l, o->after, 0);
		if (lo == UINT64_MAX) {
			err_msg("%s: --after-mark: no mark '%s' in the log", o->log, o->after);
			goto out_log;
		}
		lo++;
	}
	hi = l.n;
	if (o->until) {
		hi = find_mark(&l, o->until, lo);
		if (hi == UINT64_MAX) {
			err_msg("%s: --until-mark: no mark '%s' in the log%s", o->log, o->until,
				o->after ? " after the --after-mark one" : "");
			goto out_log;
		}
	}
	for (size_t k = 0; k < o->nsave; k++) {
		if (o->save[k] >= l.n) {
			err_msg("%s: --save-at %" PRIu64 ": the log has %" PRIu64 " entries", o->log,
				o->save[k], l.n);
			goto out_log;
		}
		if (o->save[k] + 1 > save_end)
			save_end = o->save[k] + 1;
	}
	end = hi > save_end ? hi : save_end;

	fd = open_input(o->base, O_RDONLY, &c.size);
	if (fd < 0)
		goto out_log;
	if (c.size > CHECK_MAX_IMAGE) {
		err_msg("%s: %" PRIu64 " bytes: larger than the 1 GiB check-incmirror loads in memory",
			o->base, c.size);
		close(fd);
		goto out_log;
	}
	if (!fits(o->src, o->len, c.size) || !fits(o->dst, o->len, c.size) ||
	    !fits(o->meta, IM_SB_USED, c.size)) {
		err_msg("%s: %" PRIu64 " bytes: too small for --src %" PRIu64 ", --dst %" PRIu64
			" with --len %" PRIu64 " and a 512-byte superblock at --meta %" PRIu64,
			o->base, c.size, o->src, o->dst, o->len, o->meta);
		close(fd);
		goto out_log;
	}
	c.img = xmalloc(c.size ? (size_t)c.size : 1);
	if (read_full(fd, o->base, c.img, (size_t)c.size, 0)) {
		close(fd);
		goto out;
	}
	close(fd);
	if (o->save_dir && mkdir_p(o->save_dir))
		goto out;

	c.nreg = o->len / o->region + (o->len % o->region != 0);
	c.meta_end = o->meta + IM_BITMAP_OFFSET * 512 + im_bitmap_bytes(c.nreg);
	c.differs = calloc(c.nreg, 1);
	c.stale = calloc(c.nreg, 1);
	c.dirty = calloc(c.nreg, 1);
	c.stale_list = calloc(c.nreg, sizeof(*c.stale_list));
	if (!c.differs || !c.stale || !c.dirty || !c.stale_list) {
		err_msg("out of memory (%" PRIu64 " regions)", c.nreg);
		goto out;
	}
	for (uint64_t r = 0; r < c.nreg; r++) {
		c.stale[r] = 1;
		c.stale_list[r] = (uint32_t)r;
	}
	c.nstale = c.nreg;
	c.meta_touched = true;

	for (uint64_t i = 0; i < end; i++) {
		const struct entry *e = &l.e[i];
		uint64_t pos = e->sector * l.ss, len = e->nr_sectors * l.ss;

		if (len && !(e->flags & LOG_MARK_FLAG)) {
			if (!fits(pos, len, c.size)) {
				err_msg("%s: entry %" PRIu64 " (log offset %" PRIu64 ") writes bytes %" PRIu64
					"..%" PRIu64 ", past the end of %s (%" PRIu64 " bytes)", o->log, i,
					e->off, pos, pos + len, o->base, c.size);
				goto out;
			}
			if (e->flags & LOG_DISCARD_FLAG)
				memset(c.img + pos, 0, (size_t)len);
			else if (read_full(l.fd, l.path, c.img + pos, (size_t)len, e->off + l.ss))
				goto out;
			check_stale(&c, pos, pos + len, o->src);
			check_stale(&c, pos, pos + len, o->dst);
			if (pos < c.meta_end && pos + len > o->meta)
				c.meta_touched = true;
		}
		if (i >= lo && i < hi && (e->flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG))) {
			if (first == UINT64_MAX)
				first = i;
			last = i;
			npts++;
			if (e->flags & LOG_FLUSH_FLAG)
				nflush++;
			else
				nfua++;
			if (check_point(&c, i))
				nv++;
			if (c.meta_valid && c.ndirty > maxdirty)
				maxdirty = c.ndirty;
			if (c.ndiff > maxdiff)
				maxdiff = c.ndiff;
		}
		for (size_t k = 0; k < o->nsave; k++) {
			if (o->save[k] == i) {
				if (check_save(&c, i))
					goto out;
				break;
			}
		}
	}
	if (!npts)
		fprintf(stderr, PROG ": %s: warning: no flush or FUA entry in the checked window\n", o->log);
	if (npts)
		printf("checked %" PRIu64 " points (%" PRIu64 " flush, %" PRIu64 " fua) from entry %" PRIu64
		       " to %" PRIu64 ", %" PRIu64 " violations, max dirty-in-metadata %" PRIu64
		       ", max differing %" PRIu64 "\n", npts, nflush, nfua, first, last, nv, maxdirty, maxdiff);
	else
		printf("checked 0 points (0 flush, 0 fua) from entry - to -, 0 violations, "
		       "max dirty-in-metadata 0, max differing 0\n");
	rc = finish_stdout();
	if (rc == EXIT_OK && nv)
		rc = EXIT_CHECK;
out:
	free(c.img);
	free(c.differs);
	free(c.stale);
	free(c.dirty);
	free(c.stale_list);
out_log:
	log_close(&l);
	return rc;
}

/* --save-at I,J,K */
static int parse_save(const char *s, struct check_opts *o)
{
	char *dup = strdup(s), *tok, *sp = NULL;
	int rc = 0;

	if (!dup) {
		err_msg("out of memory");
		return -1;
	}
	for (tok = strtok_r(dup, ",", &sp); tok; tok = strtok_r(NULL, ",", &sp)) {
		uint64_t v, *ns;

		if (parse_num(tok, &v)) {
			rc = -1;
			break;
		}
		ns = realloc(o->save, (o->nsave + 1) * sizeof(*ns));
		if (!ns) {
			err_msg("out of memory");
			rc = -1;
			break;
		}
		o->save = ns;
		o->save[o->nsave++] = v;
	}
	if (!o->nsave || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		rc = -1;
	free(dup);
	return rc;
}

static int main_check(int argc, char **argv)
{
	static const char *const numopt[] = { "--src", "--dst", "--len", "--meta", "--region" };
	const char *cmd = "check-incmirror";
	struct check_opts o = { .scan = true };
	uint64_t *numv[] = { &o.src, &o.dst, &o.len, &o.meta, &o.region };
	bool have[5] = { false };
	const char *pos[2];
	int npos = 0, rc;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool done = false;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			free(o.save);
			fputs(usage_text, stdout);
			return finish_stdout();
		}
		if (!strcmp(a, "--no-scan")) {
			o.scan = false;
			continue;
		}
		for (unsigned k = 0; k < 5; k++) {
			if (strcmp(a, numopt[k]))
				continue;
			if (i + 1 >= argc)
				goto needs_value;
			if (parse_num(argv[++i], numv[k])) {
				fprintf(stderr, PROG " %s: bad %s value '%s'\nTry '" PROG " --help'.\n",
					cmd, a, argv[i]);
				goto bad;
			}
			have[k] = true;
			done = true;
		}
		if (done)
			continue;
		if (!strcmp(a, "--after-mark") || !strcmp(a, "--until-mark") ||
		    !strcmp(a, "--save-dir") || !strcmp(a, "--save-at")) {
			if (i + 1 >= argc)
				goto needs_value;
			i++;
			if (a[2] == 'a' && a[3] == 'f')
				o.after = argv[i];
			else if (a[2] == 'u')
				o.until = argv[i];
			else if (!strcmp(a, "--save-dir"))
				o.save_dir = argv[i];
			else if (parse_save(argv[i], &o)) {
				fprintf(stderr, PROG " %s: bad --save-at list '%s' (entry indexes, comma separated)\n"
					"Try '" PROG " --help'.\n", cmd, argv[i]);
				goto bad;
			}
			continue;
		}
		if (a[0] == '-' && a[1]) {
			usage_err(cmd, "unknown option '%s'", a);
			goto bad;
		}
		if (npos == 2) {
			usage_err(cmd, "expected two arguments, LOG BASE%s", "");
			goto bad;
		}
		pos[npos++] = a;
		continue;
needs_value:
		usage_err(cmd, "option '%s' needs a value", a);
		goto bad;
	}
	if (npos != 2) {
		usage_err(cmd, "expected two arguments, LOG BASE%s", "");
		goto bad;
	}
	for (unsigned k = 0; k < 5; k++) {
		if (!have[k]) {
			usage_err(cmd, "option '%s' is required", numopt[k]);
			goto bad;
		}
	}
	if (!o.len || !o.region) {
		usage_err(cmd, "%s must not be 0", o.len ? "--region" : "--len");
		goto bad;
	}
	if (!o.save != !o.save_dir) {
		usage_err(cmd, "%s", "--save-at and --save-dir go together");
		goto bad;
	}
	o.log = pos[0];
	o.base = pos[1];
	rc = cmd_check(&o);
	free(o.save);
	return rc;
bad:
	free(o.save);
	return EXIT_ERR;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static char outbuf[1 << 20];
	const char *cmd;
	char *pos[8];
	int npos = 0;
	bool scan = true, has_to = false;
	uint64_t from = 0, to = 0;
	struct lwlog l;
	int rc;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_ERR;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return finish_stdout();
	}
	if (!strcmp(cmd, "check-incmirror"))
		return main_check(argc - 2, argv + 2);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return finish_stdout();
		} else if (!strcmp(a, "--no-scan")) {
			scan = false;
		} else if (!strcmp(a, "--from") || !strcmp(a, "--to")) {
			uint64_t *v = a[2] == 'f' ? &from : &to;

			if (strcmp(cmd, "replay"))
				return usage_err(cmd, "option '%s' applies to replay only", a);
			if (i + 1 >= argc)
				return usage_err(cmd, "option '%s' needs a value", a);
			if (parse_num(argv[++i], v))
				return usage_err(cmd, "bad entry index '%s'", argv[i]);
			if (a[2] == 't')
				has_to = true;
		} else if (a[0] == '-' && a[1] == '-' && !a[2]) {
			for (i++; i < argc; i++) {
				if (npos == 8)
					return usage_err(cmd, "too many arguments%s", "");
				pos[npos++] = argv[i];
			}
		} else if (a[0] == '-' && a[1]) {
			return usage_err(cmd, "unknown option '%s'", a);
		} else {
			if (npos == 8)
				return usage_err(cmd, "too many arguments%s", "");
			pos[npos++] = argv[i];
		}
	}
	if (!scan && strcmp(cmd, "info") && strcmp(cmd, "points") && strcmp(cmd, "list") &&
	    strcmp(cmd, "replay"))
		return usage_err(cmd, "option '%s' applies to info, points, list, replay and check-incmirror only",
				 "--no-scan");

	if (!strcmp(cmd, "info") || !strcmp(cmd, "points") || !strcmp(cmd, "list")) {
		if (npos != 1)
			return usage_err(cmd, "expected one argument, LOG%s", "");
		rc = log_open(&l, pos[0], scan);
		if (!rc)
			rc = cmd[0] == 'i' ? cmd_info(&l) : cmd_points(&l, cmd[0] == 'l');
		log_close(&l);
		return rc;
	}
	if (!strcmp(cmd, "replay")) {
		if (npos != 2)
			return usage_err(cmd, "expected two arguments, LOG TARGET%s", "");
		rc = log_open(&l, pos[0], scan);
		if (rc) {
			log_close(&l);
			return rc;
		}
		if (!has_to)
			to = l.n;
		if (to > l.n) {
			err_msg("%s: --to %" PRIu64 ": the log has %" PRIu64 " entries", pos[0], to, l.n);
			rc = EXIT_ERR;
		} else if (from > to) {
			err_msg("--from %" PRIu64 " is past --to %" PRIu64, from, to);
			rc = EXIT_ERR;
		} else {
			rc = cmd_replay(&l, pos[1], from, to);
		}
		log_close(&l);
		return rc;
	}
	if (!strcmp(cmd, "diff-regions")) {
		if (npos != 6)
			return usage_err(cmd, "expected six arguments, A OFFA B OFFB LEN REGION_BYTES%s", "");
		return cmd_diff(pos);
	}
	if (!strcmp(cmd, "meta-dirty")) {
		if (npos != 2)
			return usage_err(cmd, "expected two arguments, META OFF%s", "");
		return cmd_meta(pos);
	}
	return usage_err(cmd, "unknown command%s", "");
}
