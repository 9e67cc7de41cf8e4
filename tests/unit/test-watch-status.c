// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of incmirror-watch's status parser and output lines
 * (tools/incmirror-watch/status.c). Prints "PASS name" / "FAIL name: why",
 * one line per test; exit status 1 when any failed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

struct ctx {
	int failed;
};

static void check(struct ctx *c, const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS watch-%s\n", name);
	} else {
		printf("FAIL watch-%s: %s\n", name, why);
		c->failed++;
	}
}

static bool parses(const char *line, struct im_status *st, char *err, size_t len)
{
	return im_status_parse(line, st, err, len) == 0;
}

static void t_basic(struct ctx *c)
{
	struct im_status st;
	char err[160] = "";
	bool ok = parses("copying 9210/16384 128 0 1178880 51187 51200 4 metadata=ok", &st, err,
			 sizeof(err));

	ok = ok && !strcmp(st.state, "copying") && st.insync == 9210 && st.total == 16384 &&
	     st.region_sectors == 128 && st.dest_errors == 0 && st.copied_sectors == 1178880 &&
	     st.rate_kib_s == 51187 && st.max_rate_kib_s == 51200 && st.in_flight == 4 &&
	     !strcmp(st.metadata, "ok");
	check(c, "parse-documented-example", ok, err[0] ? err : "wrong fields");
}

static void t_trailing(struct ctx *c)
{
	struct im_status st;
	char err[160] = "";
	bool ok = parses("synced 10/10 8 3 80 0 0 0 metadata=none verify=idle 17 x=y\n", &st, err,
			 sizeof(err));

	ok = ok && !strcmp(st.state, "synced") && st.insync == 10 && st.dest_errors == 3 &&
	     !strcmp(st.metadata, "none");
	check(c, "parse-ignores-trailing-fields", ok, err[0] ? err : "wrong fields");
	/* An older module without metadata=: accepted, metadata unknown. */
	ok = parses("degraded 1/2 8 9 0 0 0 0", &st, err, sizeof(err)) && !st.metadata[0] &&
	     !strcmp(st.state, "degraded");
	check(c, "parse-without-metadata-field", ok, err[0] ? err : "wrong fields");
	/* A later field named like ours does not override it. */
	ok = parses("copying 1/2 8 0 0 0 0 0 metadata=ok metadata=failed", &st, err, sizeof(err)) &&
	     !strcmp(st.metadata, "ok");
	check(c, "parse-first-metadata-wins", ok, "metadata overridden");
}

static void t_bad(struct ctx *c)
{
	static const char *const bad[] = {
		"", "   ", "Copying 1/2 8 0 0 0 0 0", "copying 1-2 8 0 0 0 0 0",
		"copying 3/2 8 0 0 0 0 0", "copying 0/0 8 0 0 0 0 0", "copying 1/2 8 0 0 0 0",
		"copying 1/2 8 0 0 0 0 x", "copying 1/2 8 0 0 0 -1 0", "copying /2 8 0 0 0 0 0",
		"copying 1/ 8 0 0 0 0 0", "copying 1/2 99999999999999999999 0 0 0 0 0",
		"averyveryverylongstate 1/2 8 0 0 0 0 0",
	};
	struct im_status st;
	char err[160], name[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		snprintf(name, sizeof(name), "parse-refuses-%zu", i);
		check(c, name, !parses(bad[i], &st, err, sizeof(err)) && err[0],
		      "accepted a malformed status (or no reason given)");
	}
	check(c, "parse-refuses-null", im_status_parse(NULL, &st, err, sizeof(err)) == -1,
	      "accepted NULL");
}

static void t_progress(struct ctx *c)
{
	struct im_status st;
	char err[160];

	parses("copying 9210/16384 128 0 0 51200 51200 4 metadata=ok", &st, err, sizeof(err));
	check(c, "permille", im_permille(&st) == 562, "56.2 % expected");
	/* (16384 - 9210) * 64 KiB at 51200 KiB/s = 8.97 s -> 9 s */
	check(c, "eta-rounds-up", im_eta(&st) == 9, "eta 9 expected");
	parses("copying 16383/16384 128 0 0 0 0 1 metadata=ok", &st, err, sizeof(err));
	check(c, "permille-never-100-before-synced", im_permille(&st) == 999, "99.9 % expected");
	check(c, "eta-unknown-without-rate", im_eta(&st) == -1, "unknown eta expected");
	parses("synced 16384/16384 128 0 0 0 0 0 metadata=ok", &st, err, sizeof(err));
	check(c, "synced", im_permille(&st) == 1000 && im_eta(&st) == 0, "100 %, eta 0 expected");
	parses("paused 1/16384 128 0 0 500 0 0 metadata=ok", &st, err, sizeof(err));
	check(c, "eta-unknown-when-paused", im_eta(&st) == -1, "unknown eta expected");
}

static void t_output(struct ctx *c)
{
	struct im_sample s = { .device = "mi\"g", .time = 1700000000.25, .event_nr = 3 };
	char buf[1024], small[40];
	size_t n;

	parses("copying 9210/16384 128 2 1178880 51200 51200 4 metadata=failed", &s.st, buf,
	       sizeof(buf));
	n = im_format_json(buf, sizeof(buf), &s);
	check(c, "json-line",
	      n == strlen(buf) && !strcmp(buf, "{\"time\":1700000000.250,\"device\":\"mi\\\"g\","
			      "\"event_nr\":3,\"state\":\"copying\",\"insync\":9210,\"total\":16384,"
			      "\"percent\":56.2,\"region_sectors\":128,\"copied_sectors\":1178880,"
			      "\"rate_kib_s\":51200,\"max_rate_kib_s\":51200,\"in_flight\":4,"
			      "\"eta_s\":9,\"dest_errors\":2,\"metadata\":\"failed\"}\n"),
	      buf);
	n = im_format_text(buf, sizeof(buf), &s);
	check(c, "text-line",
	      n == strlen(buf) && !strcmp(buf, "mi\"g: copying 56.2% (9210/16384 regions, 575.6 MiB "
			      "copied) 50.0 MiB/s ETA 0:00:09, 2 destination errors, metadata failed\n"),
	      buf);
	n = im_format_text(small, sizeof(small), &s);
	check(c, "text-line-truncated", n == sizeof(small) - 1 && small[n - 1] == '\n' && !small[n],
	      small);
	s.st.metadata[0] = '\0';
	im_format_json(buf, sizeof(buf), &s);
	check(c, "json-metadata-null", strstr(buf, "\"metadata\":null}") != NULL, buf);
}

int main(void)
{
	struct ctx c = { 0 };

	t_basic(&c);
	t_trailing(&c);
	t_bad(&c);
	t_progress(&c);
	t_output(&c);
	return c.failed ? 1 : 0;
}
