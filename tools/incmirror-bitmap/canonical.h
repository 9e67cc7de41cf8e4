/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Canonical incmirror bitmap file, version 1. All integers little-endian.
 *
 *   offset size field
 *        0    8 magic "IMBITMAP"
 *        8    4 version = 1
 *       12    4 header size = 64
 *       16    8 region size in bytes (power of two, >= 512)
 *       24    8 device size in bytes (> 0)
 *       32    8 number of regions = ceil(device size / region size)
 *       40    8 number of dirty regions (= bits set in the payload)
 *       48    8 payload size in bytes = ceil(regions / 8)
 *       56    4 flags (0; any other value is refused)
 *       60    4 CRC-32 (IEEE, as zlib crc32) of bytes 0..59 followed by the payload
 *       64    - payload: bit i (byte i/8, bit i%8, LSB first) = region i dirty;
 *               padding bits after the last region are 0; nothing follows the payload.
 */
#ifndef IMB_CANONICAL_H
#define IMB_CANONICAL_H

#include <stdint.h>
#include <stdio.h>

#include "bitmap.h"

#define CANON_MAGIC "IMBITMAP"
#define CANON_VERSION 1
#define CANON_HDR 64

/* write bm (bm->nbits == ceil(devsize/region)) to fp; returns 0 or EXIT_SYSTEM (printed) */
int canonical_write(FILE *fp, const char *name, const struct bitmap *bm, uint64_t region,
		    uint64_t devsize);

#endif
