# SPDX-License-Identifier: GPL-2.0
# Host tests (t_deb_*) of the Debian packaging in debian/. Sourced by
# tests/unit/run after lib.sh (die, skip, need); `make check-deb` runs only
# these (tests/unit/run deb). t_deb_packages (a package build and two dkms
# builds, up to a minute) exists only with INCMIRROR_CHECK_DEB=1, which
# `make check-deb` sets: make check keeps to its time budget with the static
# checks.
#
# t_deb_static_checks: what must agree without building anything: the
#   version (target, dkms.conf, debian/changelog), dkms.conf against the
#   Kbuild, the licences against debian/copyright, Build-Depends against
#   what tools/Makefile and `make man` use.
# t_deb_packages: `make deb` into the test's directory (source and binary
#   packages), the file lists of both .debs, maintainer scripts, lintian,
#   then the dkms package unpacked into a scratch root and `dkms build` and
#   `dkms install` run for every kernel series (6.1, 6.12) with scratch
#   source, dkms and install trees: nothing under /usr/src, /var/lib/dkms or
#   /lib/modules is touched.

DEB_SERIES="6.1 6.12"

# mkvar NAME...: variables of the top-level Makefile, one per line.
mkvar() {
	local v
	for v in "$@"; do
		make -s --no-print-directory -C "$TOP" --eval 'deb-print-%: ; @echo $($*)' "deb-print-$v"
	done
}

# deb_kernel SERIES: the newest installed release of a kernel series (6.1,
# 6.12) that has its headers (a kbuild tree).
deb_kernel() {
	local rel
	for rel in $(ls /lib/modules 2>/dev/null | grep -E "^${1//./\\.}\.[0-9]" | sort -V -r); do
		[ -f "/lib/modules/$rel/build/Makefile" ] && { echo "$rel"; return 0; }
	done
	return 1
}

# deb_upstream: the upstream version of debian/changelog.
deb_upstream() {
	local v
	v=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version) || die "dpkg-parsechangelog failed"
	echo "${v%-*}"
}

t_deb_static_checks() {
	need dpkg-parsechangelog dpkg-checkbuilddeps pkg-config dpkg-query
	local ctl=$TOP/debian/control up tv name f o m pc pkg bd lic
	for f in control changelog copyright rules source/format dm-incmirror-dkms.dkms \
		dm-incmirror-dkms.install incmirror-tools.install; do
		[ -f "$TOP/debian/$f" ] || die "debian/$f missing"
	done
	[ -x "$TOP/debian/rules" ] || die "debian/rules is not executable"
	[ "$(cat "$TOP/debian/source/format")" = "3.0 (quilt)" ] || die "debian/source/format"

	# One version: the target's .version, dkms.conf, debian/changelog.
	up=$(deb_upstream)
	tv=$(sed -nE 's/^[[:space:]]*\.version = \{ *([0-9]+), *([0-9]+), *([0-9]+) *\},.*/\1.\2.\3/p' \
		"$TOP/dm-incmirror/dm-incmirror-target.c")
	[ -n "$tv" ] || die "no .version in dm-incmirror-target.c"
	[ "$up" = "$tv" ] || die "debian/changelog has $up, the target's .version is $tv"
	# Each tool's --version prints the package's version.
	make -s -C "$TOP/tools" all >/dev/null 2>&1 || die "make tools"
	for t in incmirror-bitmap/incmirror-bitmap incmirror-watch/incmirror-watch \
		incmirror-validate/incmirror-validate lvm/incmirror-lvm; do
		[ "$("$TOP/tools/$t" --version)" = "${t##*/} $up" ] ||
			die "${t##*/} --version prints '$("$TOP/tools/$t" --version)', the package is $up"
	done
	[ "$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)" = "$up-1" ] ||
		echo "NOTE: Debian revision is not -1: $(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)"
	[ "$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Source)" = dm-incmirror ] || die "source name"

	# dkms.conf, read the way dkms reads it (sourced by bash).
	(
		kernel_source_dir=/K dkms_tree=/D kernelver=1.2.3-test
		. "$TOP/dkms.conf" || exit 1
		[ "$PACKAGE_NAME" = dm-incmirror ] || die "dkms.conf: PACKAGE_NAME=$PACKAGE_NAME"
		[ "$PACKAGE_VERSION" = "$up" ] || die "dkms.conf: PACKAGE_VERSION=$PACKAGE_VERSION, changelog $up"
		[ "${#BUILT_MODULE_NAME[@]}" = 1 ] && [ "${BUILT_MODULE_NAME[0]}" = dm-incmirror ] ||
			die "dkms.conf: BUILT_MODULE_NAME ${BUILT_MODULE_NAME[*]}"
		[ -z "${BUILT_MODULE_LOCATION[0]:-}" ] || die "dkms.conf: the Kbuild links the module at the top"
		case ${DEST_MODULE_LOCATION[0]:-} in /updates*|/extra*|/kernel*) ;;
		*) die "dkms.conf: DEST_MODULE_LOCATION '${DEST_MODULE_LOCATION[0]:-}'" ;; esac
		[ "${MAKE[0]}" = "make -C /K M=/D/dm-incmirror/$up/build modules" ] || die "dkms.conf: MAKE '${MAKE[0]}'"
		[ "$CLEAN" = "make -C /K M=/D/dm-incmirror/$up/build clean" ] || die "dkms.conf: CLEAN '$CLEAN'"
		[ "$AUTOINSTALL" = yes ] || die "dkms.conf: AUTOINSTALL"
	) || exit 1
	# dh_dkms reads PACKAGE_NAME= and PACKAGE_VERSION= with a regex: once each.
	[ "$(grep -c 'PACKAGE_NAME=' "$TOP/dkms.conf")" = 1 ] && [ "$(grep -c 'PACKAGE_VERSION=' "$TOP/dkms.conf")" = 1 ] ||
		die "dkms.conf: PACKAGE_NAME= and PACKAGE_VERSION= must appear once each (dh_dkms greps them)"
	[ "$(cat "$TOP/debian/dm-incmirror-dkms.dkms")" = dkms.conf ] || die "debian/dm-incmirror-dkms.dkms"

	# The Kbuild builds dm-incmirror.ko from dm-incmirror/*.c only, which is
	# what debian/dm-incmirror-dkms.install ships (with the headers).
	grep -qx 'obj-m := dm-incmirror.o' "$TOP/Kbuild" || die "Kbuild: obj-m is not dm-incmirror.o"
	o=$(awk '/^dm-incmirror-y :=/ { on = 1 } on { for (i = 1; i <= NF; i++) if ($i ~ /\.o$/) print $i; if ($NF != "\\") on = 0 }' "$TOP/Kbuild")
	[ -n "$o" ] || die "Kbuild: no dm-incmirror-y objects"
	for f in $o; do
		case $f in dm-incmirror/*.o) ;; *) die "Kbuild: object $f outside dm-incmirror/" ;; esac
		[ -f "$TOP/${f%.o}.c" ] || die "Kbuild: no source for $f"
	done
	grep -q 'dm-incmirror/\*\.c' "$TOP/debian/dm-incmirror-dkms.install" &&
		grep -q 'dm-incmirror/\*\.h' "$TOP/debian/dm-incmirror-dkms.install" &&
		grep -q '^Kbuild ' "$TOP/debian/dm-incmirror-dkms.install" || die "dm-incmirror-dkms.install"
	# The module includes only its own headers or the kernel's.
	grep -hoE '^#include "[^"]+"' "$TOP"/dm-incmirror/*.[ch] | sed 's/.*"\(.*\)"/\1/' | sort -u >incs
	while read -r f; do
		[ -f "$TOP/dm-incmirror/$f" ] || die "dm-incmirror/ includes \"$f\", which the package does not ship"
	done <incs

	# debian/control.
	grep -q 'debhelper-compat (= 13)' "$ctl" || die "control: debhelper-compat (= 13)"
	grep -qx 'Rules-Requires-Root: no' "$ctl" || die "control: Rules-Requires-Root: no"
	[ "$(grep '^Package:' "$ctl" | awk '{ print $2 }' | tr '\n' ' ')" = "dm-incmirror-dkms incmirror-tools " ] ||
		die "control: the binary packages are not dm-incmirror-dkms and incmirror-tools"
	awk '/^Package: dm-incmirror-dkms$/ { p = 1 } p && /^Architecture:/ { print $2; exit }' "$ctl" | grep -qx all ||
		die "control: dm-incmirror-dkms is not Architecture: all"
	bd=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") } on && /^[A-Z][A-Za-z-]*:/ && !/^Build-Depends:/ { on = 0 } on' "$ctl" |
		tr ',' '\n' | sed -E 's/\(.*\)//; s/\[.*\]//; s/^[[:space:]]+//; s/[[:space:]]+$//' | grep -v '^$' | sort -u)
	# Every pkg-config module of tools/Makefile, and rst2man, comes from a
	# Build-Depends package (found through the file that provides it here).
	for m in $(sed -n 's/^PKGS := //p' "$TOP/tools/Makefile"); do
		pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc || die "pkg-config: no $m"
		pkg=$(dpkg-query -S "$(readlink -f "$pc")" 2>/dev/null | head -n 1 | cut -d: -f1) ||
			die "no package owns $pc"
		echo "$bd" | grep -qx "$pkg" || die "Build-Depends lacks $pkg (pkg-config $m, tools/Makefile)"
	done
	pkg=$(dpkg-query -S "$(readlink -f /usr/bin/rst2man)" | head -n 1 | cut -d: -f1)
	echo "$bd" | grep -qx "$pkg" || die "Build-Depends lacks $pkg (rst2man, make man)"
	for pkg in dh-sequence-dkms pkgconf; do
		echo "$bd" | grep -qx "$pkg" || die "Build-Depends lacks $pkg"
	done
	(cd "$TOP" && dpkg-checkbuilddeps) >cbd 2>&1 || { cat cbd; die "build dependencies missing (tests/deps)"; }

	# debian/copyright says GPL-2 (only) for everything: so must the sources.
	grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$TOP/debian/copyright" ||
		die "debian/copyright is not machine-readable"
	[ "$(sed -n 's/^License: //p' "$TOP/debian/copyright" | sort -u)" = GPL-2 ] || die "debian/copyright: licences"
	for f in "$TOP"/Kbuild "$TOP"/dm-incmirror/*.[ch] "$TOP"/tools/*/*.[ch] "$TOP"/tools/Makefile \
		"$TOP"/tools/incmirror-validate/incmirror-validate "$TOP"/tests/fio/*.fio; do
		lic=$(head -n 3 "$f" | sed -nE 's/.*SPDX-License-Identifier: ([^ *]+).*/\1/p')
		case $lic in
		GPL-2.0|GPL-2.0-only) ;;
		'') die "${f#$TOP/}: no SPDX-License-Identifier" ;;
		*) die "${f#$TOP/}: licence $lic, debian/copyright says GPL-2 only" ;;
		esac
	done
	echo "NOTE: version $up everywhere; $(echo "$o" | wc -w) Kbuild objects; Build-Depends: $(echo $bd)"
}

[ "${INCMIRROR_CHECK_DEB:-0}" = 1 ] && t_deb_packages() {
	need make dpkg-buildpackage dh dh_dkms dpkg-deb dpkg-source dkms lintian modinfo
	local up v arch dkdeb tldeb src k rel d dk mods want got n suf
	up=$(deb_upstream)
	v=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
	arch=$(dpkg --print-architecture)
	: >stamp
	sleep 1
	SECONDS=0
	make -s -C "$TOP" deb DEB_WORK="$PWD/work" DEB_OUT="$PWD/out" >deb.log 2>&1 ||
		{ tail -40 deb.log; tail -40 work/build.log 2>/dev/null; die "make deb failed"; }
	echo "NOTE: make deb (source and binary packages) took ${SECONDS}s"
	grep -iE '^dh_missing: warning' work/build.log && die "files installed but not packaged (dh_missing)"
	dkdeb=out/dm-incmirror-dkms_${v}_all.deb
	tldeb=out/incmirror-tools_${v}_${arch}.deb
	for f in "$dkdeb" "$tldeb" out/dm-incmirror_${v}.dsc out/dm-incmirror_${up}.orig.tar.xz \
		out/dm-incmirror_${v}.debian.tar.xz out/dm-incmirror_${v}_${arch}.changes; do
		[ -s "$f" ] || { ls -l out; die "make deb did not make $f"; }
	done
	# Nothing left in the repository: not beside it, not in its debian/.
	for f in "$TOP"/../dm-incmirror_* "$TOP"/../dm-incmirror-dkms_* "$TOP"/../incmirror-tools*_* \
		"$TOP"/*.deb "$TOP"/*.changes "$TOP"/*.buildinfo "$TOP"/debian/files "$TOP"/debian/tmp \
		"$TOP"/debian/.debhelper "$TOP"/debian/debhelper-build-stamp "$TOP"/debian/incmirror-tools \
		"$TOP"/debian/dm-incmirror-dkms "$TOP"/debian/*.substvars "$TOP"/debian/*.debhelper.log; do
		[ -e "$f" ] && [ "$f" -nt stamp ] && die "make deb left $f behind"
	done

	# The source package: the orig tarball is the clean tree without debian/.
	tar -tJf "out/dm-incmirror_${up}.orig.tar.xz" >orig.list || die "orig tarball unreadable"
	grep -qx "dm-incmirror-$up/Kbuild" orig.list || die "orig tarball: no Kbuild"
	grep -E "^dm-incmirror-$up/(debian/|build/|\.git/|tests/vm/(cache|out)/)|\.(o|ko|cmd)$|/incmirror-(bitmap|watch)$|-san$" \
		orig.list && die "orig tarball holds packaging, build output or caches"
	dpkg-source -x "out/dm-incmirror_${v}.dsc" srcx >srcx.log 2>&1 || { cat srcx.log; die "dpkg-source -x failed"; }
	cmp -s srcx/debian/control "$TOP/debian/control" && cmp -s srcx/dkms.conf "$TOP/dkms.conf" ||
		die "the unpacked source package differs from the tree"

	# dm-incmirror-dkms: the module's sources, dkms.conf and the doc files.
	dpkg-deb --fsys-tarfile "$dkdeb" | tar -tv | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' | sort >dkms.list
	{
		printf '%s\n' usr/share/doc/dm-incmirror-dkms/changelog.Debian.gz usr/share/doc/dm-incmirror-dkms/copyright \
			usr/share/lintian/overrides/dm-incmirror-dkms \
			"usr/src/dm-incmirror-$up/Kbuild" "usr/src/dm-incmirror-$up/dkms.conf"
		(cd "$TOP" && ls dm-incmirror/*.[ch]) | sed "s|^|usr/src/dm-incmirror-$up/|"
	} | sort >dkms.want
	diff -u dkms.want dkms.list || die "dm-incmirror-dkms holds other files than expected"
	[ "$(dpkg-deb -f "$dkdeb" Architecture)" = all ] || die "dm-incmirror-dkms is not Architecture: all"
	dpkg-deb -f "$dkdeb" Depends | grep -q '\bdkms\b' || die "dm-incmirror-dkms does not depend on dkms"
	dpkg-deb -e "$dkdeb" dkms.ctl || die "dpkg-deb -e"
	grep -q "DKMS_NAME=dm-incmirror$" dkms.ctl/postinst && grep -q "DKMS_VERSION=$up$" dkms.ctl/postinst &&
		grep -q 'common.postinst' dkms.ctl/postinst || { cat dkms.ctl/postinst; die "postinst does not register the module with dkms"; }
	grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' dkms.ctl/prerm &&
		grep -q "DKMS_VERSION=$up$" dkms.ctl/prerm || { cat dkms.ctl/prerm; die "prerm does not remove the module from dkms"; }

	# incmirror-tools: what `make install-tools PREFIX=/usr` installs (the
	# Makefile's lists), man pages gzipped, and the doc files.
	dpkg-deb --fsys-tarfile "$tldeb" | tar -tv >tools.tv
	awk '$1 !~ /^d/ { print $6 }' tools.tv | sed 's|^\./||' | sort >tools.list
	{
		for f in $(mkvar TOOL_NAMES); do echo "usr/sbin/$f"; done
		for f in $(mkvar MAN7); do echo "usr/share/man/man7/$f.gz"; done
		for f in $(mkvar MAN8); do echo "usr/share/man/man8/$f.gz"; done
		for f in $(mkvar FIO_JOBS); do echo "usr/share/incmirror/fio/$f"; done
		for f in $(mkvar TOOL_NAMES); do echo "usr/share/bash-completion/completions/$f"; done
		# dh_compress compresses documentation of more than 4 KiB.
		if [ "$(wc -c <"$TOP/README")" -gt 4096 ]; then readme=README.gz; else readme=README; fi
		printf '%s\n' "usr/share/doc/incmirror-tools/$readme" usr/share/doc/incmirror-tools/changelog.Debian.gz \
			usr/share/doc/incmirror-tools/copyright usr/share/lintian/overrides/incmirror-tools
	} | sort >tools.want
	diff -u tools.want tools.list || die "incmirror-tools holds other files than expected"
	for f in usr/sbin/incmirror-bitmap usr/sbin/incmirror-watch usr/sbin/incmirror-validate \
		usr/share/man/man7/dm-incmirror.7.gz usr/share/man/man8/incmirror-bitmap.8.gz \
		usr/share/man/man8/incmirror-watch.8.gz usr/share/man/man8/incmirror-validate.8.gz \
		usr/share/incmirror/fio/incmirror-verify.fio usr/share/incmirror/fio/incmirror-fill.fio; do
		grep -qx "$f" tools.list || die "incmirror-tools lacks /$f"
	done
	awk '$6 ~ /^\.\/usr\/sbin\/./ && ($1 != "-rwxr-xr-x" || $2 != "root/root") { print; bad = 1 } END { exit bad }' tools.tv ||
		die "tools not 0755 root:root"
	dpkg-deb -f "$tldeb" Depends >tools.dep
	for d in libdevmapper1.02.1 libxml2 libjson-c5 dmsetup; do
		grep -q "\b$d\b" tools.dep || die "incmirror-tools does not depend on $d: $(cat tools.dep)"
	done
	dpkg-deb -x "$tldeb" troot || die "dpkg-deb -x $tldeb"
	for f in troot/usr/share/man/man*/*.gz; do
		zcat "$f" | grep -q '^\.TH ' || die "${f#troot/} is not a gzipped man page"
	done
	troot/usr/sbin/incmirror-bitmap --version >/dev/null && troot/usr/sbin/incmirror-watch --version >/dev/null &&
		troot/usr/sbin/incmirror-validate --version >/dev/null || die "a packaged tool does not run"
	# The packaged incmirror-validate finds its fio jobs in /usr/share/incmirror/fio.
	grep -q '\.\./share/incmirror/fio' troot/usr/sbin/incmirror-validate || die "incmirror-validate: fio job path"

	# lintian (Debian 12's): no error and no warning on the source and binaries.
	SECONDS=0
	nice lintian -I --pedantic --tag-display-limit 0 "out/dm-incmirror_${v}_${arch}.changes" 2>&1 |
		grep -v 'running with root privileges' >lintian.out
	grep -E '^[EW]: ' lintian.out && die "lintian: errors or warnings"
	grep -qE '^[IPX]: ' lintian.out && sed 's/^/NOTE: lintian /' lintian.out
	echo "NOTE: lintian took ${SECONDS}s: no errors, no warnings"

	# dkms build and install (into scratch trees) for each kernel series.
	# kbuild probes the compiler with -x c /dev/null (cc-option): with a
	# regular file there the module gets wrong flags (RETPOLINE warnings,
	# "mcount" undefined), so say so rather than blame the module.
	devnull_ok() { [ -c /dev/null ] || die "/dev/null is a $(stat -c %F /dev/null) ($1): kbuild's cc-option probes fail; restore it (mknod -m 666 /dev/null c 1 3) and find what replaced it"; }
	devnull_ok "before dkms build"
	dpkg-deb -x "$dkdeb" root || die "dpkg-deb -x $dkdeb"
	mkdir -p dkmstree insttree
	dk=(--sourcetree "$PWD/root/usr/src" --dkmstree "$PWD/dkmstree" --installtree "$PWD/insttree")
	# dkms signs with /var/lib/dkms/mok.key unless told otherwise (and makes
	# one there): a scratch key instead (made here by dkms with openssl).
	export mok_signing_key=$PWD/mok.key mok_certificate=$PWD/mok.pub
	for k in $DEB_SERIES; do
		rel=$(deb_kernel "$k") || die "no $k kernel with headers (tests/deps installs both series)"
		SECONDS=0
		nice dkms build "dm-incmirror/$up" -k "$rel" -j 2 "${dk[@]}" >"build-$rel.log" 2>&1 ||
			{ devnull_ok "after dkms build"; cat "build-$rel.log"; tail -30 dkmstree/dm-incmirror/"$up"/build/make.log; die "dkms build for $rel failed"; }
		mods=$(ls dkmstree/dm-incmirror/"$up"/"$rel"/*/module/dm-incmirror.ko* 2>/dev/null)
		[ -n "$mods" ] || { cat "build-$rel.log"; die "dkms build for $rel made no module"; }
		[ "$(modinfo -F vermagic "$mods" | cut -d' ' -f1)" = "$rel" ] ||
			die "$mods: vermagic $(modinfo -F vermagic "$mods"), not $rel"
		[ "$(modinfo -F name "$mods")" = dm_incmirror ] || die "$mods: name $(modinfo -F name "$mods")"
		grep -q 'WARNING\|warning:' dkmstree/dm-incmirror/"$up"/"$rel"/*/log/make.log &&
			{ devnull_ok "after dkms build"; grep 'WARNING\|warning:' dkmstree/dm-incmirror/"$up"/"$rel"/*/log/make.log; die "warnings building for $rel"; }
		mkdir -p "insttree/$rel"
		dkms install "dm-incmirror/$up" -k "$rel" --no-depmod "${dk[@]}" >"install-$rel.log" 2>&1 ||
			{ cat "install-$rel.log"; die "dkms install for $rel failed"; }
		# Compressed like the kernel's own modules (6.12: .ko.xz).
		suf=$(grep -oE '\.ko(\.[a-z]+)?:' "/lib/modules/$rel/modules.dep" | head -n 1 | tr -d :)
		[ -f "insttree/$rel/updates/dkms/dm-incmirror$suf" ] ||
			{ find insttree; die "dkms install for $rel: no updates/dkms/dm-incmirror$suf"; }
		dkms status "dm-incmirror/$up" -k "$rel" "${dk[@]}" 2>/dev/null | grep -q ': installed$' ||
			die "dkms status for $rel: $(dkms status "${dk[@]}" 2>&1)"
		echo "NOTE: dkms build + install for $rel: ${SECONDS}s, updates/dkms/dm-incmirror$suf${mods:+, signer $(modinfo -F signer "$mods")}"
	done
	unset mok_signing_key mok_certificate
	# The system's trees were not touched.
	for d in /var/lib/dkms /usr/src; do
		[ -n "$(find "$d" -maxdepth 1 -newer stamp -name 'dm-incmirror*' 2>/dev/null)" ] &&
			die "$d/dm-incmirror* changed"
	done
	[ -e /var/lib/dkms/mok.key ] && [ /var/lib/dkms/mok.key -nt stamp ] && die "/var/lib/dkms/mok.key made"
	for k in $DEB_SERIES; do
		rel=$(deb_kernel "$k")
		[ -n "$(find "/lib/modules/$rel" -newer stamp -print -quit)" ] && die "/lib/modules/$rel changed"
	done
	n=$(wc -l <dkms.list)
	echo "NOTE: dm-incmirror-dkms: $n files; incmirror-tools: $(wc -l <tools.list) files"
}
