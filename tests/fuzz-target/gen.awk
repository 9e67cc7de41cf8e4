# tests/fuzz-target/gen.awk: input generator and oracle of the hostile-input
# fuzzer (tests/cases/target-fuzz-input.sh). Written for busybox awk (the
# guest's awk): no `^`, no math library; and(), or(), xor(), lshift() and
# rshift() serve the bitmaps and the CRC-32. Everything it writes follows
# from srand(seed): the same seed gives the same inputs on every kernel.
#
#   awk -f gen.awk -v mode=create|reload -v seed=S -v n=COUNT -v sz=SECTORS
#       -v small=SECTORS -v glen=LEN -v grs=RS -v inf=FILE -v expf=FILE
#     Table lines, one per line of inf; per line of expf:
#       ok|<total regions>|<region sectors>|loading or copying|<max_copy_rate>|none or ok|z or -
#         a valid line: must be accepted with that status (z: zero the
#         first 4 KiB of /dev/mapper/metaz before it)
#       bad|<defect>   one defect: must be refused
#       any            mutated: either outcome, checked for consistency
#     sz: sectors of ram0/1/4/5; small: of /dev/mapper/small; glen/grs:
#     the table of the live device `good` (create: ram1 is its destination).
#
#   awk -f gen.awk -v mode=message -v seed=S -v n=COUNT -v nr=REGIONS
#       -v inf=FILE -v expf=FILE
#     Messages for a device of nr regions in `loading`, with a model of
#     dm_split_args(), of the message parser as documented and of the
#     dirty map. inf lines: "M<message>", or "Rkeep" / "Rzero" (recreate
#     the device keeping / zeroing its metadata); per line of expf:
#       <accepted 0|1>|<kind>|<map hex after>|<dirty count>|<max_copy_rate>|<output>
#     `start` without argument is never emitted (it would leave `loading`).
#
#   awk -f gen.awk -v mode=image -v seed=S -v n=COUNT -v nr=REGIONS
#       -v img=FILE -v dir=DIR -v expf=FILE
#     Mutations of the valid metadata image img (od -An -tu1 -v of the
#     superblock block and the bitmap blocks the target wrote for a table
#     of nr regions): DIR/<k>.oct (octal escapes for printf), and per
#     image one expf line
#       <k>|<accepted 0|1>|<error message or ->|loading or copying|<dirty>|<description>
#     plus DIR/<k>.map (the map as get_dirty_hex prints it) when it must
#     load. The decision follows the "Metadata device" format of
#     Documentation/dm-incmirror.rst and the constructor's checks in their
#     order; owner, geometry and CRC are compared with the valid image.

function rnd(k) { return int(rand() * k) }
function chance(p) { return rand() < p }

# Decimal string doubling: powers of two beyond 2^53 stay exact.
function dbl(s,   i, d, c, out) {
	c = 0
	out = ""
	for (i = length(s); i >= 1; i--) {
		d = substr(s, i, 1) * 2 + c
		c = int(d / 10)
		out = (d % 10) "" out
	}
	if (c)
		out = c "" out
	return out
}

function init_common(   i) {
	P2[0] = "1"
	for (i = 1; i <= 70; i++)
		P2[i] = dbl(P2[i - 1])
	U64MAX = "18446744073709551615"
	nh = split("0 1 7 8 9 -1 -0 +8 +0 0x10 0X8 010 1e9 8.0 08 8x x8 " \
		"4294967295 4294967296 4294967297 18446744073709551615 " \
		"18446744073709551616 99999999999999999999999 2147483648 " \
		"2147483647 9223372036854775807 9223372036854775808 " \
		"-9223372036854775808 1073741824 1073741823 " \
		"000000000000000000000000000000000000008 1-2 0-0 --1 +-1 " \
		"0b1 1_000 0.5 .5 1,5 NaN inf 00 -", HN, " ")
	# Characters for character-level noise (no '#': dmsetup strips
	# comments from table lines; no newline: one input per line).
	NOISE = "0123456789abcdefxyzABCDEFX-+_.:/\\ \t@%*=,;!?~"
}

function hostile_num(   r) {
	r = rnd(10)
	if (r < 5)
		return HN[1 + rnd(nh)]
	if (r < 7)
		return P2[rnd(70)]
	if (r == 7)
		return rnd(1000001)
	if (r == 8)
		return digits(1 + rnd(40))
	return "-" P2[rnd(64)]
}

function digits(k,   s) {
	s = ""
	while (k-- > 0)
		s = s "" rnd(10)
	return s
}

# A long token: up to 4 KiB, of one repeated character class.
function long_token(   len, r, s, c) {
	r = rnd(8)
	len = (r == 0) ? 4096 : (r == 1) ? 4095 : (r == 2) ? 256 : \
		(r == 3) ? 255 : 1 + rnd(4096)
	r = rnd(6)
	if (r == 0)
		c = "9"
	else if (r == 1)
		c = "0"
	else if (r == 2)
		c = "a"
	else if (r == 3)
		c = "/dev/ram0"
	else if (r == 4)
		c = "incremental"
	else
		c = "ff"
	s = c
	while (length(s) < len)
		s = s s
	s = substr(s, 1, len)
	# "0000...08" is a valid region size, "0000...0" a valid count.
	if (c == "0" && chance(0.5))
		s = substr(s, 1, len - 1) "8"
	return s
}

function noise_char() { return substr(NOISE, 1 + rnd(length(NOISE)), 1) }

# Character-level mutation of one string.
function char_mutate(s,   p, r) {
	p = 1 + rnd(length(s) + 1)
	r = rnd(5)
	if (r == 0 || s == "")
		return substr(s, 1, p - 1) noise_char() substr(s, p)
	if (r == 1)
		return substr(s, 1, p - 1) substr(s, p + 1)
	if (r == 2)
		return substr(s, 1, p - 1) noise_char() substr(s, p + 1)
	if (r == 3)
		return substr(s, 1, p - 1) "\\" substr(s, p)
	return toupper(substr(s, 1, p)) substr(s, p + 1)
}

# ---------------------------------------------------------------------------
# Table lines
# ---------------------------------------------------------------------------
function init_tables() {
	ndev = split("/dev/ram0 /dev/ram1 /dev/ram2 /dev/ram3 /dev/ram4 " \
		"/dev/ram5 /dev/mapper/small /dev/mapper/metaz " \
		"/dev/mapper/meta /dev/mapper/tinym /dev/nope /dev/mapper/good " \
		"/dev/mapper/fz 1:0 1:1 1:4 1:5 1:99 999:999 0:0 /dev/null " \
		"/tmp /dev/ram0/ /dev//ram4 /dev/../dev/ram5 - /dev/ram9 " \
		"/dev/mapper/nope :: 1: :4 /", DEVP, " ")
	nfw = split("incremental metadata max_copy_rate copy_depth " \
		"error_threshold fast INCREMENTAL Metadata Max_Copy_Rate " \
		"incrementals metadata= copy-depth \\ 0 \\incremental", FW, " ")
	if (mode == "create") {
		# Valid pairs: the live `good` device writes /dev/ram1 (its
		# destination) and /dev/mapper/meta, and reads /dev/ram0: no other
		# mirror may use the first two, nor write the third; sharing
		# /dev/ram0 as a source is allowed.
		np = 0
		pair("/dev/ram0", "/dev/ram4", sz)
		pair("/dev/ram4", "/dev/ram5", sz)
		pair("/dev/ram5", "/dev/ram4", sz)
		pair("/dev/ram0", "/dev/mapper/small", small)
		pair("/dev/mapper/small", "/dev/ram4", small)
		pair("1:4", "1:5", sz)
		pair("/dev/ram0", "/dev/ram5", sz)
	} else {
		np = 0
		pair("/dev/ram0", "/dev/ram1", sz)
		pair("/dev/ram0", "/dev/ram1", sz)
		pair("/dev/ram0", "/dev/ram1", sz)
		pair("1:0", "1:1", sz)
		pair("/dev/ram4", "/dev/ram5", sz)
		pair("/dev/ram0", "/dev/mapper/small", small)
	}
}

function pair(s, d, m) {
	PS[np] = s
	PD[np] = d
	PM[np] = m
	np++
}

# The other name of the same device, for "same device twice".
function alias(d) {
	if (d ~ /^\/dev\/ram[0-9]$/)
		return "1:" substr(d, 9)
	if (d ~ /^1:[0-9]$/)
		return "/dev/ram" substr(d, 3)
	return d
}

# A valid line into TK[0..TN-1]; sets E_* (the expectation).
function base_line(   p, m, len, r, k, rs, ng, g, i, j, t, words, md) {
	p = rnd(np)
	m = PM[p]
	r = rnd(6)
	len = (r == 0) ? m : (r == 1) ? m - rnd(64) : (r == 2) ? 1 + rnd(64) : \
		(r == 3) ? glen : 1 + rnd(m)
	if (len > m)
		len = m
	k = (rnd(10) < 7) ? 3 + rnd(8) : 3 + rnd(28)
	rs = P2[k]
	if (mode == "reload" && m >= glen && chance(0.3)) {
		len = glen
		rs = grs
	}
	E_inc = chance(0.6)
	E_rate = 0
	E_md = "none"
	E_zero = "-"
	ng = 0
	if (E_inc)
		G[ng++] = "incremental"
	if (chance(0.3)) {
		r = rnd(4)
		E_rate = (r == 0) ? 0 : (r == 1) ? "4294967295" : 1 + rnd(1000000)
		G[ng++] = "max_copy_rate " E_rate
	}
	if (chance(0.3))
		G[ng++] = "copy_depth " (chance(0.3) ? (chance(0.5) ? 1 : 64) : 1 + rnd(64))
	if (chance(0.3))
		G[ng++] = "error_threshold " (chance(0.3) ? (chance(0.5) ? 1 : 1000000) : 1 + rnd(1000000))
	if (chance(0.25)) {
		if (mode == "reload" && len == glen && rs == grs && chance(0.5)) {
			md = "/dev/mapper/meta"
		} else {
			md = "/dev/mapper/metaz"
			E_zero = "z"
		}
		G[ng++] = "metadata " md
		E_md = "ok"
	}
	# Shuffle the feature groups.
	for (i = ng - 1; i > 0; i--) {
		j = rnd(i + 1)
		t = G[i]; G[i] = G[j]; G[j] = t
	}
	split("", TK)
	TN = 0
	TK[TN++] = 0
	TK[TN++] = len
	TK[TN++] = "incmirror"
	TK[TN++] = PS[p]
	TK[TN++] = PD[p]
	TK[TN++] = rs
	words = 0
	for (i = 0; i < ng; i++)
		words += split(G[i], W, " ")
	if (ng || chance(0.2))
		TK[TN++] = words
	for (i = 0; i < ng; i++) {
		k = split(G[i], W, " ")
		for (j = 1; j <= k; j++)
			TK[TN++] = W[j]
	}
	E_len = len
	E_rs = rs
	E_total = int((len + rs - 1) / rs)
	E_src = PS[p]
	E_dst = PD[p]
	E_pm = m
}

# The index of the feature count, appending "0" when there is none.
function count_index() {
	if (TN < 7)
		TK[TN++] = 0
	return 6
}

function append_words(s,   k, j) {
	k = split(s, W, " ")
	for (j = 1; j <= k; j++)
		TK[TN++] = W[j]
	return k
}

# One definite defect. Returns its description.
function make_bad(   r, c, v) {
	for (;;) {
		r = rnd(24)
		if (r == 0) {
			nw = split("0 1 7 9 12 96 4 -8 abc 0x10 1e9 8.0 2147483648 " \
			      P2[31] " " P2[40] " " P2[63] " " P2[64] " " \
			      "18446744073709551616 99999999999999999999999", W, " ")
			TK[5] = W[1 + rnd(nw)]
			return "region size " TK[5]
		}
		if (r == 1) {
			TK[3] = "/dev/nope"
			return "no source"
		}
		if (r == 2) {
			nw = split("/dev/nope /dev/null /tmp 999:999 /dev/ram9 /dev/mapper/nope", W, " ")
			TK[4] = W[1 + rnd(nw)]
			return "no destination"
		}
		if (r == 3) {
			TK[4] = chance(0.5) ? TK[3] : alias(TK[3])
			return "same device twice"
		}
		if (r == 4) {
			TK[1] = E_pm + 1 + rnd(1000)
			return "longer than the devices"
		}
		if (r == 5 && E_pm == sz) {
			TK[4] = "/dev/mapper/small"
			TK[1] = small + 1 + rnd(sz - small)
			return "destination smaller than the length"
		}
		if (r == 6 && E_pm == sz) {
			TK[3] = "/dev/mapper/small"
			TK[1] = small + 1 + rnd(sz - small)
			return "source smaller than the length"
		}
		if (r == 7) {
			c = count_index()
			v = TK[c] + 1 + rnd(3)
			if (v > 9)
				v = 10
			TK[c] = v
			return "count larger than the words"
		}
		if (r == 8 && TN > 7) {
			TK[6] = TK[6] - 1
			return "count smaller than the words"
		}
		if (r == 9) {
			c = count_index()
			nw = split("10 11 4294967296 4294967297 -1 x 99999999999999999999", W, " ")
			TK[c] = W[1 + rnd(nw)]
			return "invalid count"
		}
		if (r == 10 && TK[6] + 0 <= 8) {
			c = count_index()
			TK[c] = TK[c] + 1
			TK[TN++] = chance(0.5) ? "fast" : "incrementals"
			return "unknown feature"
		}
		if (r == 11 && TK[6] + 0 <= 7) {
			c = count_index()
			nw = split("copy_depth:0 copy_depth:65 copy_depth:4294967296 " \
			      "error_threshold:0 error_threshold:1000001 " \
			      "max_copy_rate:4294967296 max_copy_rate:-1 " \
			      "max_copy_rate:x copy_depth:0x4 error_threshold:1e3", W, " ")
			v = W[1 + rnd(nw)]
			sub(/:/, " ", v)
			TK[c] = TK[c] + append_words(v)
			return "invalid feature value " v
		}
		if (r == 12 && TK[6] + 0 <= 7) {
			# Append a second metadata (or a first and a second).
			c = count_index()
			if (E_md == "none")
				TK[c] = TK[c] + append_words("metadata /dev/mapper/tinym")
			TK[c] = TK[c] + append_words("metadata /dev/mapper/metaz")
			return "metadata twice (or too small)"
		}
		if (r == 13 && TK[6] + 0 <= 8 && E_md == "none") {
			c = count_index()
			TK[c] = TK[c] + 1
			TK[TN++] = "metadata"
			return "metadata without its device"
		}
		if (r == 14 && TK[6] + 0 <= 7 && E_md == "none") {
			c = count_index()
			nw = split("/dev/nope " TK[3] " " TK[4] " " alias(TK[3]) " " \
			      "/dev/mapper/tinym /dev/null", W, " ")
			TK[c] = TK[c] + append_words("metadata " W[1 + rnd(nw)])
			return "metadata device unusable"
		}
		if (r == 15 && mode == "create" && TK[6] + 0 <= 7 && E_md == "none") {
			c = count_index()
			TK[c] = TK[c] + append_words("metadata /dev/mapper/meta")
			return "metadata in use by good"
		}
		if (r == 16 && mode == "create" && TK[3] != "/dev/ram1" && TK[3] != "1:1") {
			nw = split("/dev/ram1 1:1 /dev/ram0 1:0", W, " ")
			TK[4] = W[1 + rnd(nw)]
			if (TK[3] == TK[4] || alias(TK[3]) == TK[4])
				TK[4] = "/dev/ram1"
			return "destination in use by good"
		}
		if (r == 17) {
			TK[0] = 1 + rnd(8)
			return "start not 0"
		}
		if (r == 18) {
			TK[1] = 0
			return "zero length"
		}
		if (r == 19) {
			nw = split("incmirrorx Incmirror INCMIRROR incmirro linear0 mirror2", W, " ")
			TK[2] = W[1 + rnd(nw)]
			return "unknown target type"
		}
		if (r == 20) {
			TN = 3 + rnd(3)
			return "too few arguments"
		}
		if (r == 21) {
			nw = split("18446744073709551615 9223372036854775808 4294967296 " \
			      P2[40] " -1", W, " ")
			TK[1] = W[1 + rnd(nw)]
			return "huge length"
		}
		if (r == 22 && TK[6] + 0 <= 7) {
			c = count_index()
			TK[c] = TK[c] + append_words("max_copy_rate")
			return "feature without its value"
		}
		if (r == 23) {
			TK[5] = "+" TK[5] "x"
			return "region size with garbage"
		}
	}
}

function rand_index(lo) {
	if (TN <= lo)
		return -1
	return lo + rnd(TN - lo)
}

function mutate_tokens(   k, r, i, j, t, c) {
	for (k = 1 + rnd(4); k > 0; k--) {
		r = rnd(15)
		if (r == 0 && (i = rand_index(0)) >= 0)
			TK[i] = hostile_num()
		else if (r == 1 && (i = rand_index(3)) >= 0)
			TK[i] = DEVP[1 + rnd(ndev)]
		else if (r == 2 && (i = rand_index(3)) >= 0)
			TK[i] = FW[1 + rnd(nfw)]
		else if (r == 3 && TN > 1) {
			i = rnd(TN)
			for (j = i; j < TN - 1; j++)
				TK[j] = TK[j + 1]
			TN--
		} else if (r == 4) {
			i = rnd(TN)
			t = TK[i]
			j = rnd(TN + 1)
			for (c = TN; c > j; c--)
				TK[c] = TK[c - 1]
			TK[j] = t
			TN++
		} else if (r == 5 && TN > 1) {
			i = rnd(TN)
			j = rnd(TN)
			t = TK[i]; TK[i] = TK[j]; TK[j] = t
		} else if (r == 6) {
			c = count_index()
			TK[c] = chance(0.5) ? hostile_num() : rnd(13)
		} else if (r == 7) {
			nw = split("incremental|metadata /dev/mapper/metaz|max_copy_rate 7|" \
			      "copy_depth 3|error_threshold 2|metadata /dev/mapper/meta|" \
			      "metadata " DEVP[1 + rnd(ndev)] "|max_copy_rate " hostile_num() \
			      "|copy_depth " hostile_num(), W, "|")
			t = W[1 + rnd(nw)]
			c = count_index()
			j = append_words(t)
			if (chance(0.6) && TK[c] ~ /^[0-9]+$/)
				TK[c] = TK[c] + j
		} else if (r == 8 && (i = rand_index(3)) >= 0)
			TK[i] = long_token()
		else if (r == 9 && (i = rand_index(0)) >= 0)
			TK[i] = char_mutate(TK[i] "")
		else if (r == 10)
			TK[1] = chance(0.5) ? hostile_num() : E_pm + rnd(3) - 1
		else if (r == 11 && TN > 5) {
			nw = split("0 1 7 8 9 16 96 -8 +8 08 " P2[30] " " P2[31] " " \
			      P2[32] " " P2[63] " " P2[64] " 12 1000 4095 4097 " \
			      "1073741825", W, " ")
			TK[5] = W[1 + rnd(nw)]
		} else if (r == 12 && TN > 3)
			TN = 3 + rnd(TN - 3)
		else if (r == 13)
			for (j = 1 + rnd(3); j > 0; j--)
				TK[TN++] = chance(0.5) ? FW[1 + rnd(nfw)] : \
					(chance(0.5) ? hostile_num() : DEVP[1 + rnd(ndev)])
		else if (r == 14 && (i = rand_index(3)) >= 0)
			TK[i] = ""
	}
}

function join_tokens(   s, i, r) {
	s = ""
	r = chance(0.8)
	for (i = 0; i < TN; i++) {
		if (i)
			s = s (r ? " " : (chance(0.5) ? "\t" : (chance(0.5) ? "   " : " \t ")))
		s = s TK[i]
	}
	if (!r && chance(0.3))
		s = "  " s "\t "
	return s
}

# dmsetup reads "<start> <length> <type>" with sscanf("%llu %llu %s"): keep
# the type word short (its buffer is 4 KiB), the line non-empty and free of
# comments and newlines.
function line_ok(s,   k) {
	if (s ~ /^[ \t]*$/ || index(s, "#") || index(s, "\n"))
		return 0
	k = split(s, W, /[ \t]+/)
	return length(W[1]) + length(W[2]) + length(W[3]) + length(W[4]) < 300
}

function gen_tables(   i, r, line, e, why) {
	init_tables()
	for (i = 0; i < n; i++) {
		for (;;) {
			base_line()
			r = rnd(100)
			if (r < 20) {
				e = "ok|" E_total "|" E_rs "|" (E_inc ? "loading" : "copying") \
				    "|" E_rate "|" E_md "|" E_zero
			} else if (r < 45) {
				why = make_bad()
				e = "bad|" why
			} else {
				if (chance(0.4))
					make_bad()
				mutate_tokens()
				e = "any"
			}
			line = join_tokens()
			if (line_ok(line))
				break
		}
		print line > inf
		print e > expf
	}
}

# ---------------------------------------------------------------------------
# Messages: generator and model
# ---------------------------------------------------------------------------
function isspace_c(c) { return c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\v" || c == "\f" }

# dm_split_args(): whitespace separates, a backslash quotes the next
# character. Fills A[0..] and returns the count.
function ksplit(s,   L, i, c, tok, k) {
	k = 0
	L = length(s)
	i = 1
	for (;;) {
		while (i <= L && isspace_c(substr(s, i, 1)))
			i++
		if (i > L)
			break
		tok = ""
		while (i <= L) {
			c = substr(s, i, 1)
			if (c == "\\" && i < L) {
				tok = tok substr(s, i + 1, 1)
				i += 2
				continue
			}
			if (isspace_c(c))
				break
			tok = tok c
			i++
		}
		A[k++] = tok
		i++
	}
	return k
}

function dec_norm(s) {
	sub(/^0+/, "", s)
	return s == "" ? "0" : s
}

# Strict decimal that fits u64 (im_parse_u64).
function is_u64(s) {
	if (s !~ /^[0-9]+$/)
		return 0
	s = dec_norm(s)
	return length(s) < 20 || (length(s) == 20 && ("x" s) <= ("x" U64MAX))
}

# The value of a valid is_u64() string; exact up to 15 digits, else a
# stand-in larger than any map.
function u64_val(s) {
	s = dec_norm(s)
	return length(s) > 15 ? 1e18 : s + 0
}

function parse_range(a,   d, f, l) {
	d = index(a, "-")
	if (!d) {
		if (!is_u64(a))
			return 0
		f = l = u64_val(a)
	} else {
		f = substr(a, 1, d - 1)
		l = substr(a, d + 1)
		if (!is_u64(f) || !is_u64(l))
			return 0
		f = u64_val(f)
		l = u64_val(l)
	}
	if (f > l || l >= nr)
		return 0
	RF = f
	RL = l
	return 1
}

function hexval(c) { return index("0123456789abcdef", tolower(c)) - 1 }

function fls8(b,   k) {
	k = -1
	while (b) {
		b = int(b / 2)
		k++
	}
	return k
}

# Window of get_dirty / get_dirty_hex into WF, WE.
function parse_window(argc,   f, cnt) {
	f = 0
	cnt = nr
	if (argc >= 2) {
		if (!is_u64(A[1]))
			return 0
		f = u64_val(A[1])
	}
	if (f > nr)
		return 0
	if (argc >= 3) {
		if (!is_u64(A[2]))
			return 0
		cnt = u64_val(A[2])
	}
	WF = f
	WE = f + (cnt < nr - f ? cnt : nr - f)
	return 1
}

function out_ranges(f, e,   s, i, j) {
	s = ""
	i = f
	while (i < e) {
		if (!MAP[i]) {
			i++
			continue
		}
		j = i
		while (j + 1 < e && MAP[j + 1])
			j++
		s = s (s == "" ? "" : " ") (i == j ? i : i "-" j)
		i = j + 1
	}
	return s
}

function out_hex(f, e,   s, p, r, b, w) {
	s = ""
	for (p = f; p < e; p += 8) {
		b = 0
		w = 1
		for (r = p; r < p + 8 && r < e; r++) {
			if (MAP[r])
				b += w
			w *= 2
		}
		s = s sprintf("%02x", b)
	}
	return s
}

function set_dirty(f, l,   i) {
	for (i = f; i <= l; i++)
		if (!MAP[i]) {
			MAP[i] = 1
			DIRTY++
		}
}

# Model of one message. Sets M_ACC, M_OUT, M_START (an accepted `start`,
# which the generator must not emit); updates MAP and RATE when accepted.
function model(s,   argc, name, i, hex, L, first, b, nb) {
	M_ACC = 0
	M_OUT = ""
	M_START = 0
	M_STATS = 0
	argc = ksplit(s)
	if (!argc)
		return
	name = tolower(A[0])
	if (substr(A[0], 1, 1) == "@") {
		# dm core: only @cancel_deferred_remove (and @stats_*, never sent).
		if (name ~ /^@stats_/)
			M_STATS = 1
		M_ACC = (name == "@cancel_deferred_remove" && argc == 1)
		return
	}
	if (name == "set_dirty") {
		if (argc < 2)
			return
		for (i = 1; i < argc; i++)
			if (!parse_range(A[i]))
				return
		for (i = 1; i < argc; i++) {
			parse_range(A[i])
			set_dirty(RF, RL)
		}
		M_ACC = 1
		return
	}
	if (name == "set_dirty_hex") {
		if (argc != 3 || !is_u64(A[1]))
			return
		first = u64_val(A[1])
		hex = A[2]
		L = length(hex)
		if (!L || L % 2)
			return
		if (hex !~ /^[0-9a-fA-F]+$/)
			return
		nb = L / 2
		for (i = 0; i < nb; i++) {
			b = hexval(substr(hex, 2 * i + 1, 1)) * 16 + hexval(substr(hex, 2 * i + 2, 1))
			HB[i] = b
			if (b && (first >= nr || i * 8 + fls8(b) >= nr - first))
				return
		}
		for (i = 0; i < nb; i++)
			for (b = 0; b < 8; b++)
				if (and(HB[i], lshift(1, b)))
					set_dirty(first + i * 8 + b, first + i * 8 + b)
		M_ACC = 1
		return
	}
	if (name == "get_dirty") {
		if (argc > 3 || !parse_window(argc))
			return
		M_ACC = 1
		M_OUT = out_ranges(WF, WE)
		return
	}
	if (name == "get_dirty_hex") {
		if (argc != 3 || !parse_window(argc))
			return
		M_ACC = 1
		M_OUT = out_hex(WF, WE)
		return
	}
	if (name == "start") {
		M_START = (argc == 1)
		return
	}
	if (name == "pause") {
		M_ACC = (argc == 1)
		return
	}
	if (name == "max_copy_rate") {
		if (argc != 2 || !is_u64(A[1]) || u64_val(A[1]) > 4294967295)
			return
		RATE = dec_norm(A[1])
		M_ACC = 1
		return
	}
}

function region(   r) {
	r = rnd(10)
	if (r == 0)
		return 0
	if (r == 1)
		return nr - 1
	if (r == 2)
		return nr - 1 - rnd(8)
	return rnd(nr)
}

function zpad(v) { return chance(0.1) ? "000" v : v }

function hexstr(nb, dense, maxbits,   s, i, b, r, bit) {
	s = ""
	for (i = 0; i < nb; i++) {
		b = 0
		if (chance(dense))
			b = 1 + rnd(255)
		# Bits at or past maxbits stay clear.
		for (bit = 0; bit < 8; bit++)
			if (i * 8 + bit >= maxbits && and(b, lshift(1, bit)))
				b -= lshift(1, bit)
		s = s sprintf(chance(0.2) ? "%02X" : "%02x", b)
	}
	return s
}

# A message: often valid, often with one defect.
function gen_msg(   r, k, s, a, b, f, nb, w) {
	r = rnd(100)
	if (r < 22) {
		s = chance(0.05) ? "SET_DIRTY" : "set_dirty"
		k = chance(0.05) ? 20 + rnd(200) : 1 + rnd(3)
		while (k-- > 0) {
			a = region()
			if (chance(0.5)) {
				b = a + (chance(0.9) ? rnd(8) : rnd(nr - a))
				if (b >= nr)
					b = nr - 1
				s = s " " zpad(a) "-" zpad(b)
			} else
				s = s " " zpad(a)
		}
		return s
	}
	if (r < 34) {
		k = split(nr "|" nr + 1 "|" nr "-" nr "|0-" nr "|9-8|1-|-1|1--2|abc|0x10|" \
		      "+3|-0|99999999999999999999999|" U64MAX "|18446744073709551616|" \
		      "0-" U64MAX "|" U64MAX "-0|1 2 x|0- 1|1 -2|5-5-5|||3,4|1e2|" \
		      " 1|" nr - 1 " " nr, w, "|")
		return "set_dirty " w[1 + rnd(k)]
	}
	if (r < 46) {
		f = chance(0.2) ? rnd(8) : region()
		nb = chance(0.1) ? int((nr - f) / 8) + 1 : 1 + rnd(8)
		if (chance(0.05)) {
			f = chance(0.5) ? U64MAX : nr
			return "set_dirty_hex " f " " hexstr(1 + rnd(64), 0, 0)
		}
		return "set_dirty_hex " zpad(f) " " hexstr(nb, chance(0.5) ? 0.3 : 0.9, nr - f)
	}
	if (r < 54) {
		k = split("|0|0 f|0 fg|x 01|0 01 02|" nr " 01|" U64MAX " 01|" \
		      "18446744073709551616 00|" nr - 1 " 02|" nr - 8 " ff01|" \
		      "0 " long_token() "|0 0x01|-1 01|+0 01|0 \\01", w, "|")
		return "set_dirty_hex " w[1 + rnd(k)]
	}
	if (r < 66) {
		k = split("get_dirty|get_dirty 0|get_dirty " nr "|get_dirty " nr + 1 \
		      "|get_dirty 0 0|get_dirty " region() " " rnd(40) "|get_dirty 0 " \
		      U64MAX "|get_dirty 0 18446744073709551616|get_dirty " U64MAX \
		      "|get_dirty 0 10 20|get_dirty x|get_dirty " region() "|" \
		      "get_dirty_hex 0 " nr "|get_dirty_hex " region() " " rnd(100) \
		      "|get_dirty_hex " nr " 8|get_dirty_hex " nr + 1 " 8|" \
		      "get_dirty_hex 0|get_dirty_hex|get_dirty_hex 0 x|get_dirty_hex 0 " \
		      U64MAX "|get_dirty_hex 0 -1|get_dirty_hex 3 5 7|GET_DIRTY_HEX 0 9", w, "|")
		return w[1 + rnd(k)]
	}
	if (r < 72) {
		k = split("pause|pause now|start now|start 0|PAUSE|pause  |start|Start|" \
		      "st\\art|start\\ ", w, "|")
		return w[1 + rnd(k)]
	}
	if (r < 78) {
		k = split("max_copy_rate 0|max_copy_rate " rnd(100000) "|max_copy_rate 4294967295|" \
		      "max_copy_rate 4294967296|max_copy_rate|max_copy_rate x|" \
		      "max_copy_rate 1 2|max_copy_rate -1|max_copy_rate +5|" \
		      "max_copy_rate 000000000000000000000000000042|" \
		      "max_copy_rate 18446744073709551616", w, "|")
		return w[1 + rnd(k)]
	}
	if (r < 84) {
		k = split("|  |\t|bogus|set_dirtyx 1|set-dirty 1|get_dirt|@cancel_deferred_remove|" \
		      "@cancel_deferred_remove x|@foo|@|\\|\\\\|set_dirty\\ 1|" \
		      long_token() "|set_dirty " long_token() "|" \
		      "get_dirty " long_token(), w, "|")
		return w[1 + rnd(k)]
	}
	# A mutated message.
	s = gen_msg()
	for (f = 1 + rnd(3); f > 0; f--) {
		r = rnd(4)
		if (r < 2)
			s = char_mutate(s)
		else if (r == 2)
			s = s " " (chance(0.5) ? hostile_num() : region())
		else {
			k = ksplit(s)
			if (k > 1) {
				a = rnd(k)
				A[a] = hostile_num()
				s = A[0]
				for (b = 1; b < k; b++)
					s = s " " A[b]
			}
		}
	}
	return s
}

function gen_messages(   i, s, kind, left, nacc) {
	DIRTY = 0
	RATE = 0
	for (i = 0; i < nr; i++)
		MAP[i] = 0
	left = 30 + rnd(30)
	for (i = 0; i < n; i++) {
		if (--left <= 0) {
			left = 30 + rnd(30)
			if (chance(0.5)) {
				print "Rkeep" > inf
			} else {
				print "Rzero" > inf
				for (kind = 0; kind < nr; kind++)
					MAP[kind] = 0
				DIRTY = 0
			}
			RATE = 0
			print "1|reset|" out_hex(0, nr) "|" DIRTY "|" RATE "|" > expf
		}
		for (;;) {
			s = gen_msg()
			# model() changes the map and the rate only for a message
			# it accepts; `start` and @stats_ are never accepted here.
			model(s)
			if (!index(s, "\n") && !M_START && !M_STATS)
				break
		}
		ksplit(s)
		kind = tolower(A[0])
		if (kind == "")
			kind = "(empty)"
		kind = substr(kind, 1, 20)
		gsub(/[|]/, "_", kind)
		print "M" s > inf
		print M_ACC "|" kind "|" out_hex(0, nr) "|" DIRTY "|" RATE "|" M_OUT > expf
	}
}

# ---------------------------------------------------------------------------
# Metadata images
#
# An image is nb bytes (4 KiB superblock block, then the bitmap blocks) in
# 256-byte chunks. Bytes 0..511 are always in B[]; any other chunk is
# either materialized in B[] (kind "m") or one of a few shared contents:
# "z" (zeros), "o" (0xff) or "p1".."p8" (random, from a pool made once),
# whose octal and hex strings are computed once. That keeps busybox awk
# fast enough under TCG.
# ---------------------------------------------------------------------------
function crc_init(   i, j, c) {
	for (i = 0; i < 256; i++) {
		c = i
		for (j = 0; j < 8; j++)
			c = and(c, 1) ? xor(rshift(c, 1), 3988292384) : rshift(c, 1)
		CT[i] = c
	}
}

# zlib's crc32() of B[0..511] with bytes 4..7 taken as 0.
function sb_crc(   c, i, b) {
	c = 4294967295
	for (i = 0; i < 512; i++) {
		b = (i >= 4 && i < 8) ? 0 : B[i]
		c = xor(CT[and(xor(c, b), 255)], rshift(c, 8))
	}
	return xor(c, 4294967295)
}

function put_le32(off, v,   i) {
	for (i = 0; i < 4; i++) {
		B[off + i] = v % 256
		v = int(v / 256)
	}
}

function get_le32(off) {
	return B[off] + 256 * (B[off + 1] + 256 * (B[off + 2] + 256 * B[off + 3]))
}

function fix_crc() { put_le32(4, sb_crc()) }

function same_as_good(off, len,   i) {
	for (i = off; i < off + len; i++)
		if (B[i] != G0[i])
			return 0
	return 1
}

# Little-endian bytes of a decimal string (up to 2^64 - 1) into B[off..].
function put_dec(off, len, s,   i, q, r, d, t) {
	for (i = 0; i < len; i++) {
		# s / 256, remainder r, by long division on the string.
		q = ""
		r = 0
		for (d = 1; d <= length(s); d++) {
			t = r * 10 + substr(s, d, 1)
			q = q "" int(t / 256)
			r = t % 256
		}
		B[off + i] = r
		s = dec_norm(q)
	}
}

# The strings of a shared chunk kind from KB[kind, 0..255].
function kind_strings(k,   i, s, h, p) {
	s = h = ""
	p = 0
	for (i = 0; i < 256; i++) {
		s = s OCT[KB[k, i]]
		h = h HEX[KB[k, i]]
		p += POP[KB[k, i]]
	}
	KOCT[k] = s
	KHEX[k] = h
	KPOP[k] = p
}

function init_chunks(   i, j, k, d, nz) {
	for (i = 0; i < 256; i++) {
		OCT[i] = "\\" sprintf("%03o", i)
		HEX[i] = sprintf("%02x", i)
		POP[i] = 0
		for (j = i; j; j = int(j / 2))
			POP[i] += j % 2
	}
	for (i = 0; i < 256; i++) {
		KB["z", i] = 0
		KB["o", i] = 255
	}
	kind_strings("z")
	kind_strings("o")
	# p1..p4 dense, p5..p8 sparse; never all zero.
	for (k = 1; k <= 8; k++) {
		d = (k <= 4) ? 0.8 : 0.02
		nz = 0
		for (i = 0; i < 256; i++) {
			KB["p" k, i] = chance(d) ? 1 + rnd(255) : 0
			nz += KB["p" k, i] > 0
		}
		if (!nz)
			KB["p" k, rnd(256)] = 1 + rnd(255)
		kind_strings("p" k)
	}
}

function pool_kind(sparse) { return "p" ((sparse ? 5 : 1) + rnd(4)) }

function materialize(c,   i, k) {
	k = CK[c]
	if (k == "m")
		return
	for (i = 0; i < 256; i++)
		B[c * 256 + i] = KB[k, i]
	CK[c] = "m"
}

function get_byte(i,   c) {
	c = int(i / 256)
	return CK[c] == "m" ? B[i] : KB[CK[c], i % 256]
}

function set_byte(i, v) {
	materialize(int(i / 256))
	B[i] = v
}

function set_bit(r,   i) {
	i = 4096 + int(r / 8)
	set_byte(i, or(get_byte(i), lshift(1, r % 8)))
}

function load_good(   k, i, j, c, z) {
	nb = 0
	while ((getline line < img) > 0) {
		k = split(line, W, " ")
		for (j = 1; j <= k; j++)
			G0[nb++] = W[j] + 0
	}
	close(img)
	if (nb < 4096 * 2 || nb % 4096) {
		print "gen.awk: image " img " has " nb " bytes" > "/dev/stderr"
		exit 2
	}
	nch = nb / 256
	# Chunks of the good image past the first 512 bytes: zero or not.
	for (c = 2; c < nch; c++) {
		z = 1
		for (i = c * 256; i < c * 256 + 256; i++)
			if (G0[i])
				z = 0
		GK[c] = z ? "z" : "g"
	}
	reset_image()
	if (sb_crc() != get_le32(4)) {
		print "gen.awk: the CRC-32 computed here differs from the kernel's" > "/dev/stderr"
		exit 2
	}
	# The maps of a full copy and of a freshly formatted device.
	nby = int((nr + 7) / 8)
	lastmask = lshift(1, nr - (nby - 1) * 8) - 1
	FULLMAP = ZEROMAP = ""
	for (i = 0; i < nby; i++) {
		FULLMAP = FULLMAP HEX[i == nby - 1 ? lastmask : 255]
		ZEROMAP = ZEROMAP "00"
	}
}

function reset_image(   i, c) {
	for (i = 0; i < 512; i++)
		B[i] = G0[i]
	CK[0] = CK[1] = "m"
	for (c = 2; c < nch; c++) {
		if (GK[c] == "z") {
			CK[c] = "z"
		} else {
			for (i = c * 256; i < c * 256 + 256; i++)
				B[i] = G0[i]
			CK[c] = "m"
		}
	}
}

# Field table of the superblock: name, offset, length.
function init_fields() {
	nf = split("magic:0:4 csum:4:4 version:8:4 flags:12:4 uuid:16:16 " \
		   "owner:32:128 region_sectors:160:8 target_sectors:168:8 " \
		   "nr_regions:176:8 bitmap_offset:184:8 bitmap_sectors:192:8 " \
		   "generation:200:8 zero:208:304 block0_tail:512:3584", FLD, " ")
}

function set_field(   f, off, len, r, i, c, v, desc) {
	split(FLD[1 + rnd(nf)], W, ":")
	f = W[1]
	off = W[2] + 0
	len = W[3] + 0
	r = rnd(9)
	if (len > 8 && r > 3)
		r = rnd(4)
	if (f == "block0_tail") {
		if (r == 3) {
			i = 512 + rnd(3584)
			set_byte(i, xor(get_byte(i), lshift(1, rnd(8))))
			return f "=one bit flipped"
		}
		for (c = 2; c < 16; c++)
			CK[c] = (r == 0) ? "z" : (r == 1) ? "o" : pool_kind(chance(0.5))
		return f "=" ((r == 0) ? "0" : (r == 1) ? "all ones" : "random")
	}
	if (r == 0) {
		for (i = 0; i < len; i++) B[off + i] = 0
		desc = "0"
	} else if (r == 1) {
		for (i = 0; i < len; i++) B[off + i] = 255
		desc = "all ones"
	} else if (r == 2) {
		for (i = 0; i < len; i++) B[off + i] = rnd(256)
		desc = "random"
	} else if (r == 3) {
		i = off + rnd(len)
		B[i] = xor(B[i], lshift(1, rnd(8)))
		desc = "one bit flipped"
	} else if (r == 4) {
		for (i = 0; i < len; i++) B[off + i] = 0
		B[off + len - 1] = 128
		desc = "top bit only"
	} else if (r == 5) {
		put_dec(off, len, "1")
		desc = "1"
	} else if (r == 6) {
		v = get_le32(off) + (chance(0.5) ? 1 : -1)
		if (v < 0)
			v = 4294967295
		put_le32(off, v)
		desc = "low word +-1"
	} else if (r == 7) {
		put_dec(off, len, len == 4 ? "2147483648" : "4294967296")
		desc = len == 4 ? "2^31" : "2^32"
	} else {
		put_dec(off, len, len == 4 ? "4294967295" : "9223372036854775808")
		desc = len == 4 ? "2^32-1" : "2^63"
	}
	return f "=" desc
}

function fill_bitmap(   r, c, k, i, desc) {
	r = rnd(8)
	if (r == 0) {
		for (c = 16; c < nch; c++) CK[c] = "o"
		desc = "bitmap all ones"
	} else if (r == 1) {
		k = chance(0.5)
		for (c = 16; c < nch; c++)
			CK[c] = k ? (chance(0.5) ? pool_kind(0) : "z") : \
				(chance(0.3) ? pool_kind(1) : "z")
		desc = k ? "bitmap half random" : "bitmap sparse random"
	} else if (r == 2) {
		for (k = 1 + rnd(8); k > 0; k--)
			set_bit(rnd(nr))
		desc = "bitmap sparse bits"
	} else if (r == 3) {
		# Bits past the last region only (ignored by the kernel).
		i = 4096 + int(nr / 8)
		set_byte(i, or(get_byte(i), 255 - (lshift(1, nr % 8) - 1)))
		for (i++; i % 256; i++)
			set_byte(i, rnd(256))
		for (c = int(i / 256); c < nch; c++)
			CK[c] = pool_kind(chance(0.5))
		desc = "bitmap past the end"
	} else if (r == 4) {
		set_bit(nr - 1)
		set_bit(32767)
		if (32768 < nr)
			set_bit(32768)
		set_bit(0)
		desc = "bitmap edges"
	} else if (r == 5) {
		for (c = 16; c < nch; c++) CK[c] = "z"
		desc = "bitmap zero"
	} else {
		for (c = 16; c < nch; c++) CK[c] = pool_kind(chance(0.5))
		desc = "bitmap random"
	}
	return desc
}

function flags_random(   v) {
	v = rnd(8)
	put_le32(12, v)
	return "flags=" v
}

# The kernel's decision for the image (im_md_create/im_md_check_sb/
# im_md_check_geometry, in their order); "" when it must be accepted.
function decide(   i, c) {
	D_FORMAT = 1
	for (i = 0; i < 512 && D_FORMAT; i++)
		if (B[i])
			D_FORMAT = 0
	for (c = 2; c < 16 && D_FORMAT; c++) {
		if (CK[c] == "z")
			continue
		if (CK[c] != "m") {
			D_FORMAT = 0
			break
		}
		for (i = c * 256; i < c * 256 + 256; i++)
			if (B[i]) {
				D_FORMAT = 0
				break
			}
	}
	if (D_FORMAT)
		return ""
	if (!same_as_good(0, 4))
		return "Metadata device holds no incmirror superblock"
	if (sb_crc() != get_le32(4))
		return "Metadata superblock checksum mismatch"
	if (get_le32(8) != 1)
		return "Unsupported metadata version"
	if (B[12] >= 8 || B[13] || B[14] || B[15])
		return "Unknown metadata superblock flags"
	if (!same_as_good(32, 128))
		return "Metadata belongs to another incmirror device"
	if (!same_as_good(160, 8))
		return "Metadata region size differs"
	if (!same_as_good(168, 8))
		return "Metadata device size differs"
	if (!same_as_good(176, 24))
		return "Metadata superblock geometry is inconsistent"
	return ""
}

function chunk_oct(c,   j, s) {
	if (CK[c] != "m")
		return KOCT[CK[c]]
	s = ""
	for (j = c * 256; j < c * 256 + 256; j += 16)
		s = s OCT[B[j]] OCT[B[j + 1]] OCT[B[j + 2]] OCT[B[j + 3]] \
		    OCT[B[j + 4]] OCT[B[j + 5]] OCT[B[j + 6]] OCT[B[j + 7]] \
		    OCT[B[j + 8]] OCT[B[j + 9]] OCT[B[j + 10]] OCT[B[j + 11]] \
		    OCT[B[j + 12]] OCT[B[j + 13]] OCT[B[j + 14]] OCT[B[j + 15]]
	return s
}

function write_image(k,   f, c) {
	f = dir "/" k ".oct"
	for (c = 0; c < nch; c++)
		printf "%s", chunk_oct(c) > f
	close(f)
}

# The map the table must show (as get_dirty_hex prints it): bits < nr of
# the bitmap, all of them with NEEDS_FULL_COPY, none on a fresh format.
function write_map(k, full,   f, s, j, c, i, b, nfull) {
	f = dir "/" k ".map"
	if (full) {
		print FULLMAP > f
		D_DIRTY = nr
	} else if (D_FORMAT) {
		print ZEROMAP > f
		D_DIRTY = 0
	} else {
		D_DIRTY = 0
		nfull = int(nby / 256)
		for (j = 0; j < nfull; j++) {
			c = 16 + j
			if (CK[c] != "m") {
				printf "%s", KHEX[CK[c]] > f
				D_DIRTY += KPOP[CK[c]]
				continue
			}
			s = ""
			for (i = c * 256; i < c * 256 + 256; i++) {
				s = s HEX[B[i]]
				D_DIRTY += POP[B[i]]
			}
			printf "%s", s > f
		}
		s = ""
		for (i = nfull * 256; i < nby; i++) {
			b = get_byte(4096 + i)
			if (i == nby - 1)
				b = and(b, lastmask)
			s = s HEX[b]
			D_DIRTY += POP[b]
		}
		print s > f
	}
	close(f)
}

function gen_images(   k, r, desc, crc, reason, fl, st, i) {
	crc_init()
	init_chunks()
	init_fields()
	load_good()
	for (k = 0; k < n; k++) {
		reset_image()
		r = rnd(100)
		crc = 1
		if (r < 25) {
			desc = fill_bitmap() " " flags_random()
		} else if (r < 45) {
			desc = "flips"
			for (i = 1 + rnd(4); i > 0; i--) {
				fl = chance(0.8) ? rnd(512) : 512 + rnd(3584)
				if (fl < 512)
					B[fl] = xor(B[fl], 1 + rnd(255))
				else
					set_byte(fl, xor(get_byte(fl), 1 + rnd(255)))
				desc = desc " @" fl
			}
			crc = chance(0.5)
		} else if (r < 70) {
			desc = set_field()
			crc = chance(0.8)
		} else if (r < 80) {
			for (i = 0; i < 512; i++)
				B[i] = 0
			for (i = 2; i < 16; i++)
				CK[i] = "z"
			desc = "zeroed superblock, " fill_bitmap()
			crc = 0
		} else if (r < 85) {
			for (i = 0; i < 512; i++)
				B[i] = rnd(256)
			desc = "random superblock"
			if (chance(0.5)) {
				for (i = 0; i < 4; i++)
					B[i] = G0[i]
				desc = desc " with magic"
			}
			crc = chance(0.5)
		} else {
			desc = fill_bitmap() ", " set_field() ", " flags_random()
			crc = chance(0.8)
		}
		if (desc ~ /^zeroed/) {
		} else if (crc && desc !~ /csum=/) {
			fix_crc()
			desc = desc ", crc fixed"
		} else {
			desc = desc ", crc as is"
		}
		reason = decide()
		write_image(k)
		if (reason != "") {
			print k "|0|" reason "|-|-|" desc > expf
			continue
		}
		fl = D_FORMAT ? 0 : B[12]
		st = and(fl, 2) ? "copying" : "loading"
		write_map(k, and(fl, 4))
		print k "|1|-|" st "|" D_DIRTY "|" desc > expf
	}
}

BEGIN {
	srand(seed * 16 + (mode == "create" ? 1 : mode == "reload" ? 2 : \
			   mode == "message" ? 3 : 4))
	init_common()
	if (mode == "create" || mode == "reload")
		gen_tables()
	else if (mode == "message")
		gen_messages()
	else if (mode == "image")
		gen_images()
	else {
		print "gen.awk: unknown mode '" mode "'" > "/dev/stderr"
		exit 2
	}
	exit 0
}
