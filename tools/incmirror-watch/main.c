// SPDX-License-Identifier: GPL-2.0
/*
 * incmirror-watch DEVICE [--interval S] [--json] [--once | --timeout S]
 *
 * Follows a dm-incmirror device until it is synced: reads its status, then
 * waits on device-mapper events (DM_DEVICE_WAITEVENT with the event number,
 * as `dmsetup wait` does), interrupted by a timer so that progress is shown
 * at least every S seconds. Documentation/incmirror-watch.rst is the manual.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "status.h"

#define PROG "incmirror-watch"
#ifndef IMW_VERSION
#define IMW_VERSION "1.2.0"
#endif

/* Exit status (documented in Documentation/incmirror-watch.rst). */
enum {
	EXIT_SYNCED = 0,
	EXIT_USAGE = 1,		/* bad command line */
	EXIT_DEGRADED = 2,	/* the target entered degraded */
	EXIT_GONE = 3,		/* no such device, removed, or no longer an incmirror table */
	EXIT_ERROR = 4,		/* device-mapper unreachable, unreadable status, output error */
	EXIT_NOT_SYNCED = 5,	/* --once: not synced; --timeout: not synced in time */
};

/* The longest wait in one ioctl: bounds how long `dmsetup remove` waits for us. */
#define WAIT_SLICE 1.0

static const char usage_text[] =
	"Usage: incmirror-watch DEVICE [--interval S] [--json] [--once | --timeout S]\n"
	"Show the progress of the dm-incmirror device DEVICE (a device-mapper name or\n"
	"device node) until it is synced. Waits on device-mapper events and shows the\n"
	"state at least every S seconds.\n"
	"\n"
	"  -i, --interval S        seconds between updates when no event comes\n"
	"                          (default 1; a decimal number from 0.1 to 3600)\n"
	"  -j, --json              one JSON object per line instead of text\n"
	"      --once              show the state once and exit (0 synced, 2 degraded,\n"
	"                          5 neither)\n"
	"      --timeout S         give up after S seconds (exit 5; a decimal number\n"
	"                          from 0.1 to 31536000)\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Exit status: 0 synced, 1 bad usage, 2 degraded, 3 no such device (or it was\n"
	"removed, or is no longer an incmirror device), 4 other errors, 5 not synced\n"
	"(--once) or not synced in time (--timeout).\n";

enum output { OUT_TERMINAL, OUT_PLAIN, OUT_JSON };

struct watch {
	const char *arg;	/* DEVICE as given */
	char name[128];		/* its device-mapper name (DM_NAME_LEN) */
	uint32_t major, minor;	/* followed by device number */
	double interval;
	double timeout;		/* --timeout, 0: none */
	bool once;		/* --once */
	enum output output;
	bool line_open;		/* a terminal line is shown without its newline */
};

static void err_msg(struct watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* write(2) all of BUF, resuming after signals and partial writes. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void err_msg(struct watch *w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (w && w->line_open) {
		(void)write_all(STDOUT_FILENO, "\n", 1);
		w->line_open = false;
	}
	n = snprintf(buf, sizeof(buf), PROG ": ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	(void)write_all(STDERR_FILENO, buf, strlen(buf));
}

/* libdevmapper's own messages: this program reports every failure itself. */
static void dm_quiet_log(int level, const char *file, int line, int dm_errno_or_class,
			 const char *f, ...)
{
	(void)level;
	(void)file;
	(void)line;
	(void)dm_errno_or_class;
	(void)f;
}

/* SIGALRM only interrupts the wait ioctl; it carries no information. */
static void on_alarm(int sig)
{
	(void)sig;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dm_task *task_for(struct watch *w, int type)
{
	struct dm_task *t = dm_task_create(type);

	if (!t) {
		err_msg(w, "%s: cannot create a device-mapper task", w->arg);
		return NULL;
	}
	if (!dm_task_set_major(t, (int)w->major) || !dm_task_set_minor(t, (int)w->minor)) {
		err_msg(w, "%s: cannot set the device number", w->arg);
		dm_task_destroy(t);
		return NULL;
	}
	return t;
}

/* Resolve DEVICE (name or node) to its device number and name. */
static int open_device(struct watch *w)
{
	struct dm_task *t;
	struct dm_info info;
	const char *name;
	struct stat st;
	bool by_devno = strchr(w->arg, '/') != NULL;
	int ret = EXIT_ERROR, fd;

	if (by_devno) {
		if (stat(w->arg, &st)) {
			err_msg(w, "%s: %s", w->arg, strerror(errno));
			return EXIT_GONE;
		}
		if (!S_ISBLK(st.st_mode)) {
			err_msg(w, "%s: not a block device (give a device-mapper name or device node)",
				w->arg);
			return EXIT_GONE;
		}
	}
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err_msg(w, "cannot use device-mapper: /dev/mapper/control: %s (is dm-mod loaded, "
			"are you root?)", strerror(errno));
		return EXIT_ERROR;
	}
	close(fd);
	t = dm_task_create(DM_DEVICE_INFO);
	if (!t) {
		err_msg(w, "%s: cannot create a device-mapper task", w->arg);
		return EXIT_ERROR;
	}
	if (by_devno) {
		if (!dm_task_set_major(t, (int)major(st.st_rdev)) ||
		    !dm_task_set_minor(t, (int)minor(st.st_rdev))) {
			err_msg(w, "%s: cannot set the device number", w->arg);
			goto out;
		}
	} else if (!dm_task_set_name(t, w->arg)) {
		err_msg(w, "%s: cannot set the device name", w->arg);
		goto out;
	}
	if (!dm_task_run(t)) {
		int e = dm_task_get_errno(t);

		err_msg(w, "%s: cannot read the device information%s%s", w->arg, e ? ": " : "",
			e ? strerror(e) : "");
		goto out;
	}
	if (!dm_task_get_info(t, &info) || !info.exists) {
		err_msg(w, "%s: no such device-mapper device", w->arg);
		ret = EXIT_GONE;
		goto out;
	}
	w->major = info.major;
	w->minor = info.minor;
	name = dm_task_get_name(t);
	snprintf(w->name, sizeof(w->name), "%s", name && *name ? name : w->arg);
	ret = 0;
out:
	dm_task_destroy(t);
	return ret;
}

/* One status reading. 0, or an exit status. */
static int read_sample(struct watch *w, struct im_sample *s)
{
	struct dm_task *t = task_for(w, DM_DEVICE_STATUS);
	struct dm_info info;
	uint64_t start, length;
	char *type = NULL, *params = NULL, *found = NULL;
	const char *name;
	void *next = NULL;
	int ret = EXIT_ERROR, count = 0;
	char why[160];

	if (!t)
		return EXIT_ERROR;
	if (!dm_task_run(t)) {
		int e = dm_task_get_errno(t);

		if (e == ENXIO) {
			err_msg(w, "%s: the device went away", w->name);
			ret = EXIT_GONE;
		} else {
			err_msg(w, "%s: cannot read the status%s%s", w->name, e ? ": " : "",
				e ? strerror(e) : "");
		}
		goto out;
	}
	if (!dm_task_get_info(t, &info) || !info.exists) {
		err_msg(w, "%s: the device went away", w->name);
		ret = EXIT_GONE;
		goto out;
	}
	name = dm_task_get_name(t);
	if (name && *name)
		snprintf(w->name, sizeof(w->name), "%s", name);
	do {
		next = dm_get_next_target(t, next, &start, &length, &type, &params);
		if (type && !strcmp(type, "incmirror")) {
			count++;
			found = params;
		}
	} while (next);
	if (count != 1) {
		if (!info.live_table)
			err_msg(w, "%s: the device has no live table", w->name);
		else if (!count)
			err_msg(w, "%s: not an incmirror device (the table has no incmirror target)",
				w->name);
		else
			err_msg(w, "%s: expected one incmirror target in the table, found %d", w->name,
				count);
		ret = EXIT_GONE;
		goto out;
	}
	if (im_status_parse(found, &s->st, why, sizeof(why))) {
		err_msg(w, "%s: cannot parse the status '%s': %s", w->name, found ? found : "", why);
		goto out;
	}
	s->device = w->name;
	s->event_nr = info.event_nr;
	s->time = now_real();
	ret = 0;
out:
	dm_task_destroy(t);
	return ret;
}

enum wait_result { WAIT_EVENT, WAIT_TIMEOUT, WAIT_GONE, WAIT_ERROR };

static void set_timer(double seconds, double repeat)
{
	struct itimerval it;

	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
	if (seconds > 0 && !it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = (suseconds_t)(repeat * 1e6);
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * Wait for the device's event counter to move past EVENT_NR, for at most
 * SECONDS. The timer's SIGALRM interrupts the ioctl (the handler is
 * installed without SA_RESTART); should it fire before the ioctl started,
 * it fires again every 10 ms until the ioctl returns.
 */
static enum wait_result wait_event(struct watch *w, uint32_t event_nr, double seconds)
{
	struct dm_task *t = task_for(w, DM_DEVICE_WAITEVENT);
	enum wait_result r;
	int ok, e;

	if (!t)
		return WAIT_ERROR;
	if (!dm_task_set_event_nr(t, event_nr)) {
		dm_task_destroy(t);
		err_msg(w, "%s: cannot set the event number", w->name);
		return WAIT_ERROR;
	}
	set_timer(seconds, 0.01);
	ok = dm_task_run(t);
	e = ok ? 0 : dm_task_get_errno(t);
	set_timer(0, 0);
	if (ok)
		r = WAIT_EVENT;
	else if (e == EINTR)
		r = WAIT_TIMEOUT;
	else if (e == ENXIO)
		r = WAIT_GONE;
	else {
		err_msg(w, "%s: waiting for an event failed%s%s", w->name, e ? ": " : "",
			e ? strerror(e) : "");
		r = WAIT_ERROR;
	}
	dm_task_destroy(t);
	return r;
}

static int terminal_columns(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

static int emit(struct watch *w, const struct im_sample *s)
{
	char line[1024], out[1200];
	size_t n;

	switch (w->output) {
	case OUT_JSON:
		n = im_format_json(line, sizeof(line), s);
		break;
	case OUT_PLAIN: {
		time_t secs = (time_t)s->time;
		struct tm tm;
		size_t k;

		localtime_r(&secs, &tm);
		k = strftime(out, sizeof(out), "%H:%M:%S ", &tm);
		im_format_text(line, sizeof(line), s);
		n = (size_t)snprintf(out + k, sizeof(out) - k, "%s", line) + k;
		memcpy(line, out, n + 1);
		break;
	}
	default: {
		int cols = terminal_columns();

		n = im_format_text(line, sizeof(line), s);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((int)n > cols - 1)
			line[n = (size_t)(cols - 1)] = '\0';
		n = (size_t)snprintf(out, sizeof(out), "\r\033[K%s", line);
		memcpy(line, out, n + 1);
		break;
	}
	}
	if (write_all(STDOUT_FILENO, line, n)) {
		err_msg(NULL, "cannot write to standard output: %s", strerror(errno));
		return EXIT_ERROR;
	}
	w->line_open = w->output == OUT_TERMINAL;
	return 0;
}

static int finish(struct watch *w, int status)
{
	if (w->line_open && write_all(STDOUT_FILENO, "\n", 1))
		status = status ? status : EXIT_ERROR;
	w->line_open = false;
	return status;
}

static int watch_loop(struct watch *w)
{
	double next = now_mono() + w->interval;
	double deadline = w->timeout > 0 ? now_mono() + w->timeout : 0;
	struct im_sample s;
	int r;

	for (;;) {
		r = read_sample(w, &s);
		if (r)
			return finish(w, r);
		r = emit(w, &s);
		if (r)
			return finish(w, r);
		if (!strcmp(s.st.state, "synced"))
			return finish(w, EXIT_SYNCED);
		if (!strcmp(s.st.state, "degraded")) {
			finish(w, 0);
			err_msg(w, "%s: degraded: the destination failed (%llu errors); "
				"repair it and send 'start'", w->name,
				(unsigned long long)s.st.dest_errors);
			return EXIT_DEGRADED;
		}
		if (w->once)
			return finish(w, EXIT_NOT_SYNCED);
		for (;;) {
			double t = now_mono(), limit = next;
			enum wait_result wr;

			if (deadline > 0 && t >= deadline) {
				finish(w, 0);
				err_msg(w, "%s: not synced after %g seconds (--timeout): %s",
					w->name, w->timeout, s.st.state);
				return EXIT_NOT_SYNCED;
			}
			if (deadline > 0 && deadline < limit)
				limit = deadline;
			if (t >= next) {
				next += w->interval;
				if (next <= t)
					next = t + w->interval;
				break;
			}
			wr = wait_event(w, s.event_nr, fmin(limit - t, WAIT_SLICE));
			if (wr == WAIT_EVENT || wr == WAIT_GONE)
				break;	/* read_sample tells a removed device */
			if (wr == WAIT_ERROR)
				return finish(w, EXIT_ERROR);
		}
	}
}

static int parse_seconds(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "once", no_argument, NULL, 'O' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = { .interval = 1.0, .output = OUT_PLAIN };
	struct sigaction sa;
	bool json = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, 3600, &w.interval)) {
				err_msg(NULL, "bad interval '%s': expected seconds from 0.1 to 3600",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'O':
			w.once = true;
			break;
		case 'T':
			if (parse_seconds(optarg, 31536000, &w.timeout)) {
				err_msg(NULL, "bad --timeout '%s': expected seconds from 0.1 to 31536000",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) ? EXIT_ERROR : 0;
		case 'V':
			printf(PROG " " IMW_VERSION "\n");
			return fflush(stdout) ? EXIT_ERROR : 0;
		case ':':
			err_msg(NULL, "option '%s' needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt)
				err_msg(NULL, "unknown option '-%c' (see --help)", optopt);
			else
				err_msg(NULL, "unknown option '%s' (see --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		err_msg(NULL, "expected a DEVICE (see --help)");
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		err_msg(NULL, "expected one DEVICE, found also '%s'", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (w.once && w.timeout > 0) {
		err_msg(NULL, "give --once or --timeout, not both");
		return EXIT_USAGE;
	}
	w.arg = argv[optind];
	if (!*w.arg) {
		err_msg(NULL, "expected a DEVICE, found an empty name");
		return EXIT_USAGE;
	}
	if (json)
		w.output = OUT_JSON;
	else if (isatty(STDOUT_FILENO))
		w.output = OUT_TERMINAL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the alarm must end the wait ioctl */
	if (sigaction(SIGALRM, &sa, NULL)) {
		err_msg(NULL, "sigaction: %s", strerror(errno));
		return EXIT_ERROR;
	}
	dm_log_with_errno_init(dm_quiet_log);

	r = open_device(&w);
	if (!r)
		r = watch_loop(&w);
	dm_lib_release();
	return r;
}
