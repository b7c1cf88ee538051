#!/bin/bash
# 00-docs: drift check between the code and the man pages.
#
#  - every key in the config_keys_* tables of src/config_keys.c has an entry
#    ".It Cm KEY" in man/sockeye.conf.5 (a key of a group as GROUP.KEY,
#    the group taken from the config_group() call that uses the table,
#    in src/config_load.c or src/config_rules.c),
#    and every ".It Cm" entry there is a key the code knows;
#  - every option letter in main.c's getopt() string has an ".It Fl X"
#    entry in man/sockeyed.8 and appears in its SYNOPSIS, and every
#    ".It Fl" entry there is a real option;
#  - every key of those tables appears in conf/sockeye.conf, the shipped
#    config, set or commented out ("# key = value;" inside its group);
#    a reserved key (config_keys_reserved, rejected by this build) only
#    commented out;
#  - `mandoc -Tlint -W warning` is silent on both pages (that part is
#    skipped, not the test, when mandoc is missing).
#
# Standalone: sources nothing. Exit 0 pass, 1 fail, 77 skip.
# Environment: srcdir, the source tree (default: this script's ../..).

# automake runs tests with $(SHELL), often dash: continue under bash.
if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then
		exec bash "$0" "$@"
	fi
	echo "SKIP: 00-docs: bash not found" >&2
	exit 77
fi

set -u

TEST_NAME=00-docs
: "${srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

CONFIG_SRCS=("$srcdir/src/config_keys.c" "$srcdir/src/config_load.c"
    "$srcdir/src/config_rules.c")
MAIN_C=$srcdir/src/main.c
CONF_PAGE=$srcdir/man/sockeye.conf.5
DAEMON_PAGE=$srcdir/man/sockeyed.8
CONF_SAMPLE=$srcdir/conf/sockeye.conf
MIN_KEYS=20

failures=0
note() { echo "# $*"; }
failed() { echo "FAIL: $TEST_NAME: $*" >&2; failures=$((failures + 1)); }

for f in "${CONFIG_SRCS[@]}" "$MAIN_C" "$CONF_PAGE" "$DAEMON_PAGE"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: $TEST_NAME: cannot read $f (srcdir=$srcdir)" >&2
		exit 1
	fi
done

# c_tokens FILE...: the C tokens of the FILEs, one per line, as "I name"
# (identifier or number), "S text" (string literal, without its quotes)
# or "P c" (punctuation). Comments are dropped and string and character
# literals are kept whole, so neither a comment inside a table nor a
# brace inside a string can mislead the scans below, and neither can the
# way a declaration is split across lines.
c_tokens() {
	awk '
	{ src = src $0 "\n" }
	END {
		n = length(src)
		i = 1
		while (i <= n) {
			c = substr(src, i, 1)
			two = substr(src, i, 2)
			if (two == "/*") {
				j = index(substr(src, i + 2), "*/")
				if (j == 0)
					break
				i += j + 3
			} else if (two == "//") {
				while (i <= n && substr(src, i, 1) != "\n")
					i++
			} else if (c == "\"" || c == "\047") {
				q = c
				s = ""
				i++
				while (i <= n) {
					d = substr(src, i, 1)
					if (d == "\\") {
						s = s substr(src, i, 2)
						i += 2
						continue
					}
					if (d == q || d == "\n")
						break
					s = s d
					i++
				}
				i++
				if (q == "\"")
					print "S " s
			} else if (c ~ /[A-Za-z0-9_]/) {
				s = ""
				while (i <= n && substr(src, i, 1) ~ /[A-Za-z0-9_]/) {
					s = s substr(src, i, 1)
					i++
				}
				print "I " s
			} else {
				if (c !~ /[ \t\r\n\f\v]/)
					print "P " c
				i++
			}
		}
	}' "$@"
}

# config_keys: "TABLE GROUP KEY" for every string in every table
# `config_keys_NAME[...] = { ... }` of the config sources; GROUP is "-" for top-level
# keys. A table's group is the string passed next to it to config_group();
# a table that no config_group() call uses holds top-level keys when it
# is _top or _reserved, else (by the naming convention) keys of group NAME.
# Adjacent string literals are joined, as the compiler does.
config_keys() {
	c_tokens "${CONFIG_SRCS[@]}" | awk '
	{
		t[++n] = substr($0, 1, 1)
		v[n] = substr($0, 3)
	}
	END {
		for (i = 1; i <= n; i++) {
			# config_group(..., "name", config_keys_x ...)
			if (t[i] == "I" && v[i] == "config_group" && v[i + 1] == "(") {
				depth = 0; str = ""; tab = ""
				for (j = i + 1; j <= n; j++) {
					if (t[j] == "P" && v[j] == "(") depth++
					if (t[j] == "P" && v[j] == ")") { if (--depth == 0) break }
					if (t[j] == "S" && str == "") str = v[j]
					if (t[j] == "I" && tab == "" && v[j] ~ /^config_keys_/) tab = v[j]
				}
				if (str != "" && tab != "")
					group[tab] = str
			}
			# config_keys_x[...] = { ... }
			if (t[i] == "I" && v[i] ~ /^config_keys_[A-Za-z0-9_]+$/ &&
			    v[i + 1] == "[") {
				j = i + 2
				while (j <= n && v[j] != "]") j++
				if (v[j + 1] != "=" || v[j + 2] != "{")
					continue
				name = v[i]
				ntab++
				tabname[ntab] = name
				depth = 0; cur = ""; have = 0
				for (j = j + 2; j <= n; j++) {
					if (t[j] == "P" && v[j] == "{") { depth++; continue }
					if (t[j] == "P" && (v[j] == "," || v[j] == "}")) {
						if (have && depth == 1)
							keys[name] = keys[name] " " cur
						cur = ""; have = 0
						if (v[j] == "}" && --depth == 0)
							break
						continue
					}
					if (t[j] == "S") { cur = cur v[j]; have = 1 }
				}
			}
		}
		for (k = 1; k <= ntab; k++) {
			name = tabname[k]
			if (name in group)
				g = group[name]
			else if (name == "config_keys_top" || name == "config_keys_reserved")
				g = "-"
			else {
				g = name
				sub(/^config_keys_/, "", g)
			}
			m = split(keys[name], ks, " ")
			for (x = 1; x <= m; x++)
				print name, g, ks[x]
		}
	}'
}

# The macro arguments of ".It MACRO ..." lines of a page: "$3" for each.
it_entries() {
	awk -v m="$2" '$1 == ".It" && $2 == m && NF >= 3 { print $3 }' "$1"
}

# --- config keys -> sockeye.conf.5 ---------------------------------------

declare -A documented=() known=() table_of=()
while read -r k; do
	documented[$k]=1
done < <(it_entries "$CONF_PAGE" Cm)

nkeys=0
declare -A per_table=()
table_order=()
while read -r table group key; do
	if [ "$group" = "-" ]; then
		q=$key
	else
		q=$group.$key
	fi
	known[$q]=1
	table_of[$q]=$table
	[ -n "${per_table[$table]+x}" ] || table_order+=("$table")
	per_table[$table]="${per_table[$table]:-} $q"
	nkeys=$((nkeys + 1))
	if [ -z "${documented[$q]+x}" ]; then
		failed "config key '$q' ($table in src/config_keys.c) is not" \
		    "documented in man/sockeye.conf.5 (want a line '.It Cm $q')"
	fi
done < <(config_keys)

note "keys found in src/config_keys.c: $nkeys"
for t in "${table_order[@]}"; do
	note "  $t:${per_table[$t]}"
done
if [ "$nkeys" -lt "$MIN_KEYS" ]; then
	failed "found only $nkeys keys in the config_keys_* tables of" \
	    "src/config_keys.c (want at least $MIN_KEYS): the extraction is broken"
fi

# The other way round (a key removed from the code but still documented),
# only when the extraction worked: else every entry would be reported.
if [ "$nkeys" -ge "$MIN_KEYS" ]; then
	while read -r k; do
		[ -n "$k" ] || continue
		if [ -z "${known[$k]+x}" ]; then
			failed "man/sockeye.conf.5 documents '.It Cm $k', which is" \
			    "not in any config_keys_* table of src/config_keys.c"
		fi
	done < <(printf '%s\n' "${!documented[@]}" | sort)
fi

# --- config keys -> conf/sockeye.conf -------------------------------------

# conf_keys FILE: "on KEY" or "off KEY" for each `name = ...` line of a
# libconfig file, commented out ("off") or not, a key of a group written
# GROUP.KEY; groups are `name = {` ... `}` over several lines.
conf_keys() {
	awk '
	{
		line = $0
		off = (line ~ /^[ \t]*#/)
		sub(/^[ \t]*(#[ \t]*)*/, "", line)
		if (line ~ /^}/ && !in_list) { group = ""; next }
		if (line ~ /^\)/) { group = ""; in_list = 0; next }
		# Lists of groups, `name = ( { key = ...; }, ... );`: each key
		# at the start of a line, or right after the opening brace.
		sub(/^\{[ \t]*/, "", line)
		if (!match(line, /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/))
			next
		name = line
		sub(/[ \t]*=.*/, "", name)
		state = (off || (group != "" && group_off)) ? "off" : "on"
		print state, (group != "" ? group "." name : name)
		if (group == "" && line ~ /=[ \t]*\{[ \t]*$/) {
			group = name
			group_off = off
		}
		if (group == "" && line ~ /=[ \t]*\([ \t]*$/) {
			group = name
			group_off = off
			in_list = 1
		}
	}' "$1"
}

if [ ! -r "$CONF_SAMPLE" ]; then
	failed "cannot read $CONF_SAMPLE"
elif [ "$nkeys" -ge "$MIN_KEYS" ]; then
	declare -A sample=() sample_on=()
	while read -r state k; do
		sample[$k]=1
		[ "$state" = on ] && sample_on[$k]=1
	done < <(conf_keys "$CONF_SAMPLE")
	for q in $(printf '%s\n' "${!known[@]}" | sort); do
		if [ "${table_of[$q]}" = config_keys_reserved ]; then
			[ -z "${sample_on[$q]+x}" ] ||
				failed "conf/sockeye.conf sets '$q', which this build" \
				    "rejects: leave it commented out"
		elif [ -z "${sample[$q]+x}" ]; then
			failed "config key '$q' is missing from conf/sockeye.conf" \
			    "(set it, or show its default commented out)"
		fi
	done
	note "conf/sockeye.conf: ${#sample[@]} keys, ${#sample_on[@]} set"
fi

# --- getopt letters -> sockeyed.8 ----------------------------------------

optstring=$(c_tokens "$MAIN_C" | awk '
	$0 == "I getopt" { want = 1; next }
	want && $0 == "P (" { inside = 1; next }
	inside && substr($0, 1, 1) == "S" { print substr($0, 3); exit }
	inside && $0 == "P )" { exit }
	{ if (!inside) want = 0 }')
letters=$(printf '%s' "$optstring" | tr -d ':+-' | fold -w1)
if [ -z "$letters" ]; then
	failed "found no getopt() option string in src/main.c: the extraction is broken"
fi
note "getopt string in src/main.c: \"$optstring\""

declare -A opt_documented=() opt_known=()
while read -r l; do
	opt_documented[$l]=1
done < <(it_entries "$DAEMON_PAGE" Fl)

# The SYNOPSIS: every word after an Fl macro, e.g. "FhtV", "f", "P".
synopsis_flags=$(awk '
	/^\.Sh / { in_syn = ($2 == "SYNOPSIS"); next }
	in_syn {
		for (i = 1; i < NF; i++)
			if ($i == "Fl" || $i == ".Fl")
				printf "%s\n", $(i + 1)
	}' "$DAEMON_PAGE")

for l in $letters; do
	opt_known[$l]=1
	if [ -z "${opt_documented[$l]+x}" ]; then
		failed "option -$l of src/main.c is not documented in" \
		    "man/sockeyed.8 (want a line '.It Fl $l')"
	fi
	if ! printf '%s\n' "$synopsis_flags" | grep -q -- "$l"; then
		failed "option -$l of src/main.c is missing from the SYNOPSIS" \
		    "of man/sockeyed.8"
	fi
done
if [ -n "$letters" ]; then
	while read -r l; do
		[ -n "$l" ] || continue
		if [ -z "${opt_known[$l]+x}" ]; then
			failed "man/sockeyed.8 documents '.It Fl $l', which is not" \
			    "in the getopt() string of src/main.c"
		fi
	done < <(printf '%s\n' "${!opt_documented[@]}" | sort)
fi

# --- mandoc -Tlint -------------------------------------------------------

if command -v mandoc >/dev/null 2>&1; then
	for page in "$DAEMON_PAGE" "$CONF_PAGE"; do
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		rc=$?
		if [ $rc -ne 0 ] || [ -n "$out" ]; then
			failed "mandoc -Tlint -W warning ${page#"$srcdir"/}" \
			    "(exit $rc):"$'\n'"$out"
		else
			note "mandoc -Tlint -W warning ${page#"$srcdir"/}: clean"
		fi
	done
else
	note "SKIPPED the mandoc -Tlint part: mandoc is not installed"
fi

if [ "$failures" -gt 0 ]; then
	echo "FAIL: $TEST_NAME: $failures problem(s)" >&2
	exit 1
fi
echo "PASS: $TEST_NAME"
exit 0
