/* SPDX-License-Identifier: GPL-2.0 */
/* Input formats: options, per-input results, parser entry points, detection. */
#ifndef IMB_FORMATS_H
#define IMB_FORMATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rescale.h"
#include "src.h"

enum fmt {
	FMT_AUTO = 0,
	FMT_QCOW2,
	FMT_NBD,
	FMT_ERA,
	FMT_THIN,
	FMT_RBD_JSON,
	FMT_RBD_DIFF,		/* plain `rbd diff` table */
	FMT_RBD_EXPORT,		/* `rbd export-diff` v1 */
	FMT_MD,
	FMT_DM_SNAPSHOT,	/* dm-snapshot persistent exception store (COW device) */
	FMT_RANGES,
	FMT_RAW,
	FMT_CANONICAL,
	FMT_COUNT
};

enum size_policy { SIZE_ERROR = 0, SIZE_TRUNCATE, SIZE_EXTEND };

/* options shared by the input parsers */
struct in_opts {
	enum fmt fmt;		/* FMT_AUTO: detect */
	const char *name;	/* qcow2 bitmap name */
	bool force;		/* accept inconsistent bitmaps as all dirty */
	uint64_t granularity;	/* bytes per unit (era/thin block, raw bit), 0 = unset */
	uint64_t table_block;	/* from --table: block size in bytes (era, thin-pool), 0 = none */
	uint64_t table_size;	/* from --table: device size in bytes (era, thin), 0 = none */
	enum { TABLE_NONE, TABLE_ERA, TABLE_THIN_POOL, TABLE_THIN } table_type;	/* the --table line's target */
	bool msb_first;		/* raw --bit-order msb */
	uint64_t units;		/* ranges: bytes per unit (1 or 512) */
	enum size_policy size_policy;	/* --size-mismatch (dm-snapshot checks chunks against the device) */
	bool allow_empty;	/* --allow-empty: an input may list no change */
};

/* the formats a format-specific option applies to (bit per enum fmt) */
#define FMTBIT(f) (1u << (f))
#define APPLIES_NAME FMTBIT(FMT_QCOW2)
#define APPLIES_FORCE (FMTBIT(FMT_QCOW2) | FMTBIT(FMT_MD) | FMTBIT(FMT_DM_SNAPSHOT))
#define APPLIES_GRANULARITY (FMTBIT(FMT_ERA) | FMTBIT(FMT_THIN) | FMTBIT(FMT_RAW))
#define APPLIES_TABLE_ERA FMTBIT(FMT_ERA)		/* an era table line */
#define APPLIES_TABLE_THIN FMTBIT(FMT_THIN)		/* a thin-pool or thin table line */
#define APPLIES_BIT_ORDER FMTBIT(FMT_RAW)
#define APPLIES_UNITS FMTBIT(FMT_RANGES)

/* what one input says */
struct input {
	const char *path;
	enum fmt fmt;
	uint64_t size;		/* device size in bytes the input describes, 0 = unknown */
	uint64_t granularity;	/* bytes per unit of the input, 0 = byte extents */
	bool forced_all;	/* inconsistent input accepted with --force: all dirty */
	char uncounted[160];	/* info: why the dirty extents and bytes are unknown, "" if counted */
	const char *unit_name;	/* info, uncounted: the units the input lists ("era-blocks"), or NULL */
	uint64_t units_listed;	/* how many of them */
};

struct pctx {
	struct src *s;
	const struct in_opts *o;
	struct sink *sk;
	struct input *in;
	FILE *info;		/* non-NULL for `info`: parsers may print details here */
};

const char *fmt_name(enum fmt f);
enum fmt fmt_parse(const char *name);	/* FMT_COUNT if unknown */
/* detect from the first bytes; returns FMT_AUTO (and prints) if unknown */
enum fmt fmt_detect(const struct src *s);

/* Parse one input into ctx->sk, filling ctx->in. Returns 0 or an EXIT_* code (printed). */
int parse_input(struct pctx *ctx);

int parse_qcow2(struct pctx *ctx);
int parse_nbd_json(struct pctx *ctx);
int parse_rbd_json(struct pctx *ctx);
int parse_era(struct pctx *ctx);
int parse_thin(struct pctx *ctx);
int parse_rbd_diff(struct pctx *ctx);
int parse_rbd_export(struct pctx *ctx);
int parse_md(struct pctx *ctx);
int parse_dm_snapshot(struct pctx *ctx);
int parse_ranges(struct pctx *ctx);
int parse_raw(struct pctx *ctx);
int parse_canonical(struct pctx *ctx);

/* parse a table line "<start> <len> <type> <args...>" for era / thin-pool / thin;
 * returns 0 and fills block/size (bytes, 0 if not in that target type), -1 if malformed */
int parse_table_line(const char *line, uint64_t *block, uint64_t *size);

#endif
