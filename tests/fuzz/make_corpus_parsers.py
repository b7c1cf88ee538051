#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpora for the parsers' harnesses: fuzz_config.c,
fuzz_users.c, fuzz_cidr.c, fuzz_status.c, fuzz_hosts.c and
fuzz_metrics_http.c.

Usage: make_corpus_parsers.py [--passwd PATH] [--only NAME] [OUTDIR]
(default OUTDIR: corpus/ next to this script; writes OUTDIR/config,
users, cidr, status, hosts and metrics_http, or only NAME). The
generated files are kept in the tree so that `make check` replays them
without python.

Seeds are real messages:
  config  the shipped conf/*.conf, and small files for every section, the
          @include's the harness provides (see fuzz_config.c), and the
          mistakes the loader must report;
  users   lines written by sockeye-passwd (PATH, default $SOCKEYE_PASSWD
          or the sockeye-passwd built in the top directory): with and
          without --chap, changed and deleted; lines of every other hash
          kind the users file accepts, made with libcrypt from fixed salts
          (as an admin would paste them from /etc/shadow); and the
          mistakes the loader must report;
  cidr    every network, port range and address written in the shipped
          configs, and the edge cases of each parser; host patterns as
          "PATTERN\\nNAME";
  status  every request the status socket accepts (any line; a last one
          without its newline), with byte 0 the harness's piece size, and
          user names for the JSON escape;
  hosts   the shapes of real /etc/hosts files (Debian, Docker, Kubernetes,
          an ad-blocking list) and the lines the parser must pass over;
  metrics_http  the requests real scrapers send (Prometheus 2.42's, as
          captured, curl's, wget's), every answer's case (HEAD, 404, 405,
          400, 431, 505) and malformed heads, with byte 0 the harness's
          piece size; and counters for the text (byte 0 with bit 7 set).
Everything is deterministic except sockeye-passwd's random salts.
"""
import ctypes
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))


def conf_files():
    d = os.path.join(TOP, "conf")
    return {f: open(os.path.join(d, f), "rb").read()
            for f in sorted(os.listdir(d)) if f.endswith(".conf")}


# --- config -----------------------------------------------------------

def config_corpus():
    c = {}
    for name, text in conf_files().items():
        c["shipped_" + name.replace(".conf", "").replace("-", "_")] = text
    c["minimal"] = b'listen = [ "127.0.0.1:1080" ];\n'
    c["all_sections"] = b"""listen = [ "127.0.0.1:0", "[::1]:1080" ];
workers = 4;
user = "sockeye"; group = "sockeye";
pid_file = "/run/sockeye/sockeyed.pid";
status_socket = "/run/sockeye/status.sock";
metrics_listen = "[::1]:9464";
shutdown_timeout_s = 30;
reload_drain_timeout_s = 3600;
log = { target = "/var/log/sockeye.log"; level = "debug"; access = false; };
auth = { methods = [ "chap", "password" ];
         users_file = "/etc/sockeye/users";
         chap_mutual = "require"; chap_server_secret = "";
         cache_ttl_s = 0; verify_threads = 4; };
resolver = { servers = [ "192.0.2.53", "[2001:db8::53]:5353", "::1" ];
             timeout_ms = 500; tries = 3; };
connect = { attempt_delay_ms = 100; resolution_delay_ms = 50;
            first_family_count = 2; prefer_family = "ipv4"; timeout_s = 10;
            bind_ipv4 = "192.0.2.1"; bind_ipv6 = "2001:db8::1"; };
commands = [ "connect", "udp_associate" ];
bind = { external_addresses = [ "192.0.2.1", "2001:db8::1" ];
         accept_timeout_s = 60; require_peer_match = false; };
udp = { idle_timeout_s = 60; filtering = "endpoint-independent";
        strict_source = true; external_address = "192.0.2.1";
        port_range = "40000-40999"; };
limits = { max_sessions = 1000; max_sessions_per_client = 10;
           handshake_timeout_s = 5; idle_timeout_s = 0;
           max_sessions_per_user = 5; user_bandwidth_bps = 1000000;
           client_prefix_ipv4 = 24; client_prefix_ipv6 = 48; };
clients = [ "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" ];
access = ( { action = "deny"; to = [ "127.0.0.0/8", "::1/128" ]; },
           { action = "allow"; users = [ "alice", "bob" ];
             from = [ "10.0.0.0/8" ]; to_hosts = [ "*.example.com" ];
             ports = [ "80", "443", "8000-8999" ];
             commands = [ "connect" ]; },
           { action = "allow"; users = [ "*" ]; } );
user_limits = ( { users = [ "alice" ]; max_sessions = 2;
                  bandwidth_bps = 500000; },
                { users = [ "*" ]; max_sessions = 0; } );
allow_open_proxy = false;
"""
    c["include_limits"] = b'@include "limits.conf"\nlisten = [ "127.0.0.1:1080" ];\n'
    c["include_access"] = b'listen = [ "127.0.0.1:1080" ];\n@include "access.conf"\n'
    c["include_secret_readable"] = b'@include "secret.conf"\n'
    c["include_broken"] = b'workers = 2;\n@include "broken.conf"\n'
    c["include_self"] = b'@include "again.conf"\nworkers = 1;\n'
    c["include_missing"] = b'@include "nothere.conf"\n'
    c["secret_in_main"] = b'auth = { methods = [ "chap" ]; chap_server_secret = "s3cr3t"; };\n'
    c["open_proxy"] = b'listen = [ "0.0.0.0:1080" ];\nauth = { methods = [ "none" ]; };\n'
    c["open_proxy_allowed"] = c["open_proxy"] + b"allow_open_proxy = true;\n"
    c["open_proxy_clients"] = c["open_proxy"] + b'clients = [ "192.0.2.0/24" ];\n'
    c["unknown_keys"] = b'wrokers = 2;\nconnect = { timeuot_s = 3; };\naccess = ( { action = "allow"; form = [ "10.0.0.0/8" ]; } );\n'
    c["wrong_types"] = b'workers = "2";\nlisten = "127.0.0.1:1080";\nlog = [ "stderr" ];\nauth = { methods = "password"; cache_ttl_s = 1.5; };\nallow_open_proxy = 1;\n'
    c["out_of_range"] = b"workers = 5000000000;\nshutdown_timeout_s = -1;\nlimits = { max_sessions = 0x7fffffff; client_prefix_ipv6 = 129; };\nresolver = { tries = 9999999999L; };\n"
    c["bad_values"] = b"""listen = [ "127.0.0.1", "::1:80", "[::1]:99999", "127.0.0.1:1080", "127.0.0.1:1080" ];
log = { target = "relative/path"; level = "loud"; };
auth = { methods = [ "gssapi", "none", "none" ]; chap_mutual = "maybe"; users_file = ""; };
resolver = { servers = [ "dns.example", "192.0.2.1:0" ]; };
connect = { bind_ipv4 = "::1"; bind_ipv6 = "10.0.0.1"; prefer_family = "ipx"; attempt_delay_ms = 10; };
commands = [ "connect", "connect", "ping" ];
bind = { external_addresses = [ "host" ]; };
udp = { port_range = "2000-1000"; external_address = "x"; filtering = "full-cone"; };
status_socket = "status.sock";
metrics_listen = "localhost:9464";
"""
    c["empty_lists"] = b'listen = [ ];\nauth = { methods = [ ]; };\ncommands = [ ];\nclients = [ ];\naccess = ( { action = "allow"; users = [ ]; ports = [ ]; } );\n'
    c["bad_rules"] = b"""access = ( { users = [ "alice" ]; },
           { action = "permit"; from = [ "10.0.0.0/33", "host" ]; to = [ "::/129" ]; },
           { action = "allow"; to_hosts = [ "bad host", "*." ]; ports = [ "0", "1-", "65536" ]; commands = [ "bind", "x" ]; },
           "not a group", 42 );
user_limits = ( { max_sessions = 3; }, { users = [ "bob" ]; bandwidth_bps = -5; } );
"""
    c["list_element_lines"] = b'clients = [\n  "10.0.0.0/8",\n  "bogus"\n];\nlisten = [\n  "127.0.0.1:1080",\n  1080\n];\n'
    c["syntax_error"] = b'listen = [ "127.0.0.1:1080" \nworkers = 2;\n'
    c["unterminated_string"] = b'user = "sockeye;\n'
    c["comments_only"] = b"# nothing\n// nothing\n/* nothing */\n"
    c["control_bytes"] = b'user = "a\\x01\\x1b[31mb";\nlog = { target = "\\n\\r"; level = "\\x7f"; };\n'
    c["deep_nesting"] = b"x = " + b"(" * 40 + b")" * 40 + b";\n"
    # libconfig 1.5 leaks a string token a syntax error follows (the
    # harness tells LeakSanitizer to pass over it): both of its sites.
    c["libconfig_leak_string"] = b'"a" "b"\n'
    c["libconfig_leak_empty_string"] = b'""\n'
    c["empty"] = b""
    return c


# --- users ------------------------------------------------------------

def find_passwd(argv):
    if "--passwd" in argv:
        i = argv.index("--passwd")
        path = argv[i + 1]
        del argv[i:i + 2]
        return path
    return os.environ.get("SOCKEYE_PASSWD") or \
        os.path.join(TOP, "sockeye-passwd")


def passwd_lines(tool):
    """A users file edited with sockeye-passwd, as an admin would."""
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "users")

        def run(*args, pw=None):
            subprocess.run([tool, "-f", f] + list(args), check=True,
                           input=(pw + "\n").encode() if pw else None,
                           stdout=subprocess.DEVNULL)

        run("add", "alice", pw="correct horse")
        run("add", "--chap", "bob", pw="battery staple")
        run("-c", "3", "add", "carol", pw="x")
        run("add", "--chap", "dave@example.com", pw="s" * 64)
        run("passwd", "--chap", "alice", pw="new secret")
        run("add", "erin", pw="gone soon")
        run("del", "erin")
        return open(f, "rb").read()


def crypt_lines():
    """One user per hash kind userdb accepts, from fixed salts."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong,
                                  ctypes.c_char_p, ctypes.c_int]
    rbytes = bytes(range(1, 33))
    out = {}
    for user, prefix, cost in (("yes", b"$y$", 5), ("gost", b"$gy$", 5),
                               ("scrypt", b"$7$", 6), ("bcrypt", b"$2b$", 4),
                               ("sha512", b"$6$", 1000),
                               ("sha256", b"$5$", 1000)):
        setting = lib.crypt_gensalt(prefix, cost, rbytes, len(rbytes))
        h = lib.crypt(b"password", setting) if setting else None
        if h is None or h.startswith(b"*"):
            print("libcrypt: no %s hashes here, skipped" % prefix.decode(),
                  file=sys.stderr)
            continue
        out[user] = user.encode() + b":" + h
    return out


KEY = b"{HMAC-MD5}" + b"0123456789abcdef" * 4


def users_corpus(tool):
    c = {}
    if not os.access(tool, os.X_OK):
        sys.exit("make_corpus_parsers.py: %s: no sockeye-passwd (build it, "
                 "or give --passwd PATH)" % tool)
    made = passwd_lines(tool)
    c["passwd_file"] = made
    for i, line in enumerate(made.splitlines()):
        c["passwd_line_%d" % i] = line + b"\n"
    kinds = crypt_lines()
    for user, line in sorted(kinds.items()):
        c["hash_" + user] = line + b"\n"
    c["hash_all_kinds"] = b"# every kind\n\n" + \
        b"\n".join(kinds[u] for u in sorted(kinds)) + b"\n"
    some = kinds.get("sha256", b"u:$5$salt$hash")
    h = some.split(b":", 1)[1]
    c["chap_line"] = b"u:" + h + b":" + KEY + b"\n"
    c["disabled"] = b"nologin:*\nlocked:!" + h + b"\nlocked2:!\n"
    c["comments_blanks"] = b"# users\n\n   \n\t# indented comment\nu:" + h + b"\n"
    c["no_final_newline"] = b"u:" + h
    c["empty_chap_field"] = b"u:" + h + b":\n"
    c["duplicate_user"] = b"u:" + h + b"\nv:*\nu:*\n"
    c["crlf"] = b"u:" + h + b"\r\n"
    # Regression: a hash without its ':' was quoted into the message.
    c["regress_no_colon_hash"] = b"alice" + h + b"\n"
    c["bad_lines"] = (b"noc\n:" + h + b"\n#x:" + h + b"\nsp ace:" + h +
                      b"\nu:\nu:md5crypt$1$x$y\nu:$5$bad char\nu:" + h +
                      b":{HMAC-MD5}abc\nu:" + h + b":{SHA1}" + b"0" * 64 +
                      b"\nu:" + h + b":" + KEY + b":more\nu:\x00x\n")
    c["long_name"] = b"n" * 255 + b":*\n" + b"m" * 256 + b":*\n"
    c["long_hash"] = b"u:$6$" + b"a" * 600 + b"\n"
    c["long_line"] = b"u:$6$" + b"a" * 1100 + b"\n"
    c["many_errors"] = b"bad\n" * 30
    c["empty"] = b""
    return c


# --- cidr -------------------------------------------------------------

def cidr_corpus():
    c = {}
    seen = set()
    # Every address-shaped string of the shipped configs.
    for text in conf_files().values():
        for s in re.findall(rb'"([0-9a-fA-F:.\[\]/%-]+)"', text):
            if s not in seen and any(ch in s for ch in b".:-0123456789"):
                seen.add(s)
    for i, s in enumerate(sorted(seen)):
        c["conf_%02d" % i] = s
    for name, s in (
            ("net_v4", b"10.0.0.0/8"), ("net_v4_host_bits", b"192.168.1.10/24"),
            ("net_v4_all", b"0.0.0.0/0"), ("net_v4_bare", b"192.0.2.7"),
            ("net_v4_33", b"10.0.0.0/33"), ("net_v4_lead0", b"10.0.0.0/08"),
            ("net_v6", b"2001:db8::/32"), ("net_v6_all", b"::/0"),
            ("net_v6_host", b"::1/128"), ("net_v6_mapped", b"::ffff:10.0.0.0/104"),
            ("net_v6_129", b"2001:db8::/129"), ("net_v6_odd", b"fe80::1/65"),
            ("net_empty_prefix", b"10.0.0.0/"), ("net_slash_only", b"/8"),
            ("net_two_slashes", b"10.0.0.0/8/8"), ("net_sign", b"10.0.0.0/+8"),
            ("ports_one", b"443"), ("ports_range", b"1024-65535"),
            ("ports_all", b"1-65535"), ("ports_backwards", b"65535-1"),
            ("ports_zero", b"0"), ("ports_big", b"65536"),
            ("ports_lead0", b"0080-00443"), ("ports_open", b"1024-"),
            ("ports_two_dashes", b"1-2-3"), ("ports_space", b" 80"),
            ("hostport_v4", b"127.0.0.1:1080"), ("hostport_v6", b"[::1]:1080"),
            ("hostport_zone", b"[fe80::1%2]:53"), ("hostport_v6_bare", b"::1:80"),
            ("hostport_port0", b"0.0.0.0:0"), ("hostport_bigport", b"127.0.0.1:65536"),
            ("hostport_ifname", b"[fe80::1%eth0]:53"), ("hostport_mapped", b"[::ffff:127.0.0.1]:80"),
            ("ip_brackets", b"[::1]"), ("ip_zone", b"fe80::1%4294967295"),
            ("ip_zone_big", b"fe80::1%4294967296"), ("ip_v4_short", b"127.1"),
            ("ip_v4_octal", b"010.0.0.1"), ("ip_v4_in_v6", b"::1.2.3.4"),
            ("hosts_suffix", b"*.example.com\nwww.example.com"),
            ("hosts_suffix_self", b"*.example.com\nexample.com"),
            ("hosts_exact_dots", b"example.com.\nEXAMPLE.COM"),
            ("hosts_star", b"*\nanything"), ("hosts_star_dot", b"*.\nx."),
            ("hosts_empty", b"\n"), ("hosts_dot_suffix", b"*..\na."),
            ("empty", b"")):
        c[name] = s
    return c


# --- status -----------------------------------------------------------

def status_corpus():
    c = {}
    whole, bytewise, small = b"\xff", b"\x00", b"\x06"
    c["statusq"] = whole + b"status\n"          # tests/helpers/statusq.py
    c["socat_echo"] = whole + b"status\n"
    c["empty_line"] = whole + b"\n"
    c["no_newline_eof"] = whole + b"status"
    c["crlf"] = whole + b"status\r\n"
    c["several"] = small + b"status\n\nstatus\r\nanything at all\n"
    c["several_bytewise"] = bytewise + b"a\nb\nc"
    c["longest_line"] = whole + b"x" * 255 + b"\n"
    c["too_long"] = whole + b"x" * 256 + b"\nstatus\n"
    c["too_long_eof"] = bytewise + b"y" * 300
    c["longest_then_more"] = small + b"z" * 255 + b"\n" + b"w" * 255 + b"\n"
    c["binary"] = whole + bytes(range(256))
    c["nul_in_line"] = whole + b"sta\x00tus\n"
    # User names as the JSON escape sees them (any worker may write any).
    c["name_utf8"] = whole + "j\u00fcrgen \u65e5\u672c \U0001f600".encode()
    c["name_quotes"] = whole + b'a"b\\c\x01\x1f\x7f'
    c["name_bad_utf8"] = whole + b"\xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xc3"
    c["name_fffd"] = whole + "\ufffd".encode() + b"\xff"
    c["empty"] = b""
    return c


# --- hosts ------------------------------------------------------------

def hosts_corpus():
    c = {}
    c["debian"] = b"""127.0.0.1\tlocalhost
127.0.1.1\tmyhost.example.org\tmyhost

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"""
    c["docker"] = b"""127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
172.17.0.2\t3f4e5d6c7b8a
"""
    c["kubernetes"] = b"""# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
10.244.1.7\tweb-5d9c8b7f6-x2x7q

# Entries added by HostAliases.
10.0.0.5\tdb.internal\tdb
"""
    c["this_machine"] = b"127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n"
    c["adblock"] = b"# ad-blocking list\n" + b"".join(
        b"0.0.0.0 ads%d.example.net\n" % i for i in range(40)) + \
        b"0.0.0.0 tracker.example.com tracker2.example.com\n"
    c["both_families"] = b"192.0.2.1 dual.example\n2001:db8::1 dual.example\n192.0.2.2 DUAL.example.\n2001:db8::2 dual.example\n"
    c["many_addresses"] = b"".join(b"192.0.2.%d many\n" % i for i in range(12)) + \
        b"".join(b"2001:db8::%x many\n" % i for i in range(12))
    c["comments"] = b"# comment\n  # indented\n192.0.2.1 a # trailing comment b\n192.0.2.2#c\n#192.0.2.3 d\n"
    c["whitespace"] = b"\t 192.0.2.1 \t a\t\tb \r\n192.0.2.2\r\n\r\n   \n192.0.2.3\tc\r"
    c["bad_addresses"] = b"300.1.1.1 a\n192.0.2 b\nfe80::1%eth0 c\nfe80::1%2 d\n[::1] e\n::ffff:192.0.2.1 f\n" + \
        b"x" * 70 + b" g\n"
    c["trailing_dots"] = b"192.0.2.1 a. b.. . .. c\n"
    c["long_names"] = b"192.0.2.1 " + b"n" * 253 + b" " + b"m" * 254 + b" " + b"o" * 253 + b".\n"
    c["no_final_newline"] = b"192.0.2.1 last"
    c["address_only"] = b"192.0.2.1\n::1\n"
    # Regression: a name holding a NUL answered for the name before it.
    c["regress_nul_in_name"] = b"::1 a\x00b a\n192.0.2.1 c\x00\n"
    c["empty"] = b""
    return c


# --- metrics_http -------------------------------------------------------

PROMETHEUS_GET = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n"
                  b"User-Agent: Prometheus/2.42.0+ds\r\n"
                  b"Accept: application/openmetrics-text;version=1.0.0,"
                  b"application/openmetrics-text;version=0.0.1;q=0.75,"
                  b"text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
                  b"Accept-Encoding: gzip\r\n"
                  b"X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")


def metrics_http_corpus():
    c = {}
    whole = b"\x7f"        # pieces of 128 bytes: as one read
    heads = {
        "prometheus": PROMETHEUS_GET,
        "curl": b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n"
                b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        "wget": b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n"
                b"User-Agent: Wget/1.21.3\r\nAccept: */*\r\n"
                b"Accept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n",
        "head": b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "http10": b"GET /metrics HTTP/1.0\r\n\r\n",
        "query": b"GET /metrics?collect[]=x&a=%20 HTTP/1.1\r\nHost: x\r\n\r\n",
        "absolute": b"GET http://127.0.0.1:9464/metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n\r\n",
        "lf_only": b"GET /metrics HTTP/1.1\nHost: x\n\n",
        "leading_crlf": b"\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "pipelined": b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "not_found": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "favicon": b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n",
        "post": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
        "options": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "no_host": b"GET /metrics HTTP/1.1\r\n\r\n",
        "two_hosts": b"GET /metrics HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        "http2_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "space_before_colon": b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
        "obs_fold": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
        "bare_cr": b"GET /metrics HTTP/1.1\rHost: x\r\n\r\n",
        "double_space": b"GET  /metrics HTTP/1.1\r\n\r\n",
        "http09": b"GET /metrics\r\n",
        "tls_hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) + b"\n",
        "nul": b"GET /metrics HTTP/1.1\r\nHost: \x00\r\n\r\n",
        "obs_text": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\r\n\r\n",
        "partial": b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
        "empty": b"",
        # The head limit: a head of exactly 4096 bytes, and one more.
        "limit_exact": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " +
                       b"a" * (4096 - 35 - 4) + b"\r\n\r\n",
        "limit_over": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " +
                      b"a" * (4096 - 35 - 3) + b"\r\n\r\n",
        "many_lines": b"GET /metrics HTTP/1.1\r\nHost: x\r\n" +
                      b"X: y\r\n" * 700 + b"\r\n",
        "blank_lines": b"\r\n" * 2100,
    }
    for name, data in heads.items():
        c[name] = whole + data
    # The same heads byte by byte, and in odd pieces.
    c["prometheus_bytewise"] = b"\x00" + PROMETHEUS_GET
    c["curl_pieces7"] = b"\x06" + heads["curl"]
    c["limit_pieces100"] = b"\x63" + heads["limit_over"]
    # Counters for the text: byte 0 has bit 7 set.
    c["render_zero"] = b"\x80" + b"\x00" * 64
    c["render_ones"] = b"\x80" + b"\xff" * 64
    c["render_small"] = b"\x80\x01\x00\x00\x00\x00\x00\x00\x00"
    c["render_pattern"] = b"\x80" + bytes(range(256))
    c["render_ms"] = b"\x80" + (1234).to_bytes(8, "little")
    return c


def main():
    argv = sys.argv[1:]
    only = None
    if "--only" in argv:
        i = argv.index("--only")
        only = argv[i + 1]
        del argv[i:i + 2]
    tool = find_passwd(argv)
    out = argv[0] if argv else os.path.join(HERE, "corpus")
    makers = (("config", config_corpus),
              ("users", lambda: users_corpus(tool)),
              ("cidr", cidr_corpus),
              ("status", status_corpus),
              ("hosts", hosts_corpus),
              ("metrics_http", metrics_http_corpus))
    for name, make in makers:
        if only is not None and name != only:
            continue
        corpus = make()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        for fname, data in sorted(corpus.items()):
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        print("%s: %d files in %s" % (name, len(corpus), d))


if __name__ == "__main__":
    main()
