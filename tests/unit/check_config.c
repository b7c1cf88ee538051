/* SPDX-License-Identifier: ISC */
/*
 * check_config.c - unit tests for the config module, src/config_*.c
 * (suite "config").
 *
 * Each test writes config text to a file in a fresh temporary directory,
 * loads it, and checks either the values in the struct or the exact
 * (line, message) pairs reported: the line numbers are what an admin sees
 * from `sockeyed -t`, so they are part of the contract.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "socks5.h"
#include "unit_util.h"

#define MAX_REPORTS 64

struct report {
	char file[512];
	int line;
	char msg[1024];
};

static struct report reports[MAX_REPORTS];
static int n_reports;
static char tmpdir[256];

static void
collect(void *arg, const char *file, int line, const char *msg)
{
	struct report *r;

	ck_assert_ptr_eq(arg, &n_reports);
	ck_assert_int_lt(n_reports, MAX_REPORTS);
	ck_assert_msg(strchr(msg, '\n') == NULL, "message spans lines: %s",
	    msg);
	r = &reports[n_reports++];
	snprintf(r->file, sizeof(r->file), "%s", file);
	r->line = line;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void
setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_config.XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	ck_assert_ptr_ne(mkdtemp(tmpdir), NULL);
	n_reports = 0;
}

static void
teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

/* Write `text` to a new file in tmpdir; returns its path (static). */
static const char *
write_conf(const char *text)
{
	static char path[512];
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "%s/confXXXXXX", tmpdir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static struct config *
load_path(const char *path)
{
	n_reports = 0;
	return config_load(path, collect, &n_reports);
}

static struct config *
load(const char *text)
{
	return load_path(write_conf(text));
}

/* All reports, for failure messages. */
static const char *
dump(void)
{
	static char buf[8192];
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n_reports && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "\n  %d: %s", reports[i].line, reports[i].msg);
	return buf;
}

/* Load `text`, which must be valid. */
static struct config *
load_ok(const char *text)
{
	struct config *cfg = load(text);

	ck_assert_msg(cfg != NULL && n_reports == 0, "rejected:%s", dump());
	return cfg;
}

/* Load `text`, which must be refused with exactly `n` reports. */
static void
load_bad(const char *text, int n)
{
	struct config *cfg = load(text);

	ck_assert_msg(cfg == NULL, "accepted");
	ck_assert_msg(n_reports == n, "%d reports, want %d:%s", n_reports, n,
	    dump());
}

/* Report i is exactly (line, msg). */
static void
expect(int i, int line, const char *msg)
{
	ck_assert_msg(i < n_reports, "no report %d:%s", i, dump());
	ck_assert_msg(reports[i].line == line && strcmp(reports[i].msg, msg) == 0,
	    "report %d is %d: %s\nwant %d: %s", i, reports[i].line,
	    reports[i].msg, line, msg);
}

/* The one error of a one-error file is (line, msg). */
static void
expect_one(const char *text, int line, const char *msg)
{
	load_bad(text, 1);
	expect(0, line, msg);
}

#define LOOPBACK \
	"listen = [ \"127.0.0.1:1080\" ];\n"
#define LOOPBACK_NONE \
	"listen = [ \"127.0.0.1:1080\" ];\n" \
	"auth = { methods = [ \"none\" ]; };\n"

/* proxy_protocol: its listeners after the plain ones, marked; trusted. */
START_TEST(test_proxy_protocol)
{
	struct config *cfg;
	char buf[SOCKADDR_STRLEN];

	cfg = load_ok(LOOPBACK
	    "proxy_protocol = { listen = [ \"127.0.0.1:1081\", "
	    "\"[::1]:0\" ];\n"
	    "  trusted = [ \"10.0.0.0/8\", \"::1\" ]; };\n");
	ck_assert_uint_eq(cfg->n_listen, 3);
	ck_assert(!cfg->listen[0].proxy);
	ck_assert(cfg->listen[1].proxy);
	ck_assert(cfg->listen[2].proxy);
	ck_assert_str_eq(sockaddr_format(&cfg->listen[1].addr.sa, buf,
	    sizeof(buf)), "127.0.0.1:1081");
	ck_assert_int_eq(cfg->listen[1].line, 2);
	ck_assert_uint_eq(cfg->n_proxy_trusted, 2);
	config_free(cfg);

	/* Only PROXY listeners: `listen` may then be empty. */
	cfg = load_ok("listen = [ ];\n"
	    "proxy_protocol = { listen = [ \"127.0.0.1:1081\" ];\n"
	    "  trusted = [ \"127.0.0.1\" ]; };\n");
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert(cfg->listen[0].proxy);
	config_free(cfg);

	/* Absent: no PROXY listener, nobody trusted. */
	cfg = load_ok(LOOPBACK);
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert(!cfg->listen[0].proxy);
	ck_assert_uint_eq(cfg->n_proxy_trusted, 0);
	config_free(cfg);

	expect_one("listen = [ ];\n", 1, "'listen' must list at least one "
	    "address");
	expect_one("listen = [ ];\nproxy_protocol = { listen = [ ]; };\n", 1,
	    "'listen' must list at least one address");
	expect_one(LOOPBACK "proxy_protocol = { listen = "
	    "[ \"127.0.0.1:1081\" ]; };\n", 2, "'proxy_protocol.trusted' "
	    "must list the networks of the balancers that send PROXY headers "
	    "(\"0.0.0.0/0\" and \"::/0\" if really anyone)");
	expect_one(LOOPBACK "proxy_protocol = { listen = "
	    "[ \"127.0.0.1:1080\" ];\n trusted = [ \"10.0.0.0/8\" ]; };\n",
	    2, "'proxy_protocol.listen': \"127.0.0.1:1080\" is listed twice "
	    "(in 'listen' and 'proxy_protocol.listen')");
	expect_one(LOOPBACK "proxy_protocol = { listen = [ \"10.0.0.1\" ];\n"
	    " trusted = [ \"10.0.0.0/8\" ]; };\n", 2,
	    "'proxy_protocol.listen': \"10.0.0.1\" is not \"IP:PORT\" or "
	    "\"[IPv6]:PORT\"");
	expect_one(LOOPBACK "proxy_protocol = { listen = [ \"[::1]:1\" ];\n"
	    "  trusted = [ \"10.0.0.0/33\" ]; };\n", 3,
	    "'proxy_protocol.trusted': \"10.0.0.0/33\" is not a network such "
	    "as \"10.0.0.0/8\", \"2001:db8::/32\" or an address");
	expect_one(LOOPBACK "proxy_protocol = { listen = [ ]; port = 1; };\n",
	    2, "unknown key 'proxy_protocol.port'");
}
END_TEST

/* bind.advertise_addresses: addresses, port 0; need not be local. */
START_TEST(test_bind_advertise)
{
	struct config *cfg;
	char buf[SOCKADDR_STRLEN];

	cfg = load_ok(LOOPBACK "bind = { advertise_addresses = "
	    "[ \"203.0.113.7\", \"2001:db8::7\" ]; };\n");
	ck_assert_uint_eq(cfg->bind.n_advertise, 2);
	ck_assert_str_eq(sockaddr_format(&cfg->bind.advertise[0].sa, buf,
	    sizeof(buf)), "203.0.113.7:0");
	ck_assert_str_eq(sockaddr_format(&cfg->bind.advertise[1].sa, buf,
	    sizeof(buf)), "[2001:db8::7]:0");
	config_free(cfg);
	expect_one(LOOPBACK "bind = { advertise_addresses = "
	    "[ \"203.0.113.7:80\" ]; };\n", 2,
	    "'bind.advertise_addresses': \"203.0.113.7:80\" is not an IPv4 "
	    "or IPv6 address");
}
END_TEST

START_TEST(test_full)
{
	struct config *cfg = load_ok(
	    "listen = [ \"0.0.0.0:1081\", \"[::]:0\" ];\n"
	    "workers = 4;\n"
	    "user = \"u1\"; group = \"g1\";\n"
	    "pid_file = \"/tmp/x.pid\";\n"
	    "shutdown_timeout_s = 0;\n"
	    "reload_drain_timeout_s = 0;\n"
	    "log = { target = \"/var/log/sockeye.log\"; level = \"debug\";\n"
	    "        access = false; };\n"
	    "auth = { methods = [ \"none\" ]; users_file = \"/etc/u\";\n"
	    "         chap_mutual = \"require\";\n"
	    "         chap_server_secret = \"s3cret\"; };\n"
	    "resolver = { servers = [ \"192.0.2.53\", \"[2001:db8::53]:5353\",\n"
	    "                         \"::1\", \"10.0.0.1:54\" ];\n"
	    "             timeout_ms = 10; tries = 10; };\n"
	    "connect = { attempt_delay_ms = 2000; resolution_delay_ms = 0;\n"
	    "            first_family_count = 16; prefer_family = \"ipv4\";\n"
	    "            timeout_s = 3600; bind_ipv4 = \"192.0.2.1\";\n"
	    "            bind_ipv6 = \"2001:db8::1\"; };\n"
	    "commands = [ \"connect\", \"udp_associate\" ];\n"
	    "limits = { max_sessions = 10000000; max_sessions_per_client = 1;\n"
	    "           handshake_timeout_s = 3600; idle_timeout_s = 0; };\n"
	    "clients = ( \"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.1\" );\n"
	    "allow_open_proxy = true;\n");
	char buf[SOCKADDR_STRLEN];

	ck_assert_uint_eq(cfg->n_listen, 2);
	ck_assert_str_eq(sockaddr_format(&cfg->listen[0].addr.sa, buf,
	    sizeof(buf)), "0.0.0.0:1081");
	ck_assert_str_eq(sockaddr_format(&cfg->listen[1].addr.sa, buf,
	    sizeof(buf)), "[::]:0");
	ck_assert_int_eq(cfg->listen[0].line, 1);
	ck_assert_int_eq(cfg->workers, 4);
	ck_assert_str_eq(cfg->user, "u1");
	ck_assert_str_eq(cfg->group, "g1");
	ck_assert_str_eq(cfg->pid_file, "/tmp/x.pid");
	ck_assert_int_eq(cfg->shutdown_timeout_s, 0);
	ck_assert_int_eq(cfg->reload_drain_timeout_s, 0);

	ck_assert_int_eq(cfg->log.target, LOG_TARGET_FILE);
	ck_assert_str_eq(cfg->log.path, "/var/log/sockeye.log");
	ck_assert_int_eq(cfg->log.level, LOG_LEVEL_DEBUG);
	ck_assert(!cfg->log.access);

	ck_assert_uint_eq(cfg->auth.n_methods, 1);
	ck_assert_uint_eq(cfg->auth.methods[0], SOCKS5_METHOD_NONE);
	ck_assert_str_eq(cfg->auth.users_file, "/etc/u");
	ck_assert_int_eq(cfg->auth.chap_mutual, CHAP_MUTUAL_REQUIRE);
	ck_assert_str_eq(cfg->auth.chap_server_secret, "s3cret");

	ck_assert_uint_eq(cfg->resolver.n_servers, 4);
	ck_assert_str_eq(sockaddr_format(&cfg->resolver.servers[0].sa, buf,
	    sizeof(buf)), "192.0.2.53:53");
	ck_assert_str_eq(sockaddr_format(&cfg->resolver.servers[1].sa, buf,
	    sizeof(buf)), "[2001:db8::53]:5353");
	ck_assert_str_eq(sockaddr_format(&cfg->resolver.servers[2].sa, buf,
	    sizeof(buf)), "[::1]:53");
	ck_assert_str_eq(sockaddr_format(&cfg->resolver.servers[3].sa, buf,
	    sizeof(buf)), "10.0.0.1:54");
	ck_assert_int_eq(cfg->resolver.timeout_ms, 10);
	ck_assert_int_eq(cfg->resolver.tries, 10);

	ck_assert_int_eq(cfg->connect.attempt_delay_ms, 2000);
	ck_assert_int_eq(cfg->connect.resolution_delay_ms, 0);
	ck_assert_int_eq(cfg->connect.first_family_count, 16);
	ck_assert_int_eq(cfg->connect.prefer_family, AF_INET);
	ck_assert_int_eq(cfg->connect.timeout_s, 3600);
	ck_assert(cfg->connect.has_bind_ipv4);
	ck_assert_str_eq(sockaddr_format(&cfg->connect.bind_ipv4.sa, buf,
	    sizeof(buf)), "192.0.2.1:0");
	ck_assert(cfg->connect.has_bind_ipv6);
	ck_assert_str_eq(sockaddr_format(&cfg->connect.bind_ipv6.sa, buf,
	    sizeof(buf)), "[2001:db8::1]:0");

	ck_assert_uint_eq(cfg->commands, CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE));

	ck_assert_int_eq(cfg->limits.max_sessions, 10000000);
	ck_assert_int_eq(cfg->limits.max_sessions_per_client, 1);
	ck_assert_int_eq(cfg->limits.handshake_timeout_s, 3600);
	ck_assert_int_eq(cfg->limits.idle_timeout_s, 0);

	ck_assert(cfg->has_clients);
	ck_assert_uint_eq(cfg->n_clients, 3);
	ck_assert_int_eq(cfg->clients[0].family, AF_INET);
	ck_assert_uint_eq(cfg->clients[0].prefix, 8);
	ck_assert_int_eq(cfg->clients[1].family, AF_INET6);
	ck_assert_uint_eq(cfg->clients[1].prefix, 32);
	ck_assert_uint_eq(cfg->clients[2].prefix, 32);
	ck_assert(cfg->allow_open_proxy);
	config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
	struct config *cfg = load_ok(LOOPBACK_NONE);
	char buf[SOCKADDR_STRLEN];

	ck_assert_ptr_ne(strstr(cfg->file, "/conf"), NULL);
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert_str_eq(sockaddr_format(&cfg->listen[0].addr.sa, buf,
	    sizeof(buf)), "127.0.0.1:1080");
	ck_assert_int_eq(cfg->workers, 0);
	ck_assert_str_eq(cfg->user, "sockeye");
	ck_assert_str_eq(cfg->group, "sockeye");
	ck_assert_str_eq(cfg->pid_file, "/run/sockeye/sockeyed.pid");
	ck_assert_int_eq(cfg->shutdown_timeout_s, 30);
	ck_assert_int_eq(cfg->reload_drain_timeout_s, 3600);
	ck_assert_int_eq(cfg->log.target, LOG_TARGET_SYSLOG);
	ck_assert_ptr_eq(cfg->log.path, NULL);
	ck_assert_int_eq(cfg->log.level, LOG_LEVEL_INFO);
	ck_assert(cfg->log.access);
	ck_assert_str_eq(cfg->auth.users_file, "/etc/sockeye/users");
	ck_assert_int_eq(cfg->auth.chap_mutual, CHAP_MUTUAL_ALLOW);
	ck_assert_str_eq(cfg->auth.chap_server_secret, "");
	ck_assert_int_eq(cfg->auth.cache_ttl_s, 300);
	ck_assert_int_eq(cfg->auth.verify_threads, 2);
	ck_assert_uint_eq(cfg->resolver.n_servers, 0);
	ck_assert_int_eq(cfg->resolver.timeout_ms, 2000);
	ck_assert_int_eq(cfg->resolver.tries, 2);
	ck_assert_int_eq(cfg->connect.attempt_delay_ms, 250);
	ck_assert_int_eq(cfg->connect.resolution_delay_ms, 50);
	ck_assert_int_eq(cfg->connect.first_family_count, 1);
	ck_assert_int_eq(cfg->connect.prefer_family, AF_INET6);
	ck_assert_int_eq(cfg->connect.timeout_s, 30);
	ck_assert(!cfg->connect.has_bind_ipv4);
	ck_assert(!cfg->connect.has_bind_ipv6);
	ck_assert_uint_eq(cfg->commands, CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_BIND) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE));
	ck_assert_int_eq(cfg->limits.max_sessions, 20000);
	ck_assert_int_eq(cfg->limits.max_sessions_per_client, 1024);
	ck_assert_int_eq(cfg->limits.handshake_timeout_s, 15);
	ck_assert_int_eq(cfg->limits.idle_timeout_s, 7200);
	ck_assert(!cfg->has_clients);
	ck_assert_uint_eq(cfg->n_clients, 0);
	ck_assert(!cfg->allow_open_proxy);
	config_free(cfg);

	/* Without `listen`: both loopback addresses. */
	cfg = load_ok("auth = { methods = [ \"none\" ]; };\n");
	ck_assert_uint_eq(cfg->n_listen, 2);
	ck_assert_str_eq(sockaddr_format(&cfg->listen[0].addr.sa, buf,
	    sizeof(buf)), "127.0.0.1:1080");
	ck_assert_str_eq(sockaddr_format(&cfg->listen[1].addr.sa, buf,
	    sizeof(buf)), "[::1]:1080");
	ck_assert_int_eq(cfg->listen[0].line, 0);
	config_free(cfg);

	/* Empty groups change nothing. */
	cfg = load_ok(LOOPBACK_NONE "log = { }; connect = { };\n");
	ck_assert_int_eq(cfg->connect.timeout_s, 30);
	config_free(cfg);

	/* "" for a bind address means none. */
	cfg = load_ok(LOOPBACK_NONE
	    "connect = { bind_ipv4 = \"\"; bind_ipv6 = \"\"; };\n");
	ck_assert(!cfg->connect.has_bind_ipv4);
	ck_assert(!cfg->connect.has_bind_ipv6);
	config_free(cfg);
}
END_TEST

/* metrics_listen: off when absent or "", else an address with a port. */
START_TEST(test_metrics_listen)
{
	struct config *cfg;
	char buf[SOCKADDR_STRLEN];

	cfg = load_ok(LOOPBACK_NONE);
	ck_assert(!cfg->has_metrics_listen);
	config_free(cfg);
	cfg = load_ok(LOOPBACK_NONE "metrics_listen = \"\";\n");
	ck_assert(!cfg->has_metrics_listen);
	config_free(cfg);
	cfg = load_ok(LOOPBACK_NONE "metrics_listen = \"127.0.0.1:9464\";\n");
	ck_assert(cfg->has_metrics_listen);
	ck_assert_str_eq(sockaddr_format(&cfg->metrics_listen.sa, buf,
	    sizeof(buf)), "127.0.0.1:9464");
	config_free(cfg);
	cfg = load_ok(LOOPBACK_NONE "metrics_listen = \"[::1]:0\";\n");
	ck_assert(cfg->has_metrics_listen);
	ck_assert_str_eq(sockaddr_format(&cfg->metrics_listen.sa, buf,
	    sizeof(buf)), "[::1]:0");
	config_free(cfg);
	/* Not reserved: a reload may change it (the master rebinds). */
	ck_assert_ptr_nonnull(config_key_find("", "metrics_listen"));
	ck_assert_uint_eq(config_key_find("", "metrics_listen")->flags &
	    CONFIG_KEY_NO_RELOAD, 0);

	expect_one(LOOPBACK_NONE "metrics_listen = \"localhost:9464\";\n", 3,
	    "'metrics_listen' must be \"\" or \"IP:PORT\" or "
	    "\"[IPv6]:PORT\", not \"localhost:9464\"");
	expect_one(LOOPBACK_NONE "metrics_listen = \"127.0.0.1\";\n", 3,
	    "'metrics_listen' must be \"\" or \"IP:PORT\" or "
	    "\"[IPv6]:PORT\", not \"127.0.0.1\"");
	expect_one(LOOPBACK_NONE "metrics_listen = \"::1:9464\";\n", 3,
	    "'metrics_listen' must be \"\" or \"IP:PORT\" or "
	    "\"[IPv6]:PORT\", not \"::1:9464\"");
	expect_one(LOOPBACK_NONE "metrics_listen = \"127.0.0.1:65536\";\n",
	    3, "'metrics_listen' must be \"\" or \"IP:PORT\" or "
	    "\"[IPv6]:PORT\", not \"127.0.0.1:65536\"");
	expect_one(LOOPBACK_NONE "metrics_listen = 9464;\n", 3,
	    "'metrics_listen' must be a string");
	expect_one(LOOPBACK_NONE "metrics = { listen = \"127.0.0.1:1\"; };\n",
	    3, "unknown key 'metrics'");
	/* Reported among others, at its own line. */
	load_bad(LOOPBACK_NONE "workers = 999;\n"
	    "metrics_listen = \"x\";\n", 2);
	expect(0, 3, "'workers' must be between 0 and 256");
	expect(1, 4, "'metrics_listen' must be \"\" or \"IP:PORT\" or "
	    "\"[IPv6]:PORT\", not \"x\"");
}
END_TEST

/* All three methods are served; the default is "password". */
START_TEST(test_methods)
{
	struct config *cfg;
	char path[600];
	FILE *f;

	cfg = load_ok("listen = [ \"127.0.0.1:1080\" ];\n");
	ck_assert_uint_eq(cfg->auth.n_methods, 1);
	ck_assert_uint_eq(cfg->auth.methods[0], SOCKS5_METHOD_PASSWORD);
	config_free(cfg);
	cfg = load_ok("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = {\n"
	    "  methods = [\n"
	    "    \"chap\",\n"
	    "    \"password\",\n"
	    "    \"none\"\n"
	    "  ];\n"
	    "  cache_ttl_s = 0;\n"
	    "  verify_threads = 64;\n"
	    "};\n");
	ck_assert_uint_eq(cfg->auth.n_methods, 3);
	ck_assert_uint_eq(cfg->auth.methods[0], SOCKS5_METHOD_CHAP);
	ck_assert_uint_eq(cfg->auth.methods[1], SOCKS5_METHOD_PASSWORD);
	ck_assert_uint_eq(cfg->auth.methods[2], SOCKS5_METHOD_NONE);
	ck_assert_int_eq(cfg->auth.cache_ttl_s, 0);
	ck_assert_int_eq(cfg->auth.verify_threads, 64);
	config_free(cfg);

	expect_one(LOOPBACK "auth = { cache_ttl_s = 86401; };\n", 2,
	    "'auth.cache_ttl_s' must be between 0 and 86400");
	expect_one(LOOPBACK "auth = { verify_threads = 0; };\n", 2,
	    "'auth.verify_threads' must be between 1 and 64");

	/* A server secret in a file that everybody may read is refused. */
	snprintf(path, sizeof(path), "%s/secret.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(LOOPBACK "auth = { methods = [ \"chap\" ];\n"
	    "  chap_server_secret = \"s3cret\"; };\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0644), 0);
	cfg = load_path(path);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(n_reports, 1);
	{
		char want[900];

		snprintf(want, sizeof(want), "'auth.chap_server_secret' is "
		    "set, but %s can be read by others (mode 0644); run chmod "
		    "o-rw on it", path);
		expect(0, 3, want);
	}
	ck_assert_int_eq(chmod(path, 0640), 0);
	cfg = load_path(path);
	ck_assert_msg(cfg != NULL, "rejected:%s", dump());
	ck_assert_str_eq(cfg->auth.chap_server_secret, "s3cret");
	config_free(cfg);
}
END_TEST

/*
 * auth.password_backend, auth.pam_service, auth.pam_timeout_s: values,
 * defaults, FILE:LINE errors; "pam" in a build without PAM is an error.
 */
START_TEST(test_pam)
{
	struct config *cfg;

	cfg = load_ok(LOOPBACK);
	ck_assert_int_eq(cfg->auth.password_backend, CONFIG_PASSWORD_FILE);
	ck_assert_str_eq(cfg->auth.pam_service, "sockeye");
	ck_assert_int_eq(cfg->auth.pam_timeout_s, 10);
	config_free(cfg);

#ifdef HAVE_PAM
	cfg = load_ok(LOOPBACK "auth = { methods = [ \"password\" ];\n"
	    "  password_backend = \"pam\"; pam_service = \"proxy-users\";\n"
	    "  pam_timeout_s = 300; };\n");
	ck_assert_int_eq(cfg->auth.password_backend, CONFIG_PASSWORD_PAM);
	ck_assert_str_eq(cfg->auth.pam_service, "proxy-users");
	ck_assert_int_eq(cfg->auth.pam_timeout_s, 300);
	config_free(cfg);
	/* With CHAP too: CHAP keeps the users file. */
	cfg = load_ok(LOOPBACK "auth = { methods = [ \"chap\", \"password\" ];\n"
	    "  password_backend = \"pam\"; };\n");
	ck_assert_int_eq(cfg->auth.password_backend, CONFIG_PASSWORD_PAM);
	config_free(cfg);
	/* Without "password" PAM has nothing to do: a warning. */
	cfg = load(LOOPBACK "auth = { methods = [ \"chap\" ];\n"
	    "  password_backend = \"pam\"; };\n");
	ck_assert_msg(cfg != NULL, "rejected:%s", dump());
	ck_assert_int_eq(n_reports, 1);
	expect(0, 3, "warning: 'auth.password_backend' is \"pam\", but "
	    "'auth.methods' does not list \"password\": PAM is not used");
	config_free(cfg);
#else
	expect_one(LOOPBACK "auth = {\n  password_backend = \"pam\"; };\n", 3,
	    "'auth.password_backend' is \"pam\", but this sockeyed was "
	    "built without PAM (configure found no libpam, or was given "
	    "--without-pam)");
#endif
	expect_one(LOOPBACK "auth = {\n  password_backend = \"ldap\"; };\n", 3,
	    "'auth.password_backend' must be \"file\" or \"pam\", not "
	    "\"ldap\"");
	expect_one(LOOPBACK "auth = {\n  pam_service = \"\"; };\n", 3,
	    "'auth.pam_service' must not be empty");
	expect_one(LOOPBACK "auth = {\n  pam_service = \"/etc/pam.d/x\"; };\n",
	    3, "'auth.pam_service' must be the name of a service (a file in "
	    "/etc/pam.d), not a path: \"/etc/pam.d/x\"");
	expect_one(LOOPBACK "auth = {\n  pam_service = \"..\"; };\n", 3,
	    "'auth.pam_service' must be the name of a service (a file in "
	    "/etc/pam.d), not a path: \"..\"");
	expect_one(LOOPBACK "auth = {\n  pam_timeout_s = 0; };\n", 3,
	    "'auth.pam_timeout_s' must be between 1 and 300");
	expect_one(LOOPBACK "auth = {\n  pam_timeout_s = 301; };\n", 3,
	    "'auth.pam_timeout_s' must be between 1 and 300");
}
END_TEST

START_TEST(test_type_errors)
{
	expect_one(LOOPBACK_NONE "workers = \"2\";\n", 3,
	    "'workers' must be an integer");
	expect_one(LOOPBACK_NONE "workers = 2.0;\n", 3,
	    "'workers' must be an integer");
	expect_one(LOOPBACK_NONE "workers = true;\n", 3,
	    "'workers' must be an integer");
	expect_one(LOOPBACK_NONE "connect = { timeout_s = \"30\"; };\n", 3,
	    "'connect.timeout_s' must be an integer");
	expect_one(LOOPBACK_NONE "log = { access = 1; };\n", 3,
	    "'log.access' must be true or false");
	expect_one(LOOPBACK_NONE "allow_open_proxy = \"yes\";\n", 3,
	    "'allow_open_proxy' must be true or false");
	expect_one(LOOPBACK_NONE "user = 5;\n", 3, "'user' must be a string");
	expect_one(LOOPBACK_NONE "user = \"\";\n", 3,
	    "'user' must not be empty");
	load_bad(LOOPBACK_NONE "auth2 = 1;\nlog = { target = [ ]; };\n", 2);
	expect(0, 3, "unknown key 'auth2'");
	expect(1, 4, "'log.target' must be a string");
	expect_one("listen = \"127.0.0.1:1080\";\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1,
	    "'listen' must be a list of \"IP:PORT\" strings, e.g. "
	    "listen = [ ... ];");
	expect_one(LOOPBACK_NONE "connect = 5;\n", 3,
	    "'connect' must be a group: connect = { ... };");
	expect_one(LOOPBACK_NONE "limits = [ 1 ];\n", 3,
	    "'limits' must be a group: limits = { ... };");
	expect_one(LOOPBACK_NONE "commands = [ 1 ];\n", 3,
	    "'commands' entries must be strings");
	expect_one(LOOPBACK_NONE "clients = ( \"::1\", 2 );\n", 3,
	    "'clients' entries must be strings");
	expect_one(LOOPBACK_NONE "resolver = { servers = \"::1\"; };\n", 3,
	    "'resolver.servers' must be a list of addresses, e.g. "
	    "servers = [ ... ];");
}
END_TEST

START_TEST(test_range_errors)
{
	struct config *cfg;

	expect_one(LOOPBACK_NONE "workers = 257;\n", 3,
	    "'workers' must be between 0 and 256");
	expect_one(LOOPBACK_NONE "workers = -1;\n", 3,
	    "'workers' must be between 0 and 256");
	expect_one(LOOPBACK_NONE "shutdown_timeout_s = 86401;\n", 3,
	    "'shutdown_timeout_s' must be between 0 and 86400");
	expect_one(LOOPBACK_NONE "reload_drain_timeout_s = -1;\n", 3,
	    "'reload_drain_timeout_s' must be between 0 and 2592000");
	expect_one(LOOPBACK_NONE "reload_drain_timeout_s = 2592001;\n", 3,
	    "'reload_drain_timeout_s' must be between 0 and 2592000");
	expect_one(LOOPBACK_NONE "connect = {\n  timeout_s = 0;\n};\n", 4,
	    "'connect.timeout_s' must be between 1 and 3600");
	expect_one(LOOPBACK_NONE "connect = { attempt_delay_ms = 9; };\n", 3,
	    "'connect.attempt_delay_ms' must be between 10 and 2000");
	expect_one(LOOPBACK_NONE "connect = { first_family_count = 17; };\n",
	    3, "'connect.first_family_count' must be between 1 and 16");
	expect_one(LOOPBACK_NONE "resolver = { tries = 11; };\n", 3,
	    "'resolver.tries' must be between 1 and 10");
	expect_one(LOOPBACK_NONE "resolver = { timeout_ms = 60001; };\n", 3,
	    "'resolver.timeout_ms' must be between 10 and 60000");
	expect_one(LOOPBACK_NONE "limits = { idle_timeout_s = 2592001; };\n",
	    3, "'limits.idle_timeout_s' must be between 0 and 2592000");
	expect_one(LOOPBACK_NONE "limits = { max_sessions = 0; };\n", 3,
	    "'limits.max_sessions' must be between 1 and 10000000");
	/* int64 literals are integers too... */
	expect_one(LOOPBACK_NONE "workers = 5000000000L;\n", 3,
	    "'workers' must be between 0 and 256");
	cfg = load_ok(LOOPBACK_NONE "workers = 7L;\nlimits = { "
	    "max_sessions = 0x10; };\n");
	ck_assert_int_eq(cfg->workers, 7);
	ck_assert_int_eq(cfg->limits.max_sessions, 16);
	config_free(cfg);
	/*
	 * ...and one that libconfig 1.5 silently truncates to 32 bits
	 * (to 705032704, in range) is still refused.
	 */
	expect_one(LOOPBACK_NONE "limits = { max_sessions = 5000000000; };\n",
	    3, "'limits.max_sessions' must be between 1 and 10000000");
	expect_one(LOOPBACK_NONE "workers = 4294967297;\n", 3,
	    "'workers' must be between 0 and 256");
}
END_TEST

START_TEST(test_value_errors)
{
	expect_one(LOOPBACK_NONE "log = { target = \"var/log/x\"; };\n", 3,
	    "'log.target' must be \"syslog\", \"stderr\" or an absolute path "
	    "starting with \"/\", not \"var/log/x\"");
	expect_one(LOOPBACK_NONE "log = { level = \"loud\"; };\n", 3,
	    "'log.level' must be \"error\", \"warning\", \"info\", "
	    "\"verbose\" or \"debug\", not \"loud\"");
	expect_one(LOOPBACK "auth = { methods = [ \"none\" ];\n"
	    "  chap_mutual = \"maybe\"; };\n", 3,
	    "'auth.chap_mutual' must be \"allow\", \"require\" or \"deny\", "
	    "not \"maybe\"");
	expect_one(LOOPBACK_NONE "connect = { prefer_family = \"ipx\"; };\n", 3,
	    "'connect.prefer_family' must be \"ipv6\" or \"ipv4\", not "
	    "\"ipx\"");
	expect_one(LOOPBACK_NONE "connect = { bind_ipv4 = \"::1\"; };\n", 3,
	    "'connect.bind_ipv4' must be \"\" or an IPv4 address, not "
	    "\"::1\"");
	expect_one(LOOPBACK_NONE "connect = { bind_ipv6 = \"10.0.0.1\"; };\n",
	    3, "'connect.bind_ipv6' must be \"\" or an IPv6 address, not "
	    "\"10.0.0.1\"");
	expect_one(LOOPBACK_NONE "resolver = { servers = [ \"dns.google\" ]; "
	    "};\n", 3, "'resolver.servers': \"dns.google\" is not \"IP\", "
	    "\"IP:PORT\" or \"[IPv6]:PORT\"");
	expect_one(LOOPBACK_NONE "resolver = { servers = [ \"1.1.1.1:0\" ]; "
	    "};\n", 3, "'resolver.servers': \"1.1.1.1:0\": port 0 is not a "
	    "DNS server");
	expect_one(LOOPBACK_NONE "commands = [ \"connect\", \"conect\" ];\n", 3,
	    "'commands': unknown command \"conect\" (\"connect\", \"bind\" or "
	    "\"udp_associate\")");
	expect_one(LOOPBACK_NONE "commands = [ \"bind\", \"bind\" ];\n", 3,
	    "'commands': \"bind\" is listed twice");
	expect_one(LOOPBACK_NONE "commands = [ ];\n", 3,
	    "'commands' must list at least one command");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\", \"none\" ]; };\n", 2,
	    "'auth.methods': \"none\" is listed twice");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\", \"kerberos\" ]; };\n", 2,
	    "'auth.methods': unknown method \"kerberos\" (\"none\", "
	    "\"gssapi\", \"password\" or \"chap\")");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ];\n"
	    "  gssapi_protection = [ \"integrity\", \"secret\" ]; };\n", 3,
	    "'auth.gssapi_protection': unknown level \"secret\" (\"none\", "
	    "\"integrity\" or \"confidentiality\")");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ];\n"
	    "  gssapi_protection = [ ]; };\n", 3,
	    "'auth.gssapi_protection' must list at least one level");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ];\n"
	    "  gssapi_strip_realms = [ \"alice@EXAMPLE.TEST\" ]; };\n", 3,
	    "'auth.gssapi_strip_realms': \"alice@EXAMPLE.TEST\" is not a "
	    "realm name (\"EXAMPLE.TEST\")");
	expect_one("listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ ]; };\n", 2,
	    "'auth.methods' must list at least one method");
	expect_one(LOOPBACK_NONE "clients = [ \"10.0.0.0/33\" ];\n", 3,
	    "'clients': \"10.0.0.0/33\" is not a network such as "
	    "\"10.0.0.0/8\", \"2001:db8::/32\" or an address");
	expect_one(LOOPBACK_NONE "clients = [ ];\n", 3,
	    "'clients' must list at least one network (without the key, "
	    "anyone may connect)");
	expect_one("listen = [ ];\nauth = { methods = [ \"none\" ]; };\n", 1,
	    "'listen' must list at least one address");
	expect_one("listen = [ \"::1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1,
	    "'listen': \"::1:1080\" is not \"IP:PORT\" or \"[IPv6]:PORT\"");
	expect_one("listen = [ \"127.0.0.1:1080\", \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1,
	    "'listen': \"127.0.0.1:1080\" is listed twice");
	/* A long value is cut short in the message. */
	expect_one("listen = [ \"1234567890123456789012345678901234567890"
	    "12345678901234567890123456789012345678901234567890\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1,
	    "'listen': \"1234567890123456789012345678901234567890"
	    "1234567890123456789012345678...\" is not \"IP:PORT\" or "
	    "\"[IPv6]:PORT\"");
	/* A control character in a value stays on one line. */
	expect_one(LOOPBACK_NONE "log = { level = \"a\\nb\"; };\n", 3,
	    "'log.level' must be \"error\", \"warning\", \"info\", "
	    "\"verbose\" or \"debug\", not \"a?b\"");
}
END_TEST

START_TEST(test_several_errors)
{
	load_bad("listen = [ \"127.0.0.1:1080\",\n"	/* 1 */
	    "           \"1.2.3.4\" ];\n"			/* 2 */
	    "workers = 300;\n"				/* 3 */
	    "conect = { };\n"				/* 4 */
	    "auth = { methods = [ \"none\" ];\n"		/* 5 */
	    "         chap_mutual = \"no\"; };\n"	/* 6 */
	    "log = {\n"					/* 7 */
	    "  level = \"debug\";\n"			/* 8 */
	    "  lvel = \"info\";\n"			/* 9 */
	    "  access = \"yes\";\n"			/* 10 */
	    "};\n"					/* 11 */
	    "udp = { filtering = \"full-cone\"; };\n"	/* 12 */
	    "limits = { idle_timeout_s = -1; };\n",	/* 13 */
	    8);
	/* Unknown and reserved top-level keys first, then key by key. */
	expect(0, 4, "unknown key 'conect'");
	expect(1, 2, "'listen': \"1.2.3.4\" is not \"IP:PORT\" or "
	    "\"[IPv6]:PORT\"");
	expect(2, 3, "'workers' must be between 0 and 256");
	expect(3, 9, "unknown key 'log.lvel'");
	expect(4, 10, "'log.access' must be true or false");
	expect(5, 6, "'auth.chap_mutual' must be \"allow\", \"require\" or "
	    "\"deny\", not \"no\"");
	expect(6, 12, "'udp.filtering' must be \"address-dependent\" or "
	    "\"endpoint-independent\", not \"full-cone\"");
	expect(7, 13, "'limits.idle_timeout_s' must be between 0 and 2592000");
}
END_TEST

START_TEST(test_unknown_keys)
{
	expect_one(LOOPBACK_NONE "conect = { timeout_s = 5; };\n", 3,
	    "unknown key 'conect'");
	expect_one(LOOPBACK_NONE "\nconnect = {\n  timeout_s = 5;\n"
	    "  atempt_delay_ms = 5;\n};\n", 6,
	    "unknown key 'connect.atempt_delay_ms'");
	expect_one(LOOPBACK_NONE "resolver = { server = [ ]; };\n", 3,
	    "unknown key 'resolver.server'");
	expect_one(LOOPBACK_NONE "limits = { max_session = 5; };\n", 3,
	    "unknown key 'limits.max_session'");
	expect_one(LOOPBACK "\nauth = { method = [ \"none\" ]; };\n", 3,
	    "unknown key 'auth.method'");
	/* Reserved names are only reserved at the top. */
	expect_one(LOOPBACK_NONE "log = { udp = 1; };\n", 3,
	    "unknown key 'log.udp'");
	/* Nor do top-level names count inside a group. */
	expect_one(LOOPBACK_NONE "limits = { workers = 1; };\n", 3,
	    "unknown key 'limits.workers'");
}
END_TEST

START_TEST(test_access_rules)
{
	struct config *cfg = load_ok(LOOPBACK_NONE
	    "access = (\n"
	    "  { action = \"deny\"; to = [ \"10.0.0.0/8\", \"::1\" ]; },\n"
	    "  { action = \"allow\"; users = [ \"alice\", \"*\" ];\n"
	    "    from = [ \"127.0.0.0/8\" ]; to_hosts = [ \"*.example.com\" ];\n"
	    "    ports = [ \"443\", \"1024-2048\" ];\n"
	    "    commands = [ \"connect\", \"udp_associate\" ]; }\n"
	    ");\n");
	const struct acl_rule *r;

	ck_assert(cfg->has_access);
	ck_assert_uint_eq(cfg->acl.n_rules, 2);
	r = &cfg->acl.rules[0];
	ck_assert_int_eq(r->action, ACL_DENY);
	ck_assert_int_eq(r->line, 4);
	ck_assert_uint_eq(r->n_to, 2);
	ck_assert_int_eq(r->to[0].prefix, 8);
	ck_assert_int_eq(r->to[1].family, AF_INET6);
	ck_assert_ptr_null(r->users);
	ck_assert_ptr_null(r->ports);
	ck_assert_uint_eq(r->commands, 0);
	r = &cfg->acl.rules[1];
	ck_assert_int_eq(r->action, ACL_ALLOW);
	ck_assert_int_eq(r->line, 5);
	ck_assert_uint_eq(r->n_users, 2);
	ck_assert_str_eq(r->users[0], "alice");
	ck_assert_uint_eq(r->n_from, 1);
	ck_assert_uint_eq(r->n_to_hosts, 1);
	ck_assert_str_eq(r->to_hosts[0], "*.example.com");
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[1].lo, 1024);
	ck_assert_uint_eq(r->ports[1].hi, 2048);
	ck_assert_uint_eq(r->commands, CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE));
	config_free(cfg);

	/* Absent: everything allowed. */
	cfg = load_ok(LOOPBACK_NONE);
	ck_assert(!cfg->has_access);
	ck_assert_uint_eq(cfg->acl.n_rules, 0);
	config_free(cfg);
	/* Present and empty: nothing matches, everything refused. */
	cfg = load_ok(LOOPBACK_NONE "access = ( );\n");
	ck_assert(cfg->has_access);
	ck_assert_uint_eq(cfg->acl.n_rules, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_access_errors)
{
	expect_one(LOOPBACK_NONE "access = ( { to = [ \"10.0.0.0/8\" ]; } );\n",
	    3, "'access[0].action' is missing: \"allow\" or \"deny\"");
	expect_one(LOOPBACK_NONE "access = ( { action = \"permit\"; } );\n", 3,
	    "'access[0].action' must be \"allow\" or \"deny\", not \"permit\"");
	expect_one(LOOPBACK_NONE "access = (\n { action = \"allow\";\n"
	    "   to = [ \"10.0.0.0/33\" ]; } );\n", 5,
	    "'access[0].to': \"10.0.0.0/33\" is not a network such as "
	    "\"10.0.0.0/8\", \"2001:db8::/32\" or an address");
	expect_one(LOOPBACK_NONE "access = ( { action = \"allow\"; "
	    "ports = [ \"0-80\" ]; } );\n", 3,
	    "'access[0].ports': \"0-80\" is not a port (1-65535) or a range "
	    "such as \"1024-65535\"");
	expect_one(LOOPBACK_NONE "access = ( { action = \"allow\"; } ,\n"
	    "{ action = \"deny\"; too = [ ]; } );\n", 4,
	    "unknown key 'access[1].too'");
	expect_one(LOOPBACK_NONE "access = ( { action = \"allow\"; "
	    "commands = [ \"listen\" ]; } );\n", 3,
	    "'access[0].commands': unknown command \"listen\" "
	    "(\"connect\", \"bind\" or \"udp_associate\")");
	expect_one(LOOPBACK_NONE "access = ( { action = \"allow\"; "
	    "to_hosts = [ \"bad host\" ]; } );\n", 3,
	    "'access[0].to_hosts': \"bad host\" is not a host name or "
	    "pattern such as \"*.example.com\"");
	expect_one(LOOPBACK_NONE "access = { action = \"allow\"; };\n", 3,
	    "'access' must be a list of groups: access = ( { ... }, { ... } );");
	expect_one(LOOPBACK_NONE "access = ( \"allow\" );\n", 3,
	    "'access' entries must be groups: { action = \"allow\"; ... }");
}
END_TEST

START_TEST(test_user_limits)
{
	struct config *cfg = load_ok(LOOPBACK_NONE
	    "limits = { max_sessions_per_user = 10; user_bandwidth_bps = 1000; };\n"
	    "user_limits = (\n"
	    "  { users = [ \"bob\" ]; max_sessions = 2; },\n"
	    "  { users = [ \"*\" ]; bandwidth_bps = 0; }\n"
	    ");\n");
	int ms, bw;

	ck_assert_uint_eq(cfg->n_user_limits, 2);
	config_user_limits(cfg, "bob", &ms, &bw);
	ck_assert_int_eq(ms, 2);
	ck_assert_int_eq(bw, 0);	/* from the "*" entry */
	config_user_limits(cfg, "alice", &ms, &bw);
	ck_assert_int_eq(ms, 10);	/* limits.max_sessions_per_user */
	ck_assert_int_eq(bw, 0);
	config_user_limits(cfg, NULL, &ms, &bw);
	ck_assert_int_eq(ms, 10);
	ck_assert_int_eq(bw, 1000);
	config_free(cfg);

	expect_one(LOOPBACK_NONE "user_limits = ( { max_sessions = 2; } );\n", 3,
	    "'user_limits[0].users' is missing: the users these limits apply to");
	expect_one(LOOPBACK_NONE "user_limits = ( { users = [ \"a\" ]; "
	    "bandwidth_bps = -1; } );\n", 3,
	    "'user_limits[0].bandwidth_bps' must be between 0 and 2000000000");
}
END_TEST

START_TEST(test_syntax_error)
{
	const char *path = write_conf(LOOPBACK_NONE "\nworkers = = 2;\n"
	    "user = \"x\";\n");
	struct config *cfg = load_path(path);

	ck_assert_ptr_eq(cfg, NULL);
	ck_assert_int_eq(n_reports, 1);
	ck_assert_str_eq(reports[0].file, path);
	ck_assert_int_eq(reports[0].line, 4);
	ck_assert_str_eq(reports[0].msg, "syntax error");

	/* libconfig itself refuses a key given twice. */
	expect_one(LOOPBACK_NONE "workers = 1;\nworkers = 2;\n", 4,
	    "duplicate setting name");
}
END_TEST

START_TEST(test_missing_file)
{
	char path[600];
	struct config *cfg;

	snprintf(path, sizeof(path), "%s/nonexistent.conf", tmpdir);
	cfg = load_path(path);
	ck_assert_ptr_eq(cfg, NULL);
	ck_assert_int_eq(n_reports, 1);
	ck_assert_str_eq(reports[0].file, path);
	ck_assert_int_eq(reports[0].line, 0);
	ck_assert_str_eq(reports[0].msg,
	    "cannot read: No such file or directory");

	cfg = load_path(tmpdir);
	ck_assert_ptr_eq(cfg, NULL);
	ck_assert_int_eq(n_reports, 1);
	ck_assert_int_eq(reports[0].line, 0);
	ck_assert_str_eq(reports[0].msg, "cannot read: Is a directory");
}
END_TEST

START_TEST(test_open_proxy)
{
	static const char msg[] = "refusing to run an open proxy: auth method "
	    "\"none\" on non-loopback listener 0.0.0.0:1080 with no "
	    "`clients`; require \"gssapi\", \"password\" or \"chap\" in "
	    "auth.methods, "
	    "listen only on loopback addresses, or list the allowed networks "
	    "in `clients` (or set allow_open_proxy = true if you really mean "
	    "it)";
	struct config *cfg;

	expect_one("listen = [ \"0.0.0.0:1080\" ];\n"
	    "\n"
	    "auth = { methods = [ \"none\" ]; };\n", 3, msg);
	ck_assert_ptr_ne(strstr(reports[0].msg, "open proxy"), NULL);

	/* One wildcard among loopback listeners is enough to refuse. */
	load_bad("listen = [ \"127.0.0.1:1080\", \"[::]:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1);
	ck_assert_ptr_ne(strstr(reports[0].msg, "open proxy"), NULL);
	ck_assert_ptr_ne(strstr(reports[0].msg, "[::]:1080"), NULL);
	load_bad("listen = [ \"192.0.2.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n", 1);
	ck_assert_ptr_ne(strstr(reports[0].msg, "open proxy"), NULL);

	cfg = load_ok("listen = [ \"0.0.0.0:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n"
	    "clients = [ \"10.0.0.0/8\" ];\n");
	config_free(cfg);
	cfg = load_ok("listen = [ \"0.0.0.0:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n"
	    "allow_open_proxy = true;\n");
	config_free(cfg);
	cfg = load_ok("listen = [ \"127.0.0.1:1080\", \"[::1]:1080\", "
	    "\"127.0.0.2:0\", \"[::ffff:127.0.0.1]:1081\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n");
	config_free(cfg);

	/* allow_open_proxy = false is the default, spelled out. */
	load_bad("listen = [ \"0.0.0.0:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n"
	    "allow_open_proxy = false;\n", 1);
	expect(0, 2, msg);
}
END_TEST

/* An element's line is where it was written, not where the list ends. */
START_TEST(test_list_lines)
{
	load_bad("listen = [\n"
	    "  \"127.0.0.1:1080\",\n"
	    "  \"127.0.0.1:x\",\n"
	    "  \"127.0.0.1:y\"\n"
	    "\n"
	    "];\n"
	    "auth = { methods = [ \"none\" ]; };\n"
	    "clients = (\n"
	    "  \"10.0.0.0/8\",   # comment\n"
	    "  \"10.0.0.0/99\"   # \"10.0.0.0/99\" in a comment\n"
	    ");\n", 3);
	expect(0, 3, "'listen': \"127.0.0.1:x\" is not \"IP:PORT\" or "
	    "\"[IPv6]:PORT\"");
	expect(1, 4, "'listen': \"127.0.0.1:y\" is not \"IP:PORT\" or "
	    "\"[IPv6]:PORT\"");
	expect(2, 10, "'clients': \"10.0.0.0/99\" is not a network such as "
	    "\"10.0.0.0/8\", \"2001:db8::/32\" or an address");
}
END_TEST

/* @include works, and errors in the included file name that file. */
START_TEST(test_include)
{
	char inc[600], text[800];
	FILE *fp;
	struct config *cfg;

	snprintf(inc, sizeof(inc), "%s/limits.inc", tmpdir);
	fp = fopen(inc, "w");
	ck_assert_ptr_ne(fp, NULL);
	fputs("limits = {\n  max_sessions = 77;\n};\n", fp);
	fclose(fp);
	snprintf(text, sizeof(text), "%s@include \"%s\"\n", LOOPBACK_NONE,
	    inc);
	cfg = load_ok(text);
	ck_assert_int_eq(cfg->limits.max_sessions, 77);
	config_free(cfg);

	/* An error in the included file names that file and its line. */
	fp = fopen(inc, "w");
	ck_assert_ptr_ne(fp, NULL);
	fputs("limits = {\n  max_sessions = 0;\n};\n", fp);
	fclose(fp);
	load_bad(text, 1);
	ck_assert_str_eq(reports[0].file, inc);
	expect(0, 2, "'limits.max_sessions' must be between 1 and 10000000");

	/*
	 * A syntax error in it is refused; libconfig 1.5 names the
	 * including file for it, so the file name is not checked.
	 */
	fp = fopen(inc, "w");
	ck_assert_ptr_ne(fp, NULL);
	fputs("\n\nlimits = {\n", fp);
	fclose(fp);
	load_bad(text, 1);
	ck_assert_str_eq(reports[0].msg, "syntax error");
}
END_TEST

START_TEST(test_dev_conf)
{
	const char *srcdir = getenv("srcdir");
	char path[1024];
	char buf[SOCKADDR_STRLEN];
	struct config *cfg;

	snprintf(path, sizeof(path), "%s/conf/sockeye-dev.conf",
	    srcdir != NULL && srcdir[0] != '\0' ? srcdir : ".");
	cfg = load_path(path);
	ck_assert_msg(cfg != NULL && n_reports == 0, "%s rejected:%s", path,
	    dump());
	ck_assert_str_eq(cfg->file, path);
	ck_assert_uint_eq(cfg->n_listen, 2);
	ck_assert_str_eq(sockaddr_format(&cfg->listen[0].addr.sa, buf,
	    sizeof(buf)), "127.0.0.1:1080");
	ck_assert_str_eq(sockaddr_format(&cfg->listen[1].addr.sa, buf,
	    sizeof(buf)), "[::1]:1080");
	ck_assert_int_eq(cfg->workers, 2);
	ck_assert_uint_eq(cfg->auth.n_methods, 1);
	ck_assert_uint_eq(cfg->auth.methods[0], SOCKS5_METHOD_NONE);
	ck_assert_int_eq(cfg->log.target, LOG_TARGET_STDERR);
	ck_assert_int_eq(cfg->log.level, LOG_LEVEL_INFO);
	ck_assert(cfg->log.access);
	ck_assert_str_eq(cfg->user, "nobody");
	ck_assert_str_eq(cfg->group, "nogroup");
	ck_assert(cfg->has_clients);
	ck_assert_uint_eq(cfg->n_clients, 2);
	config_free(cfg);
}
END_TEST

/*
 * Every key of the table is one the loader reads: a value of the wrong
 * type is reported under the key's name. (A key the table lists but no
 * loader reads would be accepted and ignored.)
 */
START_TEST(test_table_read)
{
	const struct config_key *k;
	int n = 0;

	for (k = config_keys; k->name != NULL; k++) {
		const char *dot = strchr(k->name, '.');
		const char *wrong = (k->type == CONFIG_KEY_INT ||
		    k->type == CONFIG_KEY_BOOL) ? "\"x\"" : "1";
		const struct config_key *g;
		char text[512], want[128];
		int i;

		if (dot == NULL) {
			snprintf(text, sizeof(text), "%s = %s;\n", k->name,
			    wrong);
			snprintf(want, sizeof(want), "'%s'", k->name);
		} else {
			char group[64];

			snprintf(group, sizeof(group), "%.*s",
			    (int)(dot - k->name), k->name);
			g = config_key_find("", group);
			ck_assert_ptr_nonnull(g);
			if (g->type == CONFIG_KEY_GROUPS) {
				snprintf(text, sizeof(text), "%s = ( { %s = "
				    "%s; } );\n", group, dot + 1, wrong);
				snprintf(want, sizeof(want), "'%s[0].%s'",
				    group, dot + 1);
			} else {
				snprintf(text, sizeof(text), "%s = { %s = %s; "
				    "};\n", group, dot + 1, wrong);
				snprintf(want, sizeof(want), "'%s'", k->name);
			}
		}
		ck_assert_ptr_null(load(text));
		for (i = 0; i < n_reports; i++)
			if (strncmp(reports[i].msg, want, strlen(want)) == 0)
				break;
		ck_assert_msg(i < n_reports, "%s: no report on %s:%s", text,
		    want, dump());
		n++;
	}
	ck_assert_int_ge(n, 60);
}
END_TEST

START_TEST(test_free_null)
{
	config_free(NULL);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_metrics_listen);
	tcase_add_test(tc, test_pam);
	tcase_add_test(tc, test_type_errors);
	tcase_add_test(tc, test_range_errors);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_several_errors);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_access_rules);
	tcase_add_test(tc, test_access_errors);
	tcase_add_test(tc, test_user_limits);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_open_proxy);
	tcase_add_test(tc, test_list_lines);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_dev_conf);
	tcase_add_test(tc, test_table_read);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_proxy_protocol);
	tcase_add_test(tc, test_bind_advertise);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(config_suite(), NULL);
}
