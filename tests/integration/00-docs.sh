#!/bin/bash
# SPDX-License-Identifier: ISC
# 00-docs: drift check between the code and the man pages.
#
#  - every key of the key table (src/config_keys.c, printed by the test
#    program tests/helpers/config-keys) has an entry ".It Cm KEY" in
#    man/sockeye.conf.5 (a key of a group as GROUP.KEY), and every
#    ".It Cm" entry there is a key of the table; each entry agrees with
#    the table: its type (".Pq integer, 0 to 256": the type and, when the
#    page gives one, the range), "not empty" when the table says so, every
#    allowed word of a string as a ".Qq WORD", the default ("Default: ..."
#    must be there when the key has one, and be it), and "A reload does
#    not change it." exactly for the keys that keep their running value;
#  - every option letter in main.c's getopt() string has an ".It Fl X"
#    entry in man/sockeyed.8 and appears in its SYNOPSIS, and every
#    ".It Fl" entry there is a real option;
#  - every key of the table appears in conf/sockeye.conf, the shipped
#    config, set or commented out ("# key = value;" inside its group);
#  - `mandoc -Tlint -W warning` is silent on both pages (that part is
#    skipped, not the test, when mandoc is missing).
#
# The table is read from the program built from it rather than scraped
# from its C source: the test then sees exactly what the loader sees,
# macros (a range written RELOAD_DRAIN_TIMEOUT_MAX) included.
#
# Standalone: sources nothing. Exit 0 pass, 1 fail, 77 skip, 99 error.
# Environment: srcdir, the source tree (default: this script's ../..);
# CONFIG_KEYS, the built tests/helpers/config-keys (`make check` sets it).

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
: "${CONFIG_KEYS:=$srcdir/tests/helpers/config-keys}"

MAIN_C=$srcdir/src/main.c
CONF_PAGE=$srcdir/man/sockeye.conf.5
DAEMON_PAGE=$srcdir/man/sockeyed.8
CONF_SAMPLE=$srcdir/conf/sockeye.conf
MIN_KEYS=20

failures=0
note() { echo "# $*"; }
failed() { echo "FAIL: $TEST_NAME: $*" >&2; failures=$((failures + 1)); }

for f in "$MAIN_C" "$CONF_PAGE" "$DAEMON_PAGE"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: $TEST_NAME: cannot read $f (srcdir=$srcdir)" >&2
		exit 1
	fi
done
if [ ! -x "$CONFIG_KEYS" ]; then
	echo "ERROR: $TEST_NAME: $CONFIG_KEYS is not built" \
	    "(make tests/helpers/config-keys, or run under make check)" >&2
	exit 99
fi

# c_tokens FILE: the C tokens of FILE, one per line, as "I name"
# (identifier or number), "S text" (string literal, without its quotes)
# or "P c" (punctuation). Comments are dropped and string and character
# literals are kept whole, so neither a comment nor a brace inside a
# string can mislead the scan below, and neither can the way a call is
# split across lines.
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
	}' "$1"
}

# The macro arguments of ".It MACRO ..." lines of a page: "$3" for each.
it_entries() {
	awk -v m="$2" '$1 == ".It" && $2 == m && NF >= 3 { print $3 }' "$1"
}

# page_facts: what sockeye.conf.5 says of each key, one fact a line:
#   pq KEY TEXT        the text after Pq on the ".It Cm KEY" line
#   default KEY VALUE  its "Default:", written as a config file would
#                      (30, true, "x", [ "a", "b" ]) or "absent"
#   no_reload KEY      it says "A reload does not change it." (or ":")
#   word KEY WORD      a ".Qq WORD" in the entry
# An entry runs from its ".It Cm" line to the next ".It" of the same list,
# or the ".El" that closes it; lists nested inside it are part of it.
page_facts() {
	awk '
	function norm(v,    w) {
		sub(/^[ \t]+/, "", v)
		if (v ~ /^\.Qq /) {
			split(v, w, " ")
			return w[2] == "\"\"" ? "\"\"" : "\"" w[2] "\""
		}
		if (v ~ /^\.Cm /) {
			split(v, w, " ")
			return w[2]
		}
		if (v ~ /^\.Li "/) {
			sub(/^\.Li "/, "", v)
			sub(/" *\.? *$/, "", v)
			gsub(/\\\(dq/, "\"", v)
			gsub(/\\ /, " ", v)
			return v
		}
		split(v, w, " ")
		sub(/\.$/, "", w[1])
		return w[1]
	}
	/^\.Bl/ { depth++ }
	/^\.El/ {
		if (key != "" && depth == kdepth) key = ""
		depth--
	}
	/^\.It/ && key != "" && depth == kdepth { key = "" }
	/^\.It Cm / {
		key = $3
		kdepth = depth
		pq = $0
		if (sub(/.* Pq /, "", pq))
			print "pq", key, pq
		next
	}
	key == "" { want = 0; next }
	want { print "default", key, norm($0); want = 0; next }
	tolower($0) ~ /default:/ {
		v = $0
		sub(/.*[Dd]efault:/, "", v)
		if (v ~ /^[ \t]*$/) want = 1
		else print "default", key, norm(v)
	}
	/A reload does not change it[.:]/ { print "no_reload", key }
	$1 == ".Qq" || ($1 == ".It" && $2 == "Qq") {
		w = ($1 == ".Qq") ? $2 : $3
		print "word", key, w
	}
	' "$1"
}

# --- config keys -> sockeye.conf.5 ---------------------------------------

declare -A documented=() known=() ktype=() kmin=() kmax=() kflags=() \
    kwords=() kdef=()
while read -r k; do
	documented[$k]=1
done < <(it_entries "$CONF_PAGE" Cm)

nkeys=0
groups=()
while IFS=$'\t' read -r key type min max flags words def; do
	known[$key]=1
	ktype[$key]=$type kmin[$key]=$min kmax[$key]=$max
	kflags[$key]=$flags kwords[$key]=$words kdef[$key]=$def
	nkeys=$((nkeys + 1))
	case $type in
	group|groups) groups+=("$key") ;;
	esac
	if [ -z "${documented[$key]+x}" ]; then
		failed "config key '$key' (src/config_keys.c) is not" \
		    "documented in man/sockeye.conf.5 (want a line '.It Cm $key')"
	fi
done < <("$CONFIG_KEYS")

note "keys in the table of src/config_keys.c: $nkeys (groups: ${groups[*]})"
if [ "$nkeys" -lt "$MIN_KEYS" ]; then
	failed "$CONFIG_KEYS printed only $nkeys keys (want at least" \
	    "$MIN_KEYS): the table or the program is broken"
fi

# The other way round (a key removed from the code but still documented),
# only when the table was read: else every entry would be reported.
if [ "$nkeys" -ge "$MIN_KEYS" ]; then
	while read -r k; do
		[ -n "$k" ] || continue
		if [ -z "${known[$k]+x}" ]; then
			failed "man/sockeye.conf.5 documents '.It Cm $k', which is" \
			    "not a key of src/config_keys.c"
		fi
	done < <(printf '%s\n' "${!documented[@]}" | sort)
fi

# Each entry against the table.
declare -A page_pq=() page_def=() page_no_reload=() page_words=()
while read -r fact key rest; do
	[ -n "${known[$key]+x}" ] || continue
	case $fact in
	pq) page_pq[$key]=$rest ;;
	default) page_def[$key]=$rest ;;
	no_reload) page_no_reload[$key]=1 ;;
	word) page_words[$key]="${page_words[$key]:-} $rest " ;;
	esac
done < <(page_facts "$CONF_PAGE")

checked=0
for key in $(printf '%s\n' "${!known[@]}" | sort); do
	[ -n "${documented[$key]+x}" ] || continue
	checked=$((checked + 1))
	pq=${page_pq[$key]:-}
	case ${ktype[$key]} in
	integer) want="integer" ;;
	boolean) want="boolean" ;;
	string) want="string" ;;
	list) want="list of" ;;
	group) want="group" ;;
	groups) want="list of groups" ;;
	esac
	if [ "${pq#"$want"}" = "$pq" ] ||
	    { [ "${ktype[$key]}" = list ] && [ "${pq#list of groups}" != "$pq" ]; }; then
		failed "man/sockeye.conf.5: '.It Cm $key Pq $pq': the key is" \
		    "a ${ktype[$key]} (want '.Pq $want ...')"
	fi
	if [[ $pq =~ ^integer,\ (-?[0-9]+)\ to\ (-?[0-9]+) ]] &&
	    [ "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}" != \
	    "${kmin[$key]} ${kmax[$key]}" ]; then
		failed "man/sockeye.conf.5: '$key' is ${BASH_REMATCH[1]} to" \
		    "${BASH_REMATCH[2]} there, ${kmin[$key]} to ${kmax[$key]}" \
		    "in src/config_keys.c"
	fi
	case ",${kflags[$key]}," in
	*,not_empty,*) empty=1 ;;
	*) empty=0 ;;
	esac
	case $pq in
	*"not empty"*) page_empty=1 ;;
	*) page_empty=0 ;;
	esac
	if [ "$empty" != "$page_empty" ]; then
		failed "man/sockeye.conf.5: '.Pq $pq' of '$key' and" \
		    "src/config_keys.c disagree on whether it may be empty"
	fi
	case ",${kflags[$key]}," in
	*,no_reload,*) keep=1 ;;
	*) keep=0 ;;
	esac
	if [ "$keep" = 1 ] && [ -z "${page_no_reload[$key]+x}" ]; then
		failed "man/sockeye.conf.5: a reload keeps '$key' (no_reload" \
		    "in src/config_keys.c): its entry must say" \
		    "'A reload does not change it.'"
	elif [ "$keep" = 0 ] && [ -n "${page_no_reload[$key]+x}" ]; then
		failed "man/sockeye.conf.5 says a reload does not change" \
		    "'$key', but src/config_keys.c does not mark it no_reload"
	fi
	if [ "${kwords[$key]}" != - ]; then
		IFS='|' read -r -a ws <<<"${kwords[$key]}"
		for w in "${ws[@]}"; do
			case ${page_words[$key]:-} in
			*" $w "*) ;;
			*) failed "man/sockeye.conf.5: the entry of '$key' does" \
			    "not name its word \"$w\" (want a '.Qq $w')" ;;
			esac
		done
	fi
	def=${kdef[$key]}
	pdef=${page_def[$key]:-}
	if [ "$def" != - ] && [ -z "$pdef" ]; then
		failed "man/sockeye.conf.5: the entry of '$key' gives no" \
		    "default (want 'Default: $def')"
	elif [ -n "$pdef" ] && [ "$def" = - ] && [ "$pdef" != absent ]; then
		failed "man/sockeye.conf.5: '$key' has the default $pdef" \
		    "there, none (absent) in src/config_keys.c"
	elif [ -n "$pdef" ] && [ "$def" != - ] && [ "$pdef" != "$def" ]; then
		failed "man/sockeye.conf.5: '$key' has the default $pdef" \
		    "there, $def in src/config_keys.c"
	fi
done
note "entries checked against the table: $checked"

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
		if [ -z "${sample[$q]+x}" ]; then
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
