/* SPDX-License-Identifier: ISC */
/*
 * config-keys - print src/config_keys.c's table, one key a line, for
 * tests/integration/00-docs.sh to hold the manual and the shipped config
 * to. Built from the table itself (not scraped from its source), so the
 * test sees exactly what the loader sees, macros and all.
 *
 * Each line has seven fields separated by tabs:
 *
 *   NAME TYPE MIN MAX FLAGS WORDS DEFAULT
 *
 * NAME as in messages ("connect.timeout_s"); TYPE one of integer,
 * boolean, string, list, group, groups (a list of groups); MIN and MAX
 * for an integer; FLAGS a comma-separated subset of no_reload, not_empty,
 * reserved; WORDS the allowed words of a string, separated by '|';
 * DEFAULT as a config file writes it (30, true, "sockeye",
 * [ "a", "b" ], [ ]). A field that does not apply is "-".
 *
 * Usage: config-keys (no arguments). Exit 0.
 */
#include "config_auto.h"

#include <stdio.h>

#include "config_keys.h"

static const char *
type_name(enum config_key_type t)
{
	switch (t) {
	case CONFIG_KEY_INT:
		return "integer";
	case CONFIG_KEY_BOOL:
		return "boolean";
	case CONFIG_KEY_STRING:
		return "string";
	case CONFIG_KEY_LIST:
		return "list";
	case CONFIG_KEY_GROUP:
		return "group";
	case CONFIG_KEY_GROUPS:
		return "groups";
	}
	return "?";
}

static void
print_flags(unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {
		{ CONFIG_KEY_NO_RELOAD, "no_reload" },
		{ CONFIG_KEY_NOT_EMPTY, "not_empty" },
	};
	const char *sep = "";
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].flag) {
			printf("%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	if (*sep == '\0')
		printf("-");
}

static void
print_default(const struct config_key *k)
{
	const char *const *v;

	if (k->type == CONFIG_KEY_LIST && k->def_list != NULL) {
		printf("[");
		for (v = k->def_list; *v != NULL; v++)
			printf("%s \"%s\"", v == k->def_list ? "" : ",", *v);
		printf(" ]");
	} else if (k->def == NULL) {
		printf("-");
	} else if (k->type == CONFIG_KEY_STRING) {
		printf("\"%s\"", k->def);
	} else {
		printf("%s", k->def);
	}
}

int
main(void)
{
	const struct config_key *k;
	const char *const *w;

	for (k = config_keys; k->name != NULL; k++) {
		printf("%s\t%s\t", k->name, type_name(k->type));
		if (k->type == CONFIG_KEY_INT)
			printf("%lld\t%lld\t", k->min, k->max);
		else
			printf("-\t-\t");
		print_flags(k->flags);
		printf("\t");
		if (k->choices == NULL)
			printf("-");
		for (w = k->choices; w != NULL && *w != NULL; w++)
			printf("%s%s", w == k->choices ? "" : "|", *w);
		printf("\t");
		print_default(k);
		printf("\n");
	}
	return 0;
}
