// SPDX-License-Identifier: GPL-2.0
/*
 * The persistent exception store of a dm-snapshot (an LVM snapshot's COW
 * device, VG-SNAP-cow), as written by drivers/md/dm-snap-persistent.c. Every
 * chunk in it is a chunk of the origin that was written (or a chunk of the
 * snapshot that was written) since the snapshot was taken. Little-endian:
 *
 *   chunk 0, the header:  0 magic 0x70416e53 ("SnAp")  4 valid (1, or 0 once
 *                         invalidated)  8 version (1)  12 chunk_size (sectors)
 *   metadata area i at chunk 1 + i * (E + 1), E = chunk_size * 512 / 16, each
 *   followed by the E data chunks it was allocated with; an area is E entries
 *   { le64 old_chunk; le64 new_chunk; } (old_chunk: the origin chunk, new_chunk:
 *   where its copy lives on the COW device).
 *
 * Reading stops, as the kernel's read_exceptions() does, at the first entry
 * whose new_chunk is 0 (the kernel zeroes the next area before it commits the
 * last entry of a full one); the next area is read only after a full one.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "formats.h"

#define SNAP_MAGIC 0x70416e53u
#define SNAP_VERSION 1u
/* dm_exception_store_set_chunk_size(): a power of two, at most INT_MAX >> 9 sectors */
#define SNAP_MAX_CHUNK_SECTORS (UINT32_C(1) << 21)

int parse_dm_snapshot(struct pctx *ctx)
{
	const struct src *s = ctx->s;
	const struct sink *sk = ctx->sk;
	uint8_t hdr[16], buf[65536];
	uint32_t magic, valid, version, cs;
	uint64_t chunk, epa, stride, origin = 0, nexc = 0, areas = 0, next_free = 2, beyond = 0;
	bool origin_known = false;
	struct stat st;
	int r;

	/*
	 * The kernel writes the store with bios, not through the page cache of
	 * the COW block device: pages cached by an earlier read would be stale.
	 */
	if (s->fd >= 0 && !fstat(s->fd, &st) && S_ISBLK(st.st_mode))
		(void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_DONTNEED);

	if (src_read(s, hdr, sizeof(hdr), 0, "dm-snapshot exception store header"))
		return EXIT_INPUT;
	magic = get_le32(hdr);
	valid = get_le32(hdr + 4);
	version = get_le32(hdr + 8);
	cs = get_le32(hdr + 12);
	if (magic != SNAP_MAGIC) {
		if (!magic)
			err_at(s->name, 0, "expected dm-snapshot magic 0x%08x (\"SnAp\"), found 0: no exception store "
			       "(a transient snapshot, one never activated, or not a COW device)", SNAP_MAGIC);
		else
			err_at(s->name, 0, "expected dm-snapshot magic 0x%08x (\"SnAp\"), found 0x%08" PRIx32 "%s",
			       SNAP_MAGIC, magic, get_be32(hdr) == SNAP_MAGIC ? " (wrong endianness)" : "");
		return EXIT_INPUT;
	}
	if (version != SNAP_VERSION) {
		err_at(s->name, 8, "expected exception store version %u, found %" PRIu32, SNAP_VERSION, version);
		return EXIT_INPUT;
	}
	if (!is_pow2(cs) || cs > SNAP_MAX_CHUNK_SECTORS) {
		err_at(s->name, 12, "expected a power-of-two chunk_size of 1 to %" PRIu32 " sectors, found %" PRIu32,
		       SNAP_MAX_CHUNK_SECTORS, cs);
		return EXIT_INPUT;
	}
	if (valid > 1) {
		err_at(s->name, 4, "expected valid 0 or 1, found %" PRIu32 " (corrupt header)", valid);
		return EXIT_INPUT;
	}
	chunk = (uint64_t)cs * 512;
	epa = chunk / 16;
	stride = epa + 1;
	ctx->in->granularity = chunk;

	/*
	 * The store does not say how big the origin is; the device does (the
	 * load target's length or --device-size), in input bytes here.
	 */
	if (sk->limit) {
		origin_known = true;
		if (sk->offset >= 0) {
			if (!add_u64(sk->limit, (uint64_t)sk->offset, &origin))
				origin = UINT64_MAX;
		} else {
			uint64_t o = (uint64_t)(-(sk->offset + 1)) + 1;

			origin = sk->limit > o ? sk->limit - o : 0;
		}
	}

	if (ctx->info)
		fprintf(ctx->info, "snapshot-valid: %s\nsnapshot-version: %" PRIu32 "\nchunk-sectors: %" PRIu32 "\n",
			valid ? "yes" : "no (invalidated: overflowed or failed)", version, cs);
	if (!valid) {
		if (ctx->info) {
			ctx->in->forced_all = true;
			snprintf(ctx->in->uncounted, sizeof(ctx->in->uncounted),
				 "invalid snapshot: the whole device is dirty, and the store does not say its size");
			return 0;
		}
		if (!ctx->o->force) {
			err_at(s->name, 4, "the snapshot is invalid (valid 0: it overflowed or was invalidated after an "
			       "I/O error), so its list of changed chunks is incomplete: refusing (--force treats the "
			       "whole device as dirty)");
			return EXIT_INPUT;
		}
		if (!origin_known) {
			err_msg("%s: --force on an invalid snapshot needs the device size (--device-size, or load)",
				s->name);
			return EXIT_USAGE;
		}
		err_msg("%s: warning: invalid snapshot; --force: treating all %" PRIu64 " bytes as dirty", s->name,
			origin);
		ctx->in->forced_all = true;
		return sink_mark(ctx->sk, 4, 0, origin);
	}

	for (uint64_t area = 0;; area++) {
		uint64_t achunk, aoff = 0;
		bool full = true;

		if (!mul_u64(area, stride, &achunk) || !add_u64(achunk, 1, &achunk) || !mul_u64(achunk, chunk, &aoff) ||
		    aoff > s->size || chunk > s->size - aoff) {
			if (area)
				err_at(s->name, aoff && aoff < s->size ? aoff : s->size,
				       "truncated: metadata area %" PRIu64 " is full, expected area %" PRIu64 " (%" PRIu64
				       " bytes at offset %" PRIu64 "), file has %" PRIu64 " bytes", area - 1, area, chunk,
				       aoff, s->size);
			else
				err_at(s->name, chunk < s->size ? chunk : s->size,
				       "truncated: expected metadata area 0 (%" PRIu64 " bytes at offset %" PRIu64
				       "), file has %" PRIu64 " bytes", chunk, chunk, s->size);
			return EXIT_INPUT;
		}
		areas++;
		for (uint64_t i = 0; full && i < epa;) {
			uint64_t left = epa - i;
			size_t n = left < sizeof(buf) / 16 ? (size_t)left : sizeof(buf) / 16;

			if (src_read(s, buf, n * 16, aoff + i * 16, "dm-snapshot metadata area"))
				return EXIT_INPUT;
			for (size_t j = 0; j < n; j++, i++) {
				uint64_t foff = aoff + i * 16, old = get_le64(buf + 16 * j), new = get_le64(buf + 16 * j + 8);
				uint64_t ooff, nend;

				if (!new) {
					full = false;
					break;
				}
				if ((new - 1) % stride == 0) {
					err_at(s->name, foff + 8, "exception %" PRIu64 ": new_chunk %" PRIu64
					       " is metadata area %" PRIu64 ", not a data chunk", nexc, new, (new - 1) / stride);
					return EXIT_INPUT;
				}
				if (!add_u64(new, 1, &nend) || !mul_u64(nend, chunk, &nend) || nend > s->size) {
					err_at(s->name, foff + 8, "exception %" PRIu64 ": new_chunk %" PRIu64
					       " lies beyond the end of the COW device (%" PRIu64 " bytes): truncated, or not "
					       "this store's device", nexc, new, s->size);
					return EXIT_INPUT;
				}
				if (new + 1 > next_free)
					next_free = new + 1;
				if (!mul_u64(old, chunk, &ooff)) {
					err_at(s->name, foff, "exception %" PRIu64 ": old_chunk %" PRIu64 " of %" PRIu64
					       " bytes overflows 64 bits", nexc, old, chunk);
					return EXIT_INPUT;
				}
				nexc++;
				if (origin_known && ooff >= origin) {
					if (ctx->o->size_policy == SIZE_ERROR) {
						err_at(s->name, foff, "size mismatch: exception %" PRIu64 ": old_chunk %" PRIu64
						       " (byte %" PRIu64 ") lies beyond the device's %" PRIu64 " bytes: is this a "
						       "snapshot of this device? (use --size-mismatch=truncate)", nexc - 1, old,
						       ooff, origin);
						return EXIT_SIZE;
					}
					beyond++;
					continue;
				}
				/* the last chunk of an origin whose size is no multiple of it is clipped */
				r = sink_mark_units(ctx->sk, foff, old, 1, chunk, origin_known ? origin : 0);
				if (r)
					return r;
			}
		}
		if (!full)
			break;
	}
	if (beyond)
		err_msg("%s: warning: %" PRIu64 " exceptions beyond the device's %" PRIu64 " bytes dropped", s->name,
			beyond, origin);
	/* as the kernel's usage(): next_free skips a metadata area */
	if (next_free % stride == 1)
		next_free++;
	if (ctx->info)
		fprintf(ctx->info, "exceptions: %" PRIu64 "\nmetadata-areas: %" PRIu64 "\nallocated-sectors: %" PRIu64
			"\nmetadata-sectors: %" PRIu64 "\n", nexc, areas, next_free * cs, (areas + 1) * cs);
	return 0;
}
