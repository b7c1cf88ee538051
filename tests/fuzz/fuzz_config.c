/* SPDX-License-Identifier: ISC */
/*
 * fuzz_config.c - libFuzzer harness for the configuration file: its text
 * through the real loader, config_load() (src/config_*.c, libconfig
 * underneath), as `sockeyed -t`, the start and every reload read it.
 *
 * The loader reads a file, so the input is written to sockeye.conf in a
 * private directory (mode 0700) made once per process, beside a few
 * files to @include and a users file, and removed at exit. Nothing else
 * on the machine is read:
 *
 *  - libconfig resolves an @include against the working directory, which
 *    is that directory while the loader runs. An input with any
 *    "@include" other than `@include "NAME"` (NAME: letters, digits,
 *    '_', '-' and non-leading dots, no '/') is skipped unloaded, so an
 *    include can reach only that directory; libconfig stops at 10 levels
 *    when a file includes itself;
 *  - the users file the configuration names is never opened: when it
 *    needs one, the harness loads its own (as master_load() would load
 *    the named one);
 *  - the loader opens nothing else (log, pid and socket paths are opened
 *    by the daemon, later).
 * One file is rewritten per run: no files pile up.
 *
 * Checks:
 *
 *  - every report names the file or an included one, has a line within
 *    the file (0 when none applies), and is one line of printable ASCII,
 *    however hostile the text it quotes;
 *  - the load fails exactly when there was a report that is not a
 *    "warning: ";
 *  - a loaded config holds only what the loader promises: integers in
 *    config_keys.c's ranges; at least one listener, method and command,
 *    none twice; networks with no host bits; port ranges 1 <= lo <= hi;
 *    addresses of the right family; rules with known actions and
 *    commands; and no open proxy unless allow_open_proxy says so.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/config) in `make check`.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "socks5.h"
#include "userdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define CONF_NAME	"sockeye.conf"
#define USERS_NAME	"users"
/* Longest NAME of an @include the harness lets through. */
#define INCLUDE_NAME_MAX 32
/* Bigger inputs are skipped: the shipped config is 10 KB. */
#define INPUT_MAX	(64 * 1024)

/* The private directory's files besides the input: name, mode, text. */
static const struct {
	const char *name;
	mode_t mode;
	const char *text;
} fakes[] = {
	{ USERS_NAME, 0600,
	    "# alice may use CHAP too; bob is locked\n"
	    "alice:$5$rounds=1000$salt$Hn0Ym9mfGrGpEBAKhYLyNsRx1ar4JYXxJv1mwp2Ff56:"
	    "{HMAC-MD5}0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\n"
	    "bob:!$6$salt$locked\n" },
	{ "limits.conf", 0600,
	    "limits = { max_sessions = 100; idle_timeout_s = 60; };\n" },
	{ "access.conf", 0600,
	    "access = ( { action = \"allow\"; users = [ \"alice\" ];\n"
	    "  to = [ \"10.0.0.0/8\", \"2001:db8::/32\" ];\n"
	    "  ports = [ \"443\", \"1024-65535\" ]; },\n"
	    "  { action = \"deny\"; } );\n" },
	/* Readable by others: a secret in it is refused. */
	{ "secret.conf", 0644,
	    "auth = { methods = [ \"chap\" ]; chap_server_secret = \"s3\"; };\n" },
	{ "broken.conf", 0600, "workers = ;\n" },
	/* Includes the input again: libconfig's depth limit ends it. */
	{ "again.conf", 0600, "@include \"" CONF_NAME "\"\n" },
};

/*
 * libconfig 1.5 (Debian 12's) leaks the text of a string token that a
 * syntax error follows (a file holding `"a" "b"`, or `""` alone): up to
 * 64 bytes per failed load, allocated by its scanner (strbuf_append(),
 * or libconfig_yylex() for ""), out of our reach. LeakSanitizer passes
 * over those two allocation sites; any other leak still fails the run.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char dir[PATH_MAX];
static char conf[PATH_MAX];

/* dir/name into path (PATH_MAX bytes). */
static void
in_dir(char *path, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);

	FUZZ_CHECK(n > 0 && n < PATH_MAX);
}

static void
remove_dir(void)
{
	char path[PATH_MAX];
	size_t i;

	if (dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		in_dir(path, fakes[i].name);
		unlink(path);
	}
	unlink(conf);
	rmdir(dir);
	dir[0] = '\0';
}

static void
write_file(const char *path, mode_t mode, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode);

	FUZZ_CHECK(fd != -1);
	FUZZ_CHECK(fchmod(fd, mode) == 0);	/* whatever the umask */
	FUZZ_CHECK(len == 0 || write(fd, p, len) == (ssize_t)len);
	FUZZ_CHECK(close(fd) == 0);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	size_t i;
	int n;

	if (dir[0] != '\0')
		return;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(dir, sizeof(dir), "%s/sockeye-fuzz-config.XXXXXX", tmp);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(dir) - 64);
	FUZZ_CHECK(mkdtemp(dir) != NULL);	/* mode 0700 */
	in_dir(conf, CONF_NAME);
	for (i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		in_dir(path, fakes[i].name);
		write_file(path, fakes[i].mode, fakes[i].text,
		    strlen(fakes[i].text));
	}
	atexit(remove_dir);
}

static bool
include_char(uint8_t c, size_t pos)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	    (c == '.' && pos > 0);
}

/*
 * Does every "@include" (in any case, anywhere: more than libconfig
 * takes) name a file of the private directory?
 */
static bool
includes_confined(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";
	const size_t wlen = sizeof(word) - 1;
	size_t i, j, k;

	for (i = 0; i + wlen <= size; i++) {
		if (data[i] != '@' || strncasecmp((const char *)data + i, word,
		    wlen) != 0)
			continue;
		j = i + wlen;
		if (j >= size || (data[j] != ' ' && data[j] != '\t'))
			return false;
		while (j < size && (data[j] == ' ' || data[j] == '\t'))
			j++;
		if (j >= size || data[j] != '"')
			return false;
		j++;
		for (k = 0; j + k < size && include_char(data[j + k], k); k++)
			if (data[j + k] == '.' && data[j + k - 1] == '.')
				return false;
		if (k == 0 || k > INCLUDE_NAME_MAX || j + k >= size ||
		    data[j + k] != '"')
			return false;
	}
	return true;
}

struct reports {
	size_t errors, warnings;
	size_t main_lines;		/* lines of the input */
};

static void
report(void *arg, const char *file, int line, const char *msg)
{
	struct reports *r = arg;
	const unsigned char *p;

	FUZZ_CHECK(file != NULL && msg != NULL && msg[0] != '\0');
	/* The input, or a file of the directory named as the input did. */
	if (strcmp(file, conf) != 0) {
		FUZZ_CHECK(strchr(file, '/') == NULL);
		FUZZ_CHECK(strlen(file) <= INCLUDE_NAME_MAX);
	} else {
		FUZZ_CHECK((size_t)line <= r->main_lines);
	}
	FUZZ_CHECK(line >= 0);
	/* One line of printable ASCII, whatever the input quoted. */
	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	if (strncmp(msg, "warning: ", 9) == 0)
		r->warnings++;
	else
		r->errors++;
}

/* An integer key's value within config_keys.c's range. */
static void
check_int(const char *group, const char *name, int v)
{
	const struct config_key *k = config_key_find(group, name);

	FUZZ_CHECK(k != NULL && k->type == CONFIG_KEY_INT);
	FUZZ_CHECK(v >= k->min && v <= k->max);
}

static void
check_cidr(const struct cidr *c)
{
	unsigned max, i;

	FUZZ_CHECK(c->family == AF_INET || c->family == AF_INET6);
	max = c->family == AF_INET ? 32 : 128;
	FUZZ_CHECK(c->prefix <= max);
	for (i = c->prefix; i < max; i++)
		FUZZ_CHECK((c->addr[i / 8] & (0x80u >> (i % 8))) == 0);
}

static void
check_ip(const union sockaddr_any *a, int family)
{
	FUZZ_CHECK(a->sa.sa_family == AF_INET ||
	    a->sa.sa_family == AF_INET6);
	if (family != 0)
		FUZZ_CHECK(a->sa.sa_family == family);
}

#define ALL_CMDS (CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) | \
	CONFIG_CMD_BIT(SOCKS5_CMD_BIND) | \
	CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE))

static void
check_rules(const struct config *cfg)
{
	size_t i, j;

	if (cfg->has_access)
		FUZZ_CHECK(cfg->acl.rules != NULL);
	else
		FUZZ_CHECK(cfg->acl.n_rules == 0);
	for (i = 0; i < cfg->acl.n_rules; i++) {
		const struct acl_rule *r = &cfg->acl.rules[i];

		FUZZ_CHECK(r->action == ACL_ALLOW || r->action == ACL_DENY);
		FUZZ_CHECK(r->line >= 1);
		FUZZ_CHECK((r->commands & ~ALL_CMDS) == 0);
		for (j = 0; j < r->n_users; j++)
			FUZZ_CHECK(r->users[j] != NULL &&
			    r->users[j][0] != '\0');
		for (j = 0; j < r->n_from; j++)
			check_cidr(&r->from[j]);
		for (j = 0; j < r->n_to; j++)
			check_cidr(&r->to[j]);
		for (j = 0; j < r->n_to_hosts; j++)
			FUZZ_CHECK(r->to_hosts[j] != NULL &&
			    r->to_hosts[j][0] != '\0');
		for (j = 0; j < r->n_ports; j++)
			FUZZ_CHECK(r->ports[j].lo >= 1 &&
			    r->ports[j].lo <= r->ports[j].hi);
	}
	for (i = 0; i < cfg->n_user_limits; i++) {
		const struct config_user_limit *u = &cfg->user_limits[i];

		FUZZ_CHECK(u->n_users >= 1);
		for (j = 0; j < u->n_users; j++)
			FUZZ_CHECK(u->users[j] != NULL &&
			    u->users[j][0] != '\0');
		FUZZ_CHECK(u->max_sessions >= -1 && u->bandwidth_bps >= -1);
	}
}

static void
no_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	abort();
}

static void
check_config(const struct config *cfg)
{
	bool none = false, users = false, open = false;
	size_t i, j;

	FUZZ_CHECK(strcmp(cfg->file, conf) == 0);
	FUZZ_CHECK(cfg->n_listen >= 1);
	for (i = 0; i < cfg->n_listen; i++) {
		check_ip(&cfg->listen[i].addr, 0);
		FUZZ_CHECK(cfg->listen[i].line >= 0);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(!sockaddr_equal(&cfg->listen[i].addr.sa,
			    &cfg->listen[j].addr.sa) ||
			    sockaddr_port(&cfg->listen[i].addr.sa) == 0);
		if (!sockaddr_is_loopback(&cfg->listen[i].addr.sa))
			open = true;
	}
	check_int("", "workers", cfg->workers);
	check_int("", "shutdown_timeout_s", cfg->shutdown_timeout_s);
	check_int("", "reload_drain_timeout_s", cfg->reload_drain_timeout_s);
	FUZZ_CHECK(cfg->user != NULL && cfg->user[0] != '\0');
	FUZZ_CHECK(cfg->group != NULL && cfg->group[0] != '\0');
	FUZZ_CHECK(cfg->pid_file != NULL);
	if (cfg->status_socket != NULL)
		FUZZ_CHECK(cfg->status_socket[0] == '/');
	if (cfg->has_metrics_listen)
		FUZZ_CHECK(cfg->metrics_listen.sa.sa_family == AF_INET ||
		    cfg->metrics_listen.sa.sa_family == AF_INET6);
	else
		FUZZ_CHECK(cfg->metrics_listen.sa.sa_family == 0);

	FUZZ_CHECK(cfg->log.target == LOG_TARGET_STDERR ||
	    cfg->log.target == LOG_TARGET_SYSLOG ||
	    cfg->log.target == LOG_TARGET_FILE);
	if (cfg->log.target == LOG_TARGET_FILE)
		FUZZ_CHECK(cfg->log.path != NULL && cfg->log.path[0] == '/');

	FUZZ_CHECK(cfg->auth.n_methods >= 1 && cfg->auth.n_methods <= 3);
	for (i = 0; i < cfg->auth.n_methods; i++) {
		uint8_t m = cfg->auth.methods[i];

		FUZZ_CHECK(m == SOCKS5_METHOD_NONE ||
		    m == SOCKS5_METHOD_PASSWORD || m == SOCKS5_METHOD_CHAP);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(cfg->auth.methods[j] != m);
		if (m == SOCKS5_METHOD_NONE)
			none = true;
		else
			users = true;
	}
	FUZZ_CHECK(cfg->auth.users_file != NULL);
	FUZZ_CHECK(cfg->auth.chap_mutual == CHAP_MUTUAL_ALLOW ||
	    cfg->auth.chap_mutual == CHAP_MUTUAL_REQUIRE ||
	    cfg->auth.chap_mutual == CHAP_MUTUAL_DENY);
	FUZZ_CHECK(cfg->auth.chap_server_secret != NULL);
	check_int("auth", "cache_ttl_s", cfg->auth.cache_ttl_s);
	check_int("auth", "verify_threads", cfg->auth.verify_threads);

	for (i = 0; i < cfg->resolver.n_servers; i++) {
		check_ip(&cfg->resolver.servers[i], 0);
		FUZZ_CHECK(sockaddr_port(&cfg->resolver.servers[i].sa) != 0);
	}
	check_int("resolver", "timeout_ms", cfg->resolver.timeout_ms);
	check_int("resolver", "tries", cfg->resolver.tries);

	check_int("connect", "attempt_delay_ms",
	    cfg->connect.attempt_delay_ms);
	check_int("connect", "resolution_delay_ms",
	    cfg->connect.resolution_delay_ms);
	check_int("connect", "first_family_count",
	    cfg->connect.first_family_count);
	check_int("connect", "timeout_s", cfg->connect.timeout_s);
	FUZZ_CHECK(cfg->connect.prefer_family == AF_INET ||
	    cfg->connect.prefer_family == AF_INET6);
	if (cfg->connect.has_bind_ipv4)
		check_ip(&cfg->connect.bind_ipv4, AF_INET);
	if (cfg->connect.has_bind_ipv6)
		check_ip(&cfg->connect.bind_ipv6, AF_INET6);

	FUZZ_CHECK(cfg->commands != 0 && (cfg->commands & ~ALL_CMDS) == 0);

	for (i = 0; i < cfg->bind.n_external; i++) {
		check_ip(&cfg->bind.external[i], 0);
		FUZZ_CHECK(sockaddr_port(&cfg->bind.external[i].sa) == 0);
	}
	check_int("bind", "accept_timeout_s", cfg->bind.accept_timeout_s);

	check_int("udp", "idle_timeout_s", cfg->udp.idle_timeout_s);
	FUZZ_CHECK(cfg->udp.filtering == CONFIG_UDP_ADDRESS_DEPENDENT ||
	    cfg->udp.filtering == CONFIG_UDP_ENDPOINT_INDEPENDENT);
	if (cfg->udp.has_external)
		check_ip(&cfg->udp.external, 0);
	FUZZ_CHECK(cfg->udp.port_lo <= cfg->udp.port_hi);
	FUZZ_CHECK((cfg->udp.port_lo == 0) == (cfg->udp.port_hi == 0));

	check_int("limits", "max_sessions", cfg->limits.max_sessions);
	check_int("limits", "max_sessions_per_client",
	    cfg->limits.max_sessions_per_client);
	check_int("limits", "handshake_timeout_s",
	    cfg->limits.handshake_timeout_s);
	check_int("limits", "idle_timeout_s", cfg->limits.idle_timeout_s);
	check_int("limits", "max_sessions_per_user",
	    cfg->limits.max_sessions_per_user);
	check_int("limits", "user_bandwidth_bps",
	    cfg->limits.user_bandwidth_bps);
	check_int("limits", "client_prefix_ipv4",
	    cfg->limits.client_prefix_ipv4);
	check_int("limits", "client_prefix_ipv6",
	    cfg->limits.client_prefix_ipv6);

	if (cfg->has_clients)
		FUZZ_CHECK(cfg->n_clients >= 1);
	else
		FUZZ_CHECK(cfg->n_clients == 0);
	for (i = 0; i < cfg->n_clients; i++)
		check_cidr(&cfg->clients[i]);
	check_rules(cfg);

	/* The open-proxy guard. */
	if (none && open)
		FUZZ_CHECK(cfg->has_clients || cfg->allow_open_proxy);

	/* The users file it needs: ours, never the one it names. */
	if (users) {
		char path[PATH_MAX];
		struct userdb *db;

		in_dir(path, USERS_NAME);
		db = userdb_load(path, false, 0, no_report, NULL);
		FUZZ_CHECK(db != NULL && userdb_count(db) == 2);
		userdb_free(db);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reports rep = { 0, 0, 1 };
	struct config *cfg;
	size_t i;
	int cwd;

	if (size > INPUT_MAX || !includes_confined(data, size))
		return 0;
	setup();
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			rep.main_lines++;
	write_file(conf, 0600, data, size);

	/* @include names are relative: to the private directory. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(cwd != -1);
	FUZZ_CHECK(chdir(dir) == 0);
	cfg = config_load(conf, report, &rep);
	FUZZ_CHECK(fchdir(cwd) == 0);
	close(cwd);

	FUZZ_CHECK((cfg != NULL) == (rep.errors == 0));
	if (cfg != NULL)
		check_config(cfg);
	config_free(cfg);
	return 0;
}
