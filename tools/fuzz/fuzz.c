// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for one incmirror-bitmap input parser, chosen at build time
 * with -DFUZZ_FORMAT="name" (see tools/Makefile `fuzz`). The input is parsed
 * from memory into a sink of 64 KiB regions capped at 2^20 regions (dm-snapshot:
 * also into one of a 1 GiB device, depending on the input's length).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "formats.h"
#include "rescale.h"
#include "src.h"

#ifndef FUZZ_FORMAT
#error "define FUZZ_FORMAT"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s;
	struct sink sk;
	struct input in = { 0 };
	struct in_opts o = { .units = 1 };
	struct pctx ctx = { .s = &s, .o = &o, .sk = &sk, .in = &in };
	uint64_t limit = 0;

	o.fmt = fmt_parse(FUZZ_FORMAT);
	if (o.fmt == FMT_ERA || o.fmt == FMT_RAW)
		o.granularity = 65536;
	if (o.fmt == FMT_QCOW2)
		o.force = size & 1;	/* exercise both the refusal and the all-dirty path */
	if (o.fmt == FMT_DM_SNAPSHOT) {
		/* invalid stores with and without --force; chunks checked against a
		 * 1 GiB device or not, refused or dropped beyond it */
		o.force = size & 1;
		limit = size & 2 ? UINT64_C(1) << 30 : 0;
		o.size_policy = size & 4 ? SIZE_TRUNCATE : SIZE_ERROR;
	}
	src_mem(&s, "fuzz-input", data, size);
	if (sink_init(&sk, 65536, 0, limit))
		return 0;
	sk.max_regions = UINT64_C(1) << 20;
	parse_input(&ctx);
	sink_free(&sk);
	return 0;
}
