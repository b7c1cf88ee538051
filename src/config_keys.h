/* SPDX-License-Identifier: ISC */
/*
 * config_keys.h - the one table of the configuration's keys.
 *
 * Every key this build knows is one entry of config_keys[]: its name, its
 * type (with the range of an integer and the words of a one-of string),
 * its default, and whether a reload can change it. The loader reads the
 * table for all of these: a key not in it is an unknown key, an integer
 * is judged by the table's range, an absent key takes the table's
 * default (config_int.h). tests/helpers/config-keys prints the table so
 * that tests/integration/00-docs.sh can hold man/sockeye.conf.5 and
 * conf/sockeye.conf to it.
 *
 * Pure data and a lookup: no allocation, no I/O, no libconfig.
 */
#ifndef SOCKEYE_CONFIG_KEYS_H
#define SOCKEYE_CONFIG_KEYS_H

enum config_key_type {
	CONFIG_KEY_INT = 0,
	CONFIG_KEY_BOOL,
	CONFIG_KEY_STRING,
	CONFIG_KEY_LIST,		/* of strings: [ "a", "b" ] */
	CONFIG_KEY_GROUP,		/* { key = value; ... } */
	CONFIG_KEY_GROUPS,		/* a list of groups: ( { ... }, ... ) */
};

/* config_key.flags */
/*
 * A reload keeps the running value until a restart (with a warning):
 * master_load() does so for these keys.
 */
#define CONFIG_KEY_NO_RELOAD	0x1u
/* A string that must not be "". */
#define CONFIG_KEY_NOT_EMPTY	0x2u

struct config_key {
	/* "workers"; a key of a group "connect.timeout_s"; a key of the
	 * groups of a list "access.action" */
	const char *name;
	enum config_key_type type;
	long long min, max;		/* CONFIG_KEY_INT */
	/* CONFIG_KEY_STRING: the words allowed, NULL-terminated, in the
	 * order of the loader's enum; NULL: any string */
	const char *const *choices;
	/* The default of an INT, BOOL or STRING key, as the file would
	 * write it but without quotes: "30", "true", "sockeye", "".
	 * NULL: no default (an absent key means something of its own). */
	const char *def;
	/* The default of a LIST key, NULL-terminated; NULL: none. */
	const char *const *def_list;
	unsigned flags;			/* CONFIG_KEY_* */
};

/* Every key, in the order config_load() reads them; ends with a NULL name. */
extern const struct config_key config_keys[];

/*
 * The key `name` of `group` ("" for a top-level key, "connect" for
 * connect.timeout_s, "access" for a key of an `access` entry), reserved
 * ones included; NULL when the table has no such key. Never blocks.
 */
const struct config_key *config_key_find(const char *group, const char *name);

#endif
