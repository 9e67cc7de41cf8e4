// SPDX-License-Identifier: GPL-2.0
/* incmirror-bitmap: command line (convert, load, save, info). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "canonical.h"
#include "common.h"
#include "dm.h"
#include "formats.h"
#include "help.h"
#include "msgenc.h"

#ifndef IMB_VERSION
#define IMB_VERSION "1.2.0"
#endif

/* The target's largest region (dm-incmirror(7), region_sectors): 2^21 sectors. */
#define MAX_REGION_BYTES (UINT64_C(1) << 30)

enum cmd { CMD_CONVERT, CMD_LOAD, CMD_SAVE, CMD_INFO };
enum outfmt { OUT_MESSAGES, OUT_CANONICAL, OUT_RANGES };

enum {
	OPT_FORCE = 256, OPT_TABLE, OPT_BITORDER, OPT_UNITS, OPT_OFFSET, OPT_REGION_SECTORS,
	OPT_SIZE_MISMATCH, OPT_DMNAME, OPT_MAXMSG, OPT_START, OPT_ALLOW_EMPTY, OPT_JSON,
};

struct cli {
	enum cmd cmd;
	struct in_opts in;
	int64_t offset;
	uint64_t region, devsize;
	enum size_policy policy;
	enum outfmt out;
	const char *dm_name, *output;
	size_t max_msg;
	bool start, verbose, json;
	bool bit_order_given, units_given;
	int nargs;
	char **args;
};

/* option letter -> commands allowed (bit per enum cmd) */
#define C_CONV (1u << CMD_CONVERT)
#define C_LOAD (1u << CMD_LOAD)
#define C_SAVE (1u << CMD_SAVE)
#define C_INFO (1u << CMD_INFO)
#define C_IN (C_CONV | C_LOAD | C_INFO)

static const struct {
	struct option o;
	unsigned cmds;
} opts[] = {
	{ { "format", required_argument, NULL, 'f' }, C_IN },
	{ { "name", required_argument, NULL, 'n' }, C_IN },
	{ { "force", no_argument, NULL, OPT_FORCE }, C_IN },
	{ { "allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY }, C_IN },
	{ { "granularity", required_argument, NULL, 'g' }, C_IN },
	{ { "table", required_argument, NULL, OPT_TABLE }, C_IN },
	{ { "bit-order", required_argument, NULL, OPT_BITORDER }, C_IN },
	{ { "units", required_argument, NULL, OPT_UNITS }, C_IN },
	{ { "offset", required_argument, NULL, OPT_OFFSET }, C_IN },
	{ { "region-size", required_argument, NULL, 'r' }, C_CONV },
	{ { "region-sectors", required_argument, NULL, OPT_REGION_SECTORS }, C_CONV },
	{ { "device-size", required_argument, NULL, 's' }, C_CONV },
	{ { "size-mismatch", required_argument, NULL, OPT_SIZE_MISMATCH }, C_CONV | C_LOAD },
	{ { "output-format", required_argument, NULL, 'O' }, C_CONV },
	{ { "dm-name", required_argument, NULL, OPT_DMNAME }, C_CONV },
	{ { "max-message", required_argument, NULL, OPT_MAXMSG }, C_CONV | C_LOAD },
	{ { "output", required_argument, NULL, 'o' }, C_CONV | C_SAVE },
	{ { "start", no_argument, NULL, OPT_START }, C_LOAD },
	{ { "json", no_argument, NULL, OPT_JSON }, C_INFO },
	{ { "verbose", no_argument, NULL, 'v' }, C_CONV | C_LOAD | C_SAVE | C_INFO },
	{ { "help", no_argument, NULL, 'h' }, C_CONV | C_LOAD | C_SAVE | C_INFO },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const help_text[] = {
	[CMD_CONVERT] = HELP_CONVERT,
	[CMD_LOAD] = HELP_LOAD,
	[CMD_SAVE] = HELP_SAVE,
	[CMD_INFO] = HELP_INFO,
};
static const char *const cmd_names[] = {
	[CMD_CONVERT] = "convert", [CMD_LOAD] = "load", [CMD_SAVE] = "save", [CMD_INFO] = "info",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage_err(const struct cli *c, const char *fmt, const char *arg)
{
	fprintf(stderr, PROG " %s: ", cmd_names[c->cmd]);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " %s --help'.\n", cmd_names[c->cmd]);
	return EXIT_USAGE;
}

static int parse_cli(struct cli *c, int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	int ch, idx;

	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = opts[i].o;
	c->in.units = 1;
	c->max_msg = MSGENC_MAX_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:n:g:r:s:O:o:vh", lo, &idx)) != -1) {
		unsigned allowed = 0;
		const char *oname = "?";
		uint64_t v;

		if (ch == '?')
			return usage_err(c, "unknown option '%s'", argv[optind - 1]);
		if (ch == ':')
			return usage_err(c, "option '%s' needs a value", argv[optind - 1]);
		for (size_t i = 0; i < NOPTS; i++)
			if (opts[i].o.val == ch) {
				allowed = opts[i].cmds;
				oname = opts[i].o.name;
			}
		/* the option's name: argv[optind - 1] may be its value */
		if (!(allowed & (1u << c->cmd)))
			return usage_err(c, "option '--%s' does not apply to this command", oname);
		switch (ch) {
		case 'h':
			fputs(help_text[c->cmd], stdout);
			exit(fflush(stdout) ? EXIT_SYSTEM : EXIT_OK);
		case 'v':
			c->verbose = true;
			break;
		case 'f':
			c->in.fmt = fmt_parse(optarg);
			if (c->in.fmt == FMT_COUNT || c->in.fmt == FMT_AUTO)
				return usage_err(c, "unknown format '%s'", optarg);
			break;
		case 'n':
			c->in.name = optarg;
			break;
		case OPT_FORCE:
			c->in.force = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_ALLOW_EMPTY:
			c->in.allow_empty = true;
			break;
		case 'g':
			if (parse_size(optarg, &c->in.granularity) || !c->in.granularity)
				return usage_err(c, "bad granularity '%s'", optarg);
			break;
		case OPT_TABLE:
			if (parse_table_line(optarg, &c->in.table_block, &c->in.table_size))
				return usage_err(c, "cannot read an era, thin-pool or thin table line from '%s'", optarg);
			/* era: block size and length; thin-pool: block size; thin: length */
			c->in.table_type = c->in.table_block && c->in.table_size ? TABLE_ERA :
					   c->in.table_block ? TABLE_THIN_POOL : TABLE_THIN;
			break;
		case OPT_BITORDER:
			if (strcmp(optarg, "lsb") && strcmp(optarg, "msb"))
				return usage_err(c, "bad bit order '%s' (lsb or msb)", optarg);
			c->in.msb_first = !strcmp(optarg, "msb");
			c->bit_order_given = true;
			break;
		case OPT_UNITS:
			if (!strcmp(optarg, "bytes"))
				c->in.units = 1;
			else if (!strcmp(optarg, "sectors"))
				c->in.units = 512;
			else
				return usage_err(c, "bad units '%s' (bytes or sectors)", optarg);
			c->units_given = true;
			break;
		case OPT_OFFSET:
			if (parse_ssize(optarg, &c->offset))
				return usage_err(c, "bad offset '%s'", optarg);
			break;
		case 'r':
			if (parse_size(optarg, &c->region) || !is_pow2(c->region) || c->region < 4096 ||
			    c->region > MAX_REGION_BYTES)
				return usage_err(c, "bad region size '%s' (a power of two from 4096 to 1G)", optarg);
			break;
		case OPT_REGION_SECTORS:
			if (parse_u64(optarg, &v) || !is_pow2(v) || v < 8 || v > MAX_REGION_BYTES / 512)
				return usage_err(c, "bad region sectors '%s' (a power of two from 8 to 2097152)", optarg);
			c->region = v * 512;
			break;
		case 's':
			if (parse_size(optarg, &c->devsize) || !c->devsize || c->devsize > (UINT64_C(1) << 62))
				return usage_err(c, "bad device size '%s'", optarg);
			break;
		case OPT_SIZE_MISMATCH:
			if (!strcmp(optarg, "error"))
				c->policy = SIZE_ERROR;
			else if (!strcmp(optarg, "truncate"))
				c->policy = SIZE_TRUNCATE;
			else if (!strcmp(optarg, "extend"))
				c->policy = SIZE_EXTEND;
			else
				return usage_err(c, "bad --size-mismatch '%s' (error, truncate or extend)", optarg);
			break;
		case 'O':
			if (!strcmp(optarg, "messages"))
				c->out = OUT_MESSAGES;
			else if (!strcmp(optarg, "canonical"))
				c->out = OUT_CANONICAL;
			else if (!strcmp(optarg, "ranges"))
				c->out = OUT_RANGES;
			else
				return usage_err(c, "bad output format '%s'", optarg);
			break;
		case OPT_DMNAME:
			c->dm_name = optarg;
			break;
		case OPT_MAXMSG:
			if (parse_size(optarg, &v) || v < MSGENC_MIN || v > (UINT64_C(16) << 20))
				return usage_err(c, "bad --max-message '%s' (1200 bytes to 16M)", optarg);
			c->max_msg = (size_t)v;
			break;
		case 'o':
			c->output = optarg;
			break;
		case OPT_START:
			c->start = true;
			break;
		}
	}
	c->in.size_policy = c->policy;
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

/*
 * A format-specific option that applies to none of the inputs' formats is a
 * usage error, never silently ignored: --table with an input detected as a
 * range list (an empty era_invalidate output) would otherwise load nothing.
 * names[i] and fmts[i] are the n inputs parsed so far.
 */
static int check_applies(const struct cli *c, const char *const *names, const enum fmt *fmts, int n)
{
	const char *table_kind = c->in.table_type == TABLE_ERA ? "an era table line" :
				 c->in.table_type == TABLE_THIN_POOL ? "a thin-pool table line" : "a thin table line";
	const struct {
		bool given;
		const char *opt, *what, *where;
		unsigned applies;
	} o[] = {
		{ c->in.name != NULL, "--name", NULL, "qcow2", APPLIES_NAME },
		{ c->in.force, "--force", NULL, "qcow2, md and dm-snapshot", APPLIES_FORCE },
		{ c->in.granularity != 0, "--granularity", NULL, "era, thin and raw", APPLIES_GRANULARITY },
		{ c->in.table_type != TABLE_NONE, "--table", table_kind,
		  c->in.table_type == TABLE_ERA ? "era" : "thin",
		  c->in.table_type == TABLE_ERA ? APPLIES_TABLE_ERA : APPLIES_TABLE_THIN },
		{ c->bit_order_given, "--bit-order", NULL, "raw", APPLIES_BIT_ORDER },
		{ c->units_given, "--units", NULL, "ranges", APPLIES_UNITS },
	};
	unsigned seen = 0;

	for (int i = 0; i < n; i++)
		seen |= FMTBIT(fmts[i]);
	for (size_t k = 0; k < sizeof(o) / sizeof(o[0]); k++) {
		if (!o[k].given || (o[k].applies & seen))
			continue;
		fprintf(stderr, PROG " %s: option '%s'%s%s%s applies to %s inputs only; ", cmd_names[c->cmd], o[k].opt,
			o[k].what ? " (" : "", o[k].what ? o[k].what : "", o[k].what ? ")" : "", o[k].where);
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%s%s is %s", i ? ", " : "", names[i], fmt_name(fmts[i]));
		fprintf(stderr, " (%s)\nTry '" PROG " %s --help'.\n", c->in.fmt ? "--format" : "detected",
			cmd_names[c->cmd]);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Parse all inputs into a bitmap at region bytes per bit for a device of devsize
 * bytes (0 = unknown: taken from the inputs). On success bm->nbits = regions of
 * the device and *devsize_out = its size (0 if still unknown).
 */
static int build(const struct cli *c, char **inputs, int n, uint64_t region, uint64_t devsize,
		 struct bitmap *bm, uint64_t *devsize_out)
{
	struct sink sk;
	struct input *in = calloc((size_t)n, sizeof(*in));
	uint64_t *max_end = calloc((size_t)n, sizeof(*max_end));
	uint64_t dev = devsize;
	int r = 0;

	if (!in || !max_end || sink_init(&sk, region, c->offset, devsize)) {
		free(in);
		free(max_end);
		err_msg("out of memory");
		return EXIT_SYSTEM;
	}
	for (int i = 0; i < n && !r; i++) {
		struct src s;
		struct pctx ctx = { .s = &s, .o = &c->in, .sk = &sk, .in = &in[i] };

		if (src_open(&s, inputs[i]))
			r = EXIT_INPUT;
		else
			r = parse_input(&ctx);
		max_end[i] = sk.max_end;
		if (!strcmp(inputs[i], "-"))
			in[i].path = "<stdin>";
		else
			in[i].path = inputs[i];
		src_close(&s);
	}
	if (r)
		goto out;
	{
		const char **names = calloc((size_t)n, sizeof(*names));
		enum fmt *fmts = calloc((size_t)n, sizeof(*fmts));

		if (!names || !fmts) {
			err_msg("out of memory");
			r = EXIT_SYSTEM;
		} else {
			for (int i = 0; i < n; i++) {
				names[i] = in[i].path;
				fmts[i] = in[i].fmt;
			}
			r = check_applies(c, names, fmts, n);
		}
		free(names);
		free(fmts);
		if (r)
			goto out;
	}
	/* device size in target coordinates */
	if (!dev)
		for (int i = 0; i < n; i++) {
			int64_t s = (int64_t)in[i].size - c->offset;

			if (in[i].size && s > 0 && (uint64_t)s > dev)
				dev = (uint64_t)s;
		}
	for (int i = 0; i < n; i++) {
		uint64_t covers = 0;
		bool known = in[i].size != 0, bad;

		if (known) {
			int64_t s = (int64_t)in[i].size - c->offset;

			covers = s > 0 ? (uint64_t)s : 0;
		}
		if (!dev)
			continue;	/* nothing to compare with */
		bad = known ? covers != dev : max_end[i] > dev;
		if (!bad)
			continue;
		if (c->policy == SIZE_ERROR) {
			if (known)
				err_msg("%s: size mismatch: the input describes %" PRIu64 " bytes%s, the device has %" PRIu64
					" (use --size-mismatch=truncate|extend)", in[i].path, covers,
					c->offset ? " after the offset" : "", dev);
			else
				err_msg("%s: size mismatch: dirty data up to byte %" PRIu64 ", the device has %" PRIu64
					" bytes (use --size-mismatch=truncate)", in[i].path, max_end[i], dev);
			r = EXIT_SIZE;
			goto out;
		}
		if (c->verbose || known)
			err_msg("%s: warning: the input describes %" PRIu64 " bytes, the device has %" PRIu64 " (%s)",
				in[i].path, known ? covers : max_end[i], dev,
				c->policy == SIZE_EXTEND && known && covers < dev ? "rest marked dirty" :
				covers < dev ? "rest treated as clean" : "excess dropped");
	}
	if (dev) {
		uint64_t nreg = div_up(dev, region);

		if (bm_resize(&sk.bm, nreg)) {
			err_msg("out of memory for %" PRIu64 " regions", nreg);
			r = EXIT_SYSTEM;
			goto out;
		}
		if (c->policy == SIZE_EXTEND)
			for (int i = 0; i < n; i++) {
				int64_t s = (int64_t)in[i].size - c->offset;
				uint64_t covers = s > 0 ? (uint64_t)s : 0;

				if (in[i].size && covers < dev)
					bm_set_range(&sk.bm, covers / region, nreg - covers / region);
			}
	}
	*bm = sk.bm;
	sk.bm.w = NULL;
	*devsize_out = dev;
out:
	sink_free(&sk);
	free(in);
	free(max_end);
	return r;
}

struct print_ctx {
	FILE *fp;
	const char *prefix;
	uint64_t count, bytes;
};

static int print_msg(void *arg, const char *msg, size_t len)
{
	struct print_ctx *p = arg;

	p->count++;
	p->bytes += len;
	if (p->prefix)
		fprintf(p->fp, "dmsetup message %s 0 ", p->prefix);
	fwrite(msg, 1, len, p->fp);
	return fputc('\n', p->fp) == EOF ? EXIT_SYSTEM : 0;
}

/*
 * A regular file (or a new one) is written beside it and renamed over it,
 * so that a failed run never leaves half a file. Anything else that exists
 * (/dev/null, a FIFO, a device) is written in place: renaming over it
 * would replace the device node by a file.
 */
static FILE *open_out(const char *path, char **tmp)
{
	struct stat st;
	FILE *fp;

	*tmp = NULL;
	if (!path || !strcmp(path, "-"))
		return stdout;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		fp = fopen(path, "wb");
		if (!fp)
			err_msg("%s: cannot open: %s", path, strerror(errno));
		return fp;
	}
	if (asprintf(tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		*tmp = NULL;
		return NULL;
	}
	fp = fopen(*tmp, "wb");
	if (!fp)
		err_msg("%s: cannot create: %s", *tmp, strerror(errno));
	return fp;
}

static int close_out(FILE *fp, const char *path, char *tmp, int r)
{
	if (fp == stdout) {
		if (fflush(stdout) && !r) {
			err_msg("standard output: write error: %s", strerror(errno));
			r = EXIT_SYSTEM;
		}
		return r;
	}
	if (fclose(fp) && !r) {
		err_msg("%s: write error: %s", tmp ? tmp : path, strerror(errno));
		r = EXIT_SYSTEM;
	}
	if (!tmp)
		return r;
	if (!r && rename(tmp, path)) {
		err_msg("%s: cannot rename to %s: %s", tmp, path, strerror(errno));
		r = EXIT_SYSTEM;
	}
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

static int cmd_convert(struct cli *c)
{
	struct bitmap bm = { 0 };
	uint64_t dev = 0;
	double t0 = now();
	FILE *fp;
	char *tmp;
	int r;

	if (c->nargs < 1)
		return usage_err(c, "%s", "expected at least one INPUT");
	if (!c->region)
		return usage_err(c, "%s", "expected --region-size or --region-sectors");
	if (c->dm_name && c->out != OUT_MESSAGES)
		return usage_err(c, "%s", "--dm-name applies to --output-format messages");
	r = build(c, c->args, c->nargs, c->region, c->devsize, &bm, &dev);
	if (r)
		return r;
	if (c->out == OUT_CANONICAL && !dev) {
		bm_free(&bm);
		return usage_err(c, "%s", "the inputs do not say the device size: give --device-size");
	}
	fp = open_out(c->output, &tmp);
	if (!fp) {
		bm_free(&bm);
		return EXIT_SYSTEM;
	}
	if (c->out == OUT_CANONICAL) {
		r = canonical_write(fp, c->output ? c->output : "standard output", &bm, c->region, dev);
	} else if (c->out == OUT_MESSAGES) {
		struct print_ctx p = { .fp = fp, .prefix = c->dm_name };

		r = msgenc_run(&bm, c->max_msg, print_msg, &p);
		if (r < 0) {
			err_msg("out of memory");
			r = EXIT_SYSTEM;
		}
		if (c->verbose)
			err_msg("%" PRIu64 " messages, %" PRIu64 " bytes", p.count, p.bytes);
	} else {
		for (uint64_t a = bm_next_set(&bm, 0); a < bm.nbits;) {
			uint64_t b = bm_next_clear(&bm, a), off = a * c->region, end = b * c->region;

			if (dev && end > dev)
				end = dev;
			if (fprintf(fp, "%" PRIu64 " %" PRIu64 "\n", off, end - off) < 0) {
				r = EXIT_SYSTEM;
				break;
			}
			a = bm_next_set(&bm, b);
		}
	}
	if (c->verbose)
		err_msg("%" PRIu64 " regions of %" PRIu64 " bytes, %" PRIu64 " dirty; %.3f s", bm.nbits, c->region,
			bm_count(&bm), now() - t0);
	bm_free(&bm);
	return close_out(fp, c->output, tmp, r);
}

struct load_ctx {
	const struct dmdev *d;
	uint64_t count, bytes;
};

static int send_msg(void *arg, const char *msg, size_t len)
{
	struct load_ctx *l = arg;

	l->count++;
	l->bytes += len;
	return dm_message(l->d, msg, NULL);
}

static int cmd_load(struct cli *c)
{
	struct dmdev d;
	struct bitmap bm = { 0 };
	uint64_t dev;
	struct load_ctx l = { .d = &d };
	double t0 = now(), t1;
	int r;

	if (c->nargs < 2)
		return usage_err(c, "%s", "expected DEVICE and at least one INPUT");
	r = dm_open_target(&d, c->args[0]);
	if (r)
		return r;
	r = build(c, c->args + 1, c->nargs - 1, d.region_sectors * 512, d.len_sectors * 512, &bm, &dev);
	if (r)
		return r;
	t1 = now();
	r = msgenc_run(&bm, c->max_msg, send_msg, &l);
	if (r < 0) {
		err_msg("out of memory");
		r = EXIT_SYSTEM;
	}
	if (c->verbose)
		err_msg("%s: %" PRIu64 " regions, %" PRIu64 " dirty; parsed in %.3f s; %" PRIu64 " messages (%" PRIu64
			" bytes) in %.3f s", d.arg, bm.nbits, bm_count(&bm), t1 - t0, l.count, l.bytes, now() - t1);
	bm_free(&bm);
	if (!r && c->start)
		r = dm_message(&d, "start", NULL);
	return r;
}

static int cmd_save(struct cli *c)
{
	struct dmdev d;
	struct bitmap bm;
	uint64_t msgs;
	double t0 = now();
	FILE *fp;
	char *tmp;
	int r;

	if (c->nargs != 1)
		return usage_err(c, "%s", "expected exactly one DEVICE");
	if (!c->output)
		return usage_err(c, "%s", "expected -o FILE");
	r = dm_open_target(&d, c->args[0]);
	if (r)
		return r;
	r = dm_read_map(&d, &bm, &msgs);
	if (r) {
		bm_free(&bm);
		return r;
	}
	fp = open_out(c->output, &tmp);
	if (!fp) {
		bm_free(&bm);
		return EXIT_SYSTEM;
	}
	r = canonical_write(fp, c->output, &bm, d.region_sectors * 512, d.len_sectors * 512);
	if (c->verbose)
		err_msg("%s: %" PRIu64 " regions, %" PRIu64 " dirty; %" PRIu64 " messages; %.3f s", d.arg, bm.nbits,
			bm_count(&bm), msgs, now() - t0);
	bm_free(&bm);
	return close_out(fp, c->output, tmp, r);
}

/*
 * The keys of info whose value is a count or a size: the only ones that
 * --json prints as a number, and only when the value is all decimal digits
 * that fit in 64 bits ("unknown", "byte extents", ... stay strings). Every
 * other value (a file name, a bitmap name, a format) is a string, even one
 * of digits only: a FILE named 0042 is "0042".
 */
static const char *const info_numeric_keys[] = {
	"device-size", "granularity", "dirty-extents", "dirty-bytes", "era-blocks", "regions", "dirty-regions",
	"snapshot-version", "chunk-sectors", "exceptions", "metadata-areas", "allocated-sectors",
	"metadata-sectors", "md-bitmap-version", "chunks", "events", "events-cleared", "cluster-size",
};

/* info_number: true and *out set when VAL of KEY is to be a JSON number. */
static bool info_number(const char *key, const char *val, uint64_t *out)
{
	size_t i, n = strlen(val);
	uint64_t v = 0;

	for (i = 0; i < sizeof(info_numeric_keys) / sizeof(info_numeric_keys[0]); i++)
		if (!strcmp(key, info_numeric_keys[i]))
			break;
	if (i == sizeof(info_numeric_keys) / sizeof(info_numeric_keys[0]))
		return false;
	if (!n || strspn(val, "0123456789") != n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(val[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;	/* does not fit: kept as a string */
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * info --json: the "key: value" lines of TEXT (one block per file, blocks
 * separated by an empty line) as a JSON array of objects, one per file,
 * written by json-c: the value of a numeric key (info_numeric_keys) made
 * of decimal digits is a number (unsigned 64-bit), anything else (also
 * "unknown (...)", a file or bitmap name of digits) a string; a key given
 * more than once (qcow2's "bitmap") is an array of its values.
 */
static int print_info_json(const char *text)
{
	json_object *arr = json_object_new_array(), *obj = NULL;
	const char *p = text, *js;
	int r = 0;

	if (!arr)
		goto oom;
	while (*p) {
		const char *nl = strchr(p, '\n'), *colon;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char key[128], *val;
		json_object *v, *old;
		uint64_t num;

		if (!len) {
			obj = NULL;
			p += 1;
			continue;
		}
		if (!obj) {
			obj = json_object_new_object();
			if (!obj || json_object_array_add(arr, obj))
				goto oom;
		}
		colon = memchr(p, ':', len);
		if (!colon || (size_t)(colon - p) >= sizeof(key))
			goto next;	/* not a key: value line (none are) */
		memcpy(key, p, (size_t)(colon - p));
		key[colon - p] = '\0';
		colon++;
		while (colon < p + len && *colon == ' ')
			colon++;
		val = strndup(colon, (size_t)(p + len - colon));
		if (!val)
			goto oom;
		if (info_number(key, val, &num))
			v = json_object_new_uint64(num);
		else
			v = json_object_new_string(val);
		free(val);
		if (!v)
			goto oom;
		if (json_object_object_get_ex(obj, key, &old)) {
			if (!json_object_is_type(old, json_type_array)) {
				json_object *a = json_object_new_array();

				if (!a || json_object_array_add(a, json_object_get(old)))
					goto oom;
				json_object_object_add(obj, key, a);
				old = a;
			}
			if (json_object_array_add(old, v))
				goto oom;
		} else if (json_object_object_add(obj, key, v)) {
			goto oom;
		}
next:
		p += len + (nl ? 1 : 0);
	}
	js = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!js)
		goto oom;
	if (puts(js) == EOF)
		r = EXIT_SYSTEM;
	json_object_put(arr);
	return r;
oom:
	json_object_put(arr);
	err_msg("out of memory");
	return EXIT_SYSTEM;
}

static int cmd_info(struct cli *c)
{
	int ret = 0, nparsed = 0;
	char *text = NULL;
	size_t tlen = 0;
	FILE *tfp;
	const char **names;
	enum fmt *fmts;

	if (c->nargs < 1)
		return usage_err(c, "%s", "expected at least one FILE");
	/* the descriptions are printed once every FILE is read and the options checked */
	tfp = open_memstream(&text, &tlen);
	names = calloc((size_t)c->nargs, sizeof(*names));
	fmts = calloc((size_t)c->nargs, sizeof(*fmts));
	if (!tfp || !names || !fmts) {
		err_msg("out of memory");
		return EXIT_SYSTEM;
	}
	for (int i = 0; i < c->nargs; i++) {
		struct sink sk;
		struct src s;
		struct input in = { 0 };
		char *details = NULL;
		size_t dlen = 0;
		FILE *dfp = open_memstream(&details, &dlen);
		struct pctx ctx = { .s = &s, .o = &c->in, .sk = &sk, .in = &in, .info = dfp };
		int r;

		if (!dfp || sink_init(&sk, 0, c->offset, 0)) {
			err_msg("out of memory");
			return EXIT_SYSTEM;
		}
		r = src_open(&s, c->args[i]) ? EXIT_INPUT : parse_input(&ctx);
		fclose(dfp);
		if (!r) {
			names[nparsed] = s.name;
			fmts[nparsed++] = in.fmt;
			if (nparsed > 1)
				fputc('\n', tfp);
			fprintf(tfp, "file: %s\nformat: %s\n", s.name, fmt_name(in.fmt));
			if (in.size)
				fprintf(tfp, "device-size: %" PRIu64 "\n", in.size);
			else
				fprintf(tfp, "device-size: unknown\n");
			if (in.granularity)
				fprintf(tfp, "granularity: %" PRIu64 "\n", in.granularity);
			else if (in.uncounted[0])
				fprintf(tfp, "granularity: unknown\n");
			else
				fprintf(tfp, "granularity: byte extents\n");
			if (in.uncounted[0]) {
				/* never a 0 that means "could not count" */
				fprintf(tfp, "dirty-extents: unknown (%s)\ndirty-bytes: unknown\n", in.uncounted);
				if (in.unit_name)
					fprintf(tfp, "%s: %" PRIu64 "\n", in.unit_name, in.units_listed);
			} else {
				fprintf(tfp, "dirty-extents: %" PRIu64 "\ndirty-bytes: %" PRIu64 "%s\n", sk.extents,
					sk.bytes, in.forced_all ? " (inconsistent bitmap: all dirty)" : "");
			}
			if (sk.extents && !in.uncounted[0])
				fprintf(tfp, "dirty-span: %" PRIu64 "-%" PRIu64 "\n", sk.min_off,
					sk.max_end + (uint64_t)c->offset - 1);
			fputs(details ? details : "", tfp);
		} else if (!ret) {
			ret = r;
		}
		free(details);
		sink_free(&sk);
		src_close(&s);
	}
	fclose(tfp);
	{
		int r = nparsed ? check_applies(c, names, fmts, nparsed) : 0;

		if (r)
			ret = r;
		else if (c->json)
			r = print_info_json(text ? text : "");
		else
			fputs(text ? text : "", stdout);
		if (r && !ret)
			ret = r;
	}
	free(text);
	free(names);
	free((void *)fmts);
	if (fflush(stdout))
		return EXIT_SYSTEM;
	return ret;
}

int main(int argc, char **argv)
{
	struct cli c;

	memset(&c, 0, sizeof(c));
	if (argc < 2) {
		fputs(HELP_MAIN, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(HELP_MAIN, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf(PROG " " IMB_VERSION "\n");
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "convert"))
		c.cmd = CMD_CONVERT;
	else if (!strcmp(argv[1], "load"))
		c.cmd = CMD_LOAD;
	else if (!strcmp(argv[1], "save"))
		c.cmd = CMD_SAVE;
	else if (!strcmp(argv[1], "info"))
		c.cmd = CMD_INFO;
	else {
		fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
		fputs(HELP_MAIN, stderr);
		return EXIT_USAGE;
	}
	{
		int r = parse_cli(&c, argc - 1, argv + 1);

		if (r)
			return r;
	}
	switch (c.cmd) {
	case CMD_CONVERT: return cmd_convert(&c);
	case CMD_LOAD: return cmd_load(&c);
	case CMD_SAVE: return cmd_save(&c);
	case CMD_INFO: return cmd_info(&c);
	}
	return EXIT_USAGE;
}
