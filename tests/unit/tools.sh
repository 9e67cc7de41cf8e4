# SPDX-License-Identifier: GPL-2.0
# Host tests (t_tools_*, t_man_*, t_install_*) of the man pages, of the
# command lines of incmirror-watch and incmirror-validate, of the status
# parser of incmirror-watch, and of `make install` / `make uninstall` into a
# staging root. Sourced by tests/unit/run after lib.sh (die, skip, need).
# Nothing here needs device-mapper: the guest cases tests/cases/tools-*.sh
# run the tools against the target.

WATCH_SAN=$TOP/tools/incmirror-watch/incmirror-watch-san
VALIDATE=$TOP/tools/incmirror-validate/incmirror-validate
LVMTOOL=$TOP/tools/lvm/incmirror-lvm
MAN_PAGES="dm-incmirror.7 incmirror-bitmap.8 incmirror-watch.8 incmirror-validate.8 incmirror-lvm.8"

# man_build DIR: the man pages, built by the top-level Makefile into DIR.
man_build() {
	need rst2man man
	make -s -C "$TOP" man MAN_OUT="$PWD/$1" >make.log 2>&1 || { cat make.log; die "make man failed"; }
}
# man_text PAGE TEXT: the page rendered by man -l as plain ASCII text, 80
# columns, without hyphenation (so that no option is split at a line end);
# groff's warnings are errors.
man_text() {
	MANWIDTH=80 man --warnings --nh --nj -E ascii -l "$1" 2>man.err |
		col -bx >"$2" || die "man -l $1 failed"
	[ -s man.err ] && { cat man.err; die "man -l $1: warnings"; }
	[ -s "$2" ] || die "man -l $1: nothing rendered"
}
# help_options FILE: every option (-x, --long) a --help text lists.
help_options() {
	grep -oE -- '(^|[ ,[])(-[a-zA-Z]|--[a-z][a-z-]*)' "$1" | sed 's/^[ ,[]//' | sort -u
}
# section TEXT NAME: the rendered section NAME (up to the next heading).
section() {
	awk -v s="$2" '/^[A-Z][A-Z ]*$/ { on = ($0 == s); next } on' "$1"
}
# san_check ERRFILE WHAT: no sanitizer report.
san_check() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1"; then
		cat "$1"
		die "sanitizer report: $2"
	fi
}

t_man_pages_render() {
	man_build man
	for p in $MAN_PAGES; do
		[ -s "man/$p" ] || die "man/$p not built"
		man_text "man/$p" "$p.txt"
		name=${p%.*} sec=${p##*.}
		up=$(echo "$name" | tr a-z A-Z)
		head -n 1 "$p.txt" | grep -qE "^$up\($sec\) " || die "$p: header '$(head -n 1 "$p.txt")'"
		grep -qE "^ +$name - " "$p.txt" || die "$p: no NAME line"
		for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
			grep -qx "$s" "$p.txt" || die "$p: no $s section"
		done
		[ "$sec" = 8 ] && for s in "EXIT STATUS" EXAMPLES; do
			grep -qx "$s" "$p.txt" || die "$p: no $s section"
		done
	done
	# The target's page: table line, messages, status, states, events,
	# metadata format and examples, from Documentation/dm-incmirror.rst.
	for s in "TABLE LINE" MESSAGES STATUS STATES EVENTS SEMANTICS "METADATA DEVICE" EXAMPLES; do
		grep -qx "$s" dm-incmirror.7.txt || die "dm-incmirror.7: no $s section"
	done
	for w in "set_dirty_hex <first_region> <hex>" "get_dirty_hex <first> <count>" \
		"0x524d4d49 (\"IMMR\")" "metadata=<none|ok|failed>" "error_threshold <N>" \
		"max_copy_rate <KiB/s>" "dmsetup wait mig"; do
		grep -qF -- "$w" dm-incmirror.7.txt || die "dm-incmirror.7 lacks '$w'"
	done
	# man finds them by name in a man tree.
	mkdir -p tree/man7 tree/man8
	cp man/*.7 tree/man7/ && cp man/*.8 tree/man8/
	for p in $MAN_PAGES; do
		got=$(man -M "$PWD/tree" -w "${p##*.}" "${p%.*}" 2>/dev/null)
		[ "$got" = "$PWD/tree/man${p##*.}/$p" ] || die "man -w ${p%.*}: '$got'"
	done
}

t_man_options_match_help() {
	man_build man
	for p in incmirror-bitmap.8 incmirror-watch.8 incmirror-validate.8 incmirror-lvm.8; do
		man_text "man/$p" "$p.txt"
	done
	# incmirror-bitmap: the main --help and each command's.
	"$BREL" --help >help.main
	for c in convert load save info; do "$BREL" $c --help >help.$c; done
	cat help.main help.convert help.load help.save help.info >help.bitmap
	"$TOP/tools/incmirror-watch/incmirror-watch" --help >help.watch
	"$VALIDATE" --help >help.validate
	"$LVMTOOL" --help >help.lvm
	for t in bitmap watch validate lvm; do
		n=0
		for o in $(help_options help.$t); do
			n=$((n + 1))
			grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" incmirror-$t.8.txt ||
				die "incmirror-$t --help lists $o, its man page does not"
		done
		[ "$n" -ge 4 ] || die "only $n options found in incmirror-$t --help"
		echo "NOTE: incmirror-$t: $n options, all in the man page"
	done
	# incmirror-lvm's SYNOPSIS names every long option of --help and the
	# short -t (lvm2's dry run) and -i.
	section incmirror-lvm.8.txt SYNOPSIS >syn.lvm
	for o in $(help_options help.lvm | grep -- '^--') -t -i; do
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" syn.lvm || die "incmirror-lvm(8) SYNOPSIS lacks $o"
	done
	# watch, validate and lvm: each option also has its own entry under OPTIONS.
	for t in watch validate lvm; do
		section incmirror-$t.8.txt OPTIONS >opts.$t
		for o in $(help_options help.$t); do
			grep -qE -- "^ +(-[a-zA-Z], )?$o( |,|$)" opts.$t ||
				die "incmirror-$t(8): no entry for $o under OPTIONS"
		done
	done
}

# help_block DOC: the verbatim block between ".. help-begin" and ".. help-end".
help_block() {
	awk '$0 == ".. help-begin" { on = 1; next } $0 == ".. help-end" { on = 0 } on' "$1" |
		sed -n '/^::$/,$p' | sed '1d' | sed '/./,$!d' | sed 's/^    //' |
		awk '{ l[NR] = $0 } END { n = NR; while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i] }'
}

t_tools_help_matches_doc() {
	help_block "$TOP/Documentation/incmirror-watch.rst" >doc.watch
	help_block "$TOP/Documentation/incmirror-validate.rst" >doc.validate
	help_block "$TOP/Documentation/incmirror-lvm.rst" >doc.lvm
	"$WATCH_SAN" --help >help.watch 2>err || die "incmirror-watch --help failed"
	san_check err "incmirror-watch --help"
	"$VALIDATE" --help >help.validate || die "incmirror-validate --help failed"
	"$LVMTOOL" --help >help.lvm || die "incmirror-lvm --help failed"
	for t in watch validate lvm; do
		[ -s doc.$t ] || die "no help block in Documentation/incmirror-$t.rst"
		diff -u doc.$t help.$t || die "incmirror-$t --help differs from its documentation"
	done
	# Every exit status the code defines is documented with that number.
	for x in "0 EXIT_SYNCED" "1 EXIT_USAGE" "2 EXIT_DEGRADED" "3 EXIT_GONE" "4 EXIT_ERROR"; do
		set -- $x
		grep -qE "$2 = $1," "$TOP/tools/incmirror-watch/main.c" || die "watch: $2 is not $1"
		grep -qE "^\*\*$1\*\*" "$TOP/Documentation/incmirror-watch.rst" || die "watch: exit $1 undocumented"
	done
	for x in "0 EX_PASSED" "1 EX_FAILED" "2 EX_USAGE" "3 EX_REFUSED" "4 EX_ERROR"; do
		set -- $x
		grep -qE "^$2=$1\b" "$VALIDATE" || die "validate: $2 is not $1"
		grep -qE "^\*\*$1\*\*" "$TOP/Documentation/incmirror-validate.rst" || die "validate: exit $1 undocumented"
	done
}

# w RC ARGS...: the sanitized incmirror-watch must exit RC; stderr -> err.
w() {
	local want=$1 rc
	shift
	"$WATCH_SAN" "$@" >out 2>err
	rc=$?
	san_check err "incmirror-watch $*"
	[ "$rc" -eq "$want" ] || { cat err; die "exit $rc, expected $want: incmirror-watch $*"; }
}

t_tools_watch_usage() {
	w 1
	grep -q '^incmirror-watch: expected a DEVICE' err || die "$(cat err)"
	w 1 --interval 0 mig
	grep -q "bad interval '0'" err || die "$(cat err)"
	w 1 --interval 3601 mig
	w 1 --interval 1x mig
	w 1 --interval nan mig
	w 1 --interval
	grep -q "option '--interval' needs a value" err || die "$(cat err)"
	w 1 --frobnicate mig
	grep -q "unknown option '--frobnicate'" err || die "$(cat err)"
	w 1 -q mig
	w 1 mig other
	grep -q "found also 'other'" err || die "$(cat err)"
	w 1 --timeout 0 mig
	grep -q "bad --timeout '0': expected seconds from 0.1 to 31536000" err || die "$(cat err)"
	w 1 --timeout 31536001 mig
	w 1 --timeout 5s mig
	w 1 --timeout
	grep -q "option '--timeout' needs a value" err || die "$(cat err)"
	w 1 --once --timeout 5 mig
	grep -q 'give --once or --timeout, not both' err || die "$(cat err)"
	w 1 --once=x mig
	# Exit 5 (not synced) is defined and documented.
	grep -qE 'EXIT_NOT_SYNCED = 5,' "$TOP/tools/incmirror-watch/main.c" || die "EXIT_NOT_SYNCED is not 5"
	grep -qE '^\*\*5\*\*' "$TOP/Documentation/incmirror-watch.rst" || die "watch: exit 5 undocumented"
	w 0 --version
	grep -qE '^incmirror-watch [0-9]' out || die "version: $(cat out)"
	w 0 -h
	grep -q '^Usage: incmirror-watch DEVICE' out || die "help: $(cat out)"
	# Not a device node / no such node: 3, before device-mapper is asked.
	w 3 /dev/null
	grep -q '/dev/null: not a block device' err || die "$(cat err)"
	w 3 --json ./no/such/node
	grep -q 'No such file or directory' err || die "$(cat err)"
	# A name: device-mapper is needed (none on this host: 4; with it: 3).
	"$WATCH_SAN" incmirror-test-no-such-device-$$ >out 2>err
	rc=$?
	san_check err "incmirror-watch NAME"
	[ $rc -eq 3 ] || [ $rc -eq 4 ] || { cat err; die "exit $rc for a missing device"; }
	grep -qE 'no such device-mapper device|cannot use device-mapper' err || die "$(cat err)"
	[ -s out ] && die "printed on stdout: $(cat out)"
	return 0
}

t_tools_watch_status_parser() {
	local core=$TOP/tools/incmirror-watch/test-status-san
	[ -x "$core" ] || die "$core not built (make -C tools san)"
	"$core" >out 2>err
	rc=$?
	san_check err "test-status"
	grep '^FAIL' out && die "status parser tests failed"
	[ $rc -eq 0 ] || { cat out err; die "test-status exited $rc"; }
	echo "NOTE: $(grep -c '^PASS' out) status parser and output checks passed"
}

# tool_shells: the shells the shell tools must run under, one a line: sh,
# dash and busybox's ("busybox sh", split into words where it is run).
tool_shells() {
	echo sh
	command -v dash >/dev/null && echo dash
	command -v busybox >/dev/null && echo "busybox sh"
	return 0
}

# tool_rc RC TOOL SHELL ARGS...: the shell script TOOL run by SHELL must exit
# RC; its output is left in out and err.
tool_rc() {
	local want=$1 tool=$2 sh=$3 rc
	shift 3
	$sh "$tool" "$@" >out 2>err
	rc=$?
	[ "$rc" -eq "$want" ] || { cat out err; die "exit $rc, expected $want: $sh ${tool##*/} $*"; }
}

# v RC SHELL ARGS...: incmirror-validate under SHELL must exit RC.
v() { tool_rc "$1" "$VALIDATE" "${@:2}"; }

t_tools_validate_usage() {
	local shells sh
	mapfile -t shells < <(tool_shells)
	for sh in "${shells[@]}"; do
		$sh -n "$VALIDATE" || die "$sh -n: syntax error"
		v 0 "$sh" --help
		grep -q '^Usage: incmirror-validate \[OPTIONS\] SOURCE DEST' out || die "help"
		v 0 "$sh" --version
		v 2 "$sh"
		grep -q 'expected SOURCE and DEST' err || die "$(cat err)"
		v 2 "$sh" /dev/a
		v 2 "$sh" --bogus /dev/a /dev/b
		grep -q "unknown option '--bogus'" err || die "$(cat err)"
		v 2 "$sh" --yes --size 1000 /dev/a /dev/b
		grep -q 'multiple of 4 KiB' err || die "$(cat err)"
		v 2 "$sh" --yes --size 12Q /dev/a /dev/b
		v 2 "$sh" --yes --runtime 0 /dev/a /dev/b
		v 2 "$sh" --yes --runtime 1.5 /dev/a /dev/b
		v 2 "$sh" --size
		grep -q "option '--size' needs a value" err || die "$(cat err)"
		v 2 "$sh" --files /tmp/x /dev/a
		v 2 "$sh" /dev/a /dev/b /dev/c
		# Without --yes nothing is touched: refused, 3, naming the devices.
		v 3 "$sh" --size 4M /dev/a /dev/b
		grep -q 'refused: this overwrites all data on /dev/a and /dev/b; give --yes' err ||
			die "$(cat err)"
		v 3 "$sh" --metadata /dev/m /dev/a /dev/b
		grep -q 'and /dev/m' err || die "$(cat err)"
		# With --yes, a path that is not a block device is refused before
		# anything else happens (no device-mapper needed for that).
		: >plain.file
		v 3 "$sh" --yes plain.file /dev/null
		grep -q 'plain.file is not a block device' err || {
			# A host without dmsetup, fio or GNU cmp stops earlier (4).
			grep -q 'not found' err || die "$(cat err)"
		}
	done
}

# l RC SHELL ARGS...: incmirror-lvm under SHELL must exit RC.
l() { tool_rc "$1" "$LVMTOOL" "${@:2}"; }

# The command line of incmirror-lvm, under every shell at hand; nothing here
# reaches LVM or device-mapper (usage errors come first).
t_tools_lvm_usage() {
	local shells sh
	mapfile -t shells < <(tool_shells)
	for sh in "${shells[@]}"; do
		$sh -n "$LVMTOOL" || die "$sh -n: syntax error"
		l 0 "$sh" --help
		grep -q '^Usage: incmirror-lvm start VG/LV DEST \[OPTIONS\]' out || die "help"
		l 0 "$sh" --version
		grep -qE '^incmirror-lvm [0-9]' out || die "version: $(cat out)"
		l 2 "$sh"
		grep -q 'expected a command' err || die "$(cat err)"
		l 2 "$sh" frob vg/lv
		grep -q "unknown command 'frob'" err || die "$(cat err)"
		l 2 "$sh" start vg/lv
		grep -q 'start needs VG/LV and DEST' err || die "$(cat err)"
		l 2 "$sh" status
		l 2 "$sh" status vg/lv extra
		l 2 "$sh" finish vg/lv --bitmap x
		grep -q 'belong to start' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --bogus
		grep -q "unknown option '--bogus'" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --bitmap
		grep -q "option '--bitmap' needs a value" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --format era
		grep -q 'give --bitmap' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --max-rate 1.5
		l 2 "$sh" start vg/lv vg/d --region-size 64Q
		l 2 "$sh" start nolv vg/d
		grep -q "expected VG/LV, got 'nolv'" err || die "$(cat err)"
		# The change list: one source; a list file older than start
		# only with the acknowledgement (3, naming the risk).
		l 3 "$sh" start vg/lv vg/d --bitmap list.xml
		grep -q 'refused: a --bitmap list was taken before the mirror goes live: writes made to vg/lv between taking it and the switch are on neither the list nor the destination' err ||
			die "$(cat err)"
		grep -q -- '--list-predates-start' err || die "$(cat err)"
		l 3 "$sh" start vg/lv vg/d -b a -b b --format era
		l 2 "$sh" start vg/lv vg/d --list-predates-start
		grep -q "option '--list-predates-start' acknowledges a --bitmap file" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --list-predates-start --era era0 --since 3
		l 2 "$sh" start vg/lv vg/d --era era0
		grep -q "option '--era' needs --since ERA" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --since 3
		grep -q "option '--since' needs --era DEV" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --era era0 --since x3
		grep -q 'bad --since: expected an era number' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --era era0 --since 3 --format era
		grep -q "option '--era' reads dm-era's own list" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --era era0 --since 3 --bitmap-cmd true
		grep -q 'give only one of --bitmap, --bitmap-cmd and --era' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --bitmap x --list-predates-start --bitmap-cmd true
		grep -q 'give only one of' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --bitmap-cmd
		grep -q "option '--bitmap-cmd' needs a value" err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --allow-empty
		grep -q "option '--allow-empty' needs a change list" err || die "$(cat err)"
		# An empty value is refused naming the option, never taken as
		# "not given" (--era '' or --bitmap-cmd '' meant a full copy).
		for o in --era --bitmap-cmd --since --bitmap --format --granularity --table --metadata --max-rate; do
			l 2 "$sh" start vg/lv vg/d "$o" ''
			grep -q "option '$o' needs a value: an empty one was given" err || die "$o '': $(cat err)"
			l 2 "$sh" start vg/lv vg/d "$o="
			grep -q "option '$o' needs a value: an empty one was given" err || die "$o=: $(cat err)"
		done
		l 2 "$sh" start vg/lv vg/d --era '' --since 3
		grep -q "option '--era' needs a value: an empty one was given" err || die "$(cat err)"
		l 2 "$sh" status vg/lv --era era0
		grep -q 'belong to start' err || die "$(cat err)"
		l 2 "$sh" finish vg/lv --list-predates-start
		grep -q 'belong to start' err || die "$(cat err)"
		l 2 "$sh" start vg/lv vg/d --verify
		grep -q 'the option --verify belongs to finish' err || die "$(cat err)"
		l 2 "$sh" status vg/lv --verify
		# lvm2's names: -t/--test is the dry run; --json and --interval
		# belong to status and wait.
		l 2 "$sh" -t
		grep -q 'expected a command' err || die "$(cat err)"
		l 2 "$sh" --test
		grep -q 'expected a command' err || die "$(cat err)"
		l 3 "$sh" start vg/lv vg/d --test --bitmap x
		l 2 "$sh" start vg/lv vg/d --json
		grep -q 'the option --json belongs to status' err || die "$(cat err)"
		l 2 "$sh" wait vg/lv --json
		l 2 "$sh" status vg/lv --interval 3
		grep -q 'the option --interval belongs to wait' err || die "$(cat err)"
		for i in 0 1.5 x 3601 05 ''; do
			l 2 "$sh" wait vg/lv --interval "$i"
			grep -q 'bad --interval: expected whole seconds from 1 to 3600' err || die "$i: $(cat err)"
		done
		l 2 "$sh" wait vg/lv -i
		grep -q "option '-i' needs a value" err || die "$(cat err)"
		# A region size that does not fit is refused (3) before LVM is asked.
		for r in 12K 2K 0 2G 512G 1G1; do
			case $r in 1G1) l 2 "$sh" start vg/lv vg/d --region-size $r; continue ;; esac
			l 3 "$sh" start vg/lv vg/d --region-size $r
			grep -q "region size $r does not fit" err || die "$(cat err)"
		done
	done
	# Without device-mapper (DM_DEV_DIR pointing at a directory without a
	# usable control node): one line naming it, exit 4.
	mkdir -p nodm
	for sh in "${shells[@]}"; do
		DM_DEV_DIR=$PWD/nodm l 4 "$sh" status vg/lv
		[ "$(wc -l <err)" = 1 ] && grep -q "^incmirror-lvm: cannot use device-mapper: $PWD/nodm/mapper/control: .* (is dm-mod loaded, are you root?)$" err ||
			die "not one line: $(cat err)"
	done
	# Every exit status the script defines is documented with that number.
	for x in "0 EX_OK" "1 EX_FAILED" "2 EX_USAGE" "3 EX_REFUSED" "4 EX_ERROR"; do
		set -- $x
		grep -qE "^$2=$1\b" "$LVMTOOL" || die "lvm: $2 is not $1"
		grep -qE "^\*\*$1\*\*" "$TOP/Documentation/incmirror-lvm.rst" || die "lvm: exit $1 undocumented"
	done
}

# incmirror-lvm's json_str (status --json) under every shell: control
# characters, quote and backslash escaped; the result parses as JSON.
t_tools_lvm_json_str() {
	local shells sh v
	need python3
	mapfile -t shells < <(tool_shells)
	v=$(printf 'vg/a\tb\nc"d\\e\001f\037\n')
	v="$v
"
	for sh in "${shells[@]}"; do
		$sh -c "$(sed -n '/^json_str() {/,/^}/p' "$LVMTOOL")"'
			printf "\"%s\"\n" "$(json_str "$1")"' json "$v" >out || die "$sh: json_str"
		python3 -c 'import json, sys; v = json.load(open("out")); assert v == sys.argv[1], repr(v)' "$v" ||
			die "$sh: json_str gave $(cat out)"
	done
}

# README, debian/control and every man page's SEE ALSO name all four tools.
t_tools_docs_name_all_four() {
	local t p
	for t in incmirror-bitmap incmirror-watch incmirror-validate incmirror-lvm; do
		grep -q "$t" "$TOP/README" || die "README does not name $t"
		sed -n '/^Package: incmirror-tools/,$p' "$TOP/debian/control" | grep -q "$t" ||
			die "debian/control (incmirror-tools) does not name $t"
		for p in "$TOP"/Documentation/incmirror-*.rst "$TOP/Documentation/man/dm-incmirror.7.rst"; do
			[ "$p" = "$TOP/Documentation/$t.rst" ] && continue
			sed -n '/^SEE ALSO/,$p' "$p" | grep -q "$t" || die "SEE ALSO of ${p##*/} does not name $t"
		done
	done
}

t_install_uninstall() {
	need make install
	local rel= rel_re k src root list want rc
	# A kernel with a kbuild tree: the module is built and installed too.
	for k in $(ls /lib/modules 2>/dev/null | sort -V -r); do
		[ -f "/lib/modules/$k/build/Makefile" ] && { rel=$k; break; }
	done
	# A copy of the tree, so that the module build leaves nothing in it.
	src=$PWD/src root=$PWD/root
	mkdir -p "$src"
	(cd "$TOP" && tar --exclude=./build --exclude=./tests/vm/cache --exclude=./tests/vm/out \
		--exclude=./.git --exclude='*.o' --exclude='*-san' -cf - .) | (cd "$src" && tar -xf -) ||
		die "cannot copy the tree"
	if [ -n "$rel" ]; then
		make -s -C "$src" install DESTDIR="$root" PREFIX=/usr KVER="$rel" >install.log 2>&1 ||
			{ tail -30 install.log; die "make install failed"; }
		echo "NOTE: make install DESTDIR PREFIX=/usr KVER=$rel (module built against its headers)"
	else
		make -s -C "$src" install-tools DESTDIR="$root" PREFIX=/usr >install.log 2>&1 ||
			{ tail -30 install.log; die "make install-tools failed"; }
		echo "NOTE: no kernel build tree under /lib/modules: install-tools only"
	fi
	(cd "$root" && find . ! -type d | sed 's|^\./||' | sort) >list
	{
		printf '%s\n' usr/sbin/incmirror-bitmap usr/sbin/incmirror-lvm usr/sbin/incmirror-validate usr/sbin/incmirror-watch \
			usr/share/incmirror/fio/incmirror-fill.fio usr/share/incmirror/fio/incmirror-verify.fio \
			usr/share/man/man7/dm-incmirror.7 usr/share/man/man8/incmirror-bitmap.8 \
			usr/share/man/man8/incmirror-lvm.8 \
			usr/share/man/man8/incmirror-validate.8 usr/share/man/man8/incmirror-watch.8 \
			usr/share/bash-completion/completions/incmirror-bitmap \
			usr/share/bash-completion/completions/incmirror-lvm \
			usr/share/bash-completion/completions/incmirror-validate \
			usr/share/bash-completion/completions/incmirror-watch
	} | sort >want
	rel_re=$(printf '%s' "$rel" | sed 's/[.+]/\\&/g')
	if [ -n "$rel" ]; then
		grep -E "^lib/modules/$rel_re/(updates|extra)/dm-incmirror\.ko(\.xz|\.zst|\.gz)?$" list >mod ||
			{ cat list; die "the module is not under $root/lib/modules/$rel"; }
		grep -vxF -f mod list >list.nomod
		# kbuild may add its own index files next to it; nothing else.
		grep -vE "^lib/modules/$rel_re/modules\." list.nomod >list.rest
	else
		cp list list.rest
	fi
	diff -u want list.rest || die "make install installed other files than expected"
	for t in incmirror-bitmap incmirror-watch incmirror-validate incmirror-lvm; do
		[ -x "$root/usr/sbin/$t" ] || die "$t not executable"
	done
	"$root/usr/sbin/incmirror-watch" --version >/dev/null || die "installed incmirror-watch does not run"
	"$root/usr/sbin/incmirror-bitmap" --version >/dev/null || die "installed incmirror-bitmap does not run"
	"$root/usr/sbin/incmirror-validate" --version >/dev/null || die "installed incmirror-validate does not run"
	"$root/usr/sbin/incmirror-lvm" --version >/dev/null || die "installed incmirror-lvm does not run"
	# The installed incmirror-validate finds its fio jobs in ../share/incmirror/fio
	# (and incmirror-watch beside it): it gets as far as checking the devices.
	if command -v dmsetup >/dev/null && command -v fio >/dev/null; then
		: >plain.file
		env -u INCMIRROR_FIO_DIR "$root/usr/sbin/incmirror-validate" --yes plain.file /dev/null \
			>v.out 2>v.err
		rc=$?
		[ $rc -eq 3 ] && grep -q 'plain.file is not a block device' v.err ||
			{ cat v.err; die "installed incmirror-validate: exit $rc"; }
	fi
	[ "$(man -M "$root/usr/share/man" -w 8 incmirror-watch)" = "$root/usr/share/man/man8/incmirror-watch.8" ] ||
		die "man does not find the installed incmirror-watch(8)"
	# The bash completion, loaded as bash-completion loads it, completes
	# the options of each installed tool from its --help.
	for t in incmirror-bitmap incmirror-watch incmirror-validate incmirror-lvm; do
		bash -c '. "$1"; COMP_WORDS=("$2" --h); COMP_CWORD=1; _incmirror; printf "%s\n" "${COMPREPLY[@]}"' \
			- "$root/usr/share/bash-completion/completions/$t" "$root/usr/sbin/$t" >compl.$t 2>&1
		grep -qx -- --help compl.$t || { cat compl.$t; die "bash completion of $t: no --help"; }
	done
	bash -c '. "$1"; COMP_WORDS=("$2" start vg/lv vg/d --list-p); COMP_CWORD=4; _incmirror; printf "%s\n" "${COMPREPLY[@]}"' \
		- "$root/usr/share/bash-completion/completions/incmirror-lvm" "$root/usr/sbin/incmirror-lvm" >compl.lvm
	grep -qx -- --list-predates-start compl.lvm || { cat compl.lvm; die "bash completion of incmirror-lvm start --list-p"; }
	bash -c '. "$1"; COMP_WORDS=("$2" fi); COMP_CWORD=1; _incmirror; printf "%s\n" "${COMPREPLY[@]}"' \
		- "$root/usr/share/bash-completion/completions/incmirror-lvm" "$root/usr/sbin/incmirror-lvm" >compl.lvm
	[ "$(cat compl.lvm)" = finish ] || { cat compl.lvm; die "bash completion of incmirror-lvm commands"; }
	# Nothing was installed outside DESTDIR: the tree's copy has no .ko left
	# behind either way, and the live system's module tree is untouched.
	[ -z "$rel" ] || ! ls /lib/modules/"$rel"/*/dm-incmirror.ko* 2>/dev/null | grep -q . ||
		echo "NOTE: a dm-incmirror module is installed on this host (not by this test)"

	if [ -n "$rel" ]; then
		make -s -C "$src" uninstall DESTDIR="$root" PREFIX=/usr KVER="$rel" >uninstall.log 2>&1 ||
			{ cat uninstall.log; die "make uninstall failed"; }
	else
		make -s -C "$src" uninstall-tools DESTDIR="$root" PREFIX=/usr >uninstall.log 2>&1 ||
			{ cat uninstall.log; die "make uninstall-tools failed"; }
	fi
	(cd "$root" && find . ! -type d | sed 's|^\./||' | grep -vE "^lib/modules/$rel_re/modules\." | sort) >left
	[ -s left ] && { cat left; die "make uninstall left files behind"; }
	[ -d "$root/usr/share/incmirror" ] && die "make uninstall left usr/share/incmirror"
	echo "NOTE: $(wc -l <list) files installed, none left after make uninstall"
}

# The fio job of incmirror-validate catches a corrupted block: a run writes
# and verifies a file, one byte of it is changed, and the same job replayed
# with --verify_only (same seed, same blocks) must fail naming the block.
t_tools_fio_verify_job_detects_corruption() {
	need fio
	local job=$TOP/tests/fio/incmirror-verify.fio
	truncate -s 4M data
	export IMV_DEV=$PWD/data IMV_SIZE=4194304 IMV_IO_SIZE=4194304 IMV_SEED=7 IMV_ENGINE=psync
	fio --output-format=terse "$job" >run1 2>&1 || { cat run1; die "fio write+verify failed"; }
	awk -F';' '$1 == "3" { exit !($6 == 4096 && $47 == 4096) }' run1 ||
		{ cat run1; die "expected 4096 KiB written and read back"; }
	fio --verify_only "$job" >run2 2>&1 || { cat run2; die "verify_only of intact data failed"; }
	printf '\377' | dd of=data bs=1 seek=1000000 conv=notrunc status=none
	if fio --verify_only "$job" >run3 2>&1; then
		cat run3
		die "fio did not notice a corrupted byte"
	fi
	grep -q 'verify failed at file .*/data offset 999424, length 4096' run3 ||
		{ cat run3; die "no verify error naming the block"; }
	echo "NOTE: $(grep 'verify failed' run3 | head -n 1)"
	unset IMV_DEV IMV_SIZE IMV_IO_SIZE IMV_SEED IMV_ENGINE
}
