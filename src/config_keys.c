/* SPDX-License-Identifier: ISC */
/*
 * config_keys.c - the keys this build knows, per group.
 */
#include "config_auto.h"

#include <stddef.h>

#include "config_int.h"

/* Keys this build knows, per group. */
const char *const config_keys_top[] = {
	"listen", "workers", "user", "group", "pid_file",
	"shutdown_timeout_s", "log", "auth", "resolver", "connect",
	"commands", "limits", "clients", "allow_open_proxy", "access",
	"user_limits", "bind", "udp", "status_socket",
	"reload_drain_timeout_s", NULL,
};
/* Keys DESIGN.md names that later builds will implement. */
const char *const config_keys_reserved[] = {
	NULL,
};
const char *const config_keys_log[] = {
	"target", "level", "access", NULL,
};
const char *const config_keys_auth[] = {
	"methods", "users_file", "chap_mutual", "chap_server_secret",
	"cache_ttl_s", "verify_threads", NULL,
};
const char *const config_keys_resolver[] = {
	"servers", "timeout_ms", "tries", NULL,
};
const char *const config_keys_connect[] = {
	"attempt_delay_ms", "resolution_delay_ms", "first_family_count",
	"prefer_family", "timeout_s", "bind_ipv4", "bind_ipv6", NULL,
};
const char *const config_keys_bind[] = {
	"external_addresses", "accept_timeout_s", "require_peer_match", NULL,
};
const char *const config_keys_udp[] = {
	"idle_timeout_s", "filtering", "strict_source", "external_address",
	"port_range", NULL,
};
const char *const config_keys_limits[] = {
	"max_sessions", "max_sessions_per_client", "handshake_timeout_s",
	"idle_timeout_s", "max_sessions_per_user", "user_bandwidth_bps",
	"client_prefix_ipv4", "client_prefix_ipv6", NULL,
};
const char *const config_keys_access[] = {
	"action", "users", "from", "to", "to_hosts", "ports", "commands", NULL,
};
const char *const config_keys_user_limits[] = {
	"users", "max_sessions", "bandwidth_bps", NULL,
};
