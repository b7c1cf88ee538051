#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""throughput - sockeyed next to danted and microsocks on loopback.

    throughput.py LOADGEN SOCKEYED SOCKEYE_PASSWD WORKDIR

Run by scenarios/throughput.sh (which builds LOADGEN from loadgen.c and
checks that it may run). Starts a loadgen server (echo and source), then
for each of BENCH_ROUNDS rounds measures, in the order direct, sockeyed,
danted, microsocks (A B C D A B C D ...):

  bulk8     8 downloads at once through the proxy: Gbit/s, and the proxy's
            CPU seconds (its whole process tree) per GB moved
  bulk1     1 download: Gbit/s
  sessions  32 clients opening sessions one after another (greeting,
            CONNECT, 16 bytes echoed, close): sessions/s, and the proxy's
            CPU microseconds per session
  password  the same with RFC 1929 (sockeyed: its users file and cache;
            microsocks: -u/-P; danted is not measured: it would need
            system accounts)
  idle      user-space memory (Private_Dirty, summed over the process
            tree) per idle relayed session, held at 1,000 and 10,000
  burst     5,000 sessions opened at once and closed; the tree's resident
            memory 10 s later against just before

and prints a Markdown table of medians with min-max, each figure also as
a ratio to direct loopback and sockeyed's to each peer. Any error (a
wrong byte, a refused request, a proxy that dies) ends the run with exit
1 and no table.
"""

import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
BULK8 = int(os.environ.get("BENCH_BULK8_BYTES", "500000000"))
BULK1 = int(os.environ.get("BENCH_BULK1_BYTES", "2000000000"))
IDLE = [int(x) for x in os.environ.get("BENCH_IDLE", "1000,10000").split(",")]
BURST = int(os.environ.get("BENCH_BURST", "5000"))
USER, PASSWORD = "bench", "bench-password-1"

LOADGEN, SOCKEYED, PASSWD, WORK = sys.argv[1:5]
procs = []


def die(msg):
    print("throughput: " + msg, file=sys.stderr, flush=True)
    cleanup()
    sys.exit(1)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what):
    for _ in range(100):
        if proc.poll() is not None:
            die("%s exited with status %d" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    die("%s is not listening on port %d" % (what, port))


def start(argv, what, port, **kw):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(WORK, what + ".log"), "w"),
                         **kw)
    procs.append(p)
    wait_port(port, p, what)
    return p


# ------------------------------------------------------------- process tree

def tree(pid):
    """pid and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_s(pid):
    """CPU seconds of the tree, and of its children that have exited."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        # utime stime cutime cstime are fields 14-17 (1-based)
        total += sum(int(x) for x in fields[11:15])
    return total / tick


def mem_kb(pid, key):
    total = 0
    for p in tree(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


# ------------------------------------------------------------- loadgen

def loadgen(*args, timeout=600):
    r = subprocess.run([LOADGEN] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        die("loadgen %s: %s" % (" ".join(map(str, args)), r.stderr.strip()))
    return dict(kv.split("=", 1) for kv in r.stdout.split())


def hold(proxy, echo, count, peer=False):
    """Open count sessions and keep them; returns the process. A peer
    that cannot hold them all is a result, not an error: then (None,
    why)."""
    p = subprocess.Popen([LOADGEN, "hold", "--proxy", str(proxy), "--port",
                          str(echo), "--count", str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        p.stdin.close()
        p.wait()
        why = p.stderr.read().strip()
        if peer:
            return None, why.replace("loadgen: ", "")
        die("loadgen hold %d: %s" % (count, why))
    return p, None


def release(p):
    p.stdin.close()
    if p.wait(120) != 0:
        die("loadgen hold: " + p.stderr.read().strip())


# ------------------------------------------------------------- proxies

def start_sockeyed():
    port = free_port()
    users = os.path.join(WORK, "users")
    if not os.path.exists(users):
        r = subprocess.run([PASSWD, "-f", users, "add", USER],
                           input=PASSWORD + "\n", capture_output=True,
                           text=True)
        if r.returncode != 0:
            die("sockeye-passwd: " + r.stderr.strip())
    conf = os.path.join(WORK, "sockeye.conf")
    with open(conf, "w") as f:
        f.write("""listen = [ "127.0.0.1:%d" ];
user = "nobody";
group = "nogroup";
pid_file = "%s/sockeyed.pid";
auth = { methods = [ "none", "password" ]; users_file = "%s"; };
log = { target = "stderr"; level = "warning"; access = true; };
clients = [ "127.0.0.0/8" ];
limits = { max_sessions = 100000; max_sessions_per_client = 100000; };
""" % (port, WORK, users))
    return start([SOCKEYED, "-F", "-f", conf], "sockeyed", port), port


def start_danted():
    # danted binds its outgoing sockets to the external address before it
    # connects, and bind(2) will not take a port that a closed connection
    # on that address still holds in TIME_WAIT: on 127.0.0.1, shared with
    # the other proxies' hundred thousand sessions, it soon answers REP 3.
    # An address of its own keeps it measurable.
    port = free_port()
    conf = os.path.join(WORK, "danted.conf")
    with open(conf, "w") as f:
        f.write("""logoutput: /dev/null
internal: 127.0.0.1 port = %d
external: 127.0.0.2
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
""" % port)
    return start([shutil.which("danted"), "-f", conf], "danted", port), port


def start_microsocks(auth):
    port = free_port()
    argv = [shutil.which("microsocks"), "-i", "127.0.0.1", "-p", str(port)]
    if auth:
        argv += ["-u", USER, "-P", PASSWORD]
    return start(argv, "microsocks" + ("-auth" if auth else ""), port), port


# ------------------------------------------------------------- measuring

def measure(name, proc, port, echo, source, auth_port, r):
    """One round of every figure for one proxy (proc None: direct)."""
    pid = proc.pid if proc else None
    via = ["--proxy", port] if proc else []

    c0 = cpu_s(pid) if pid else 0
    out = loadgen("bulk", *via, "--port", source, "--streams", 8, "--bytes",
                  BULK8)
    c1 = cpu_s(pid) if pid else 0
    r.setdefault("bulk8", []).append(float(out["gbps"]))
    if pid:
        r.setdefault("bulk8_cpu", []).append((c1 - c0) /
                                             (int(out["bytes"]) / 1e9))
    out = loadgen("bulk", *via, "--port", source, "--streams", 1, "--bytes",
                  BULK1)
    r.setdefault("bulk1", []).append(float(out["gbps"]))

    c0 = cpu_s(pid) if pid else 0
    out = loadgen("sessions", *via, "--port", echo, "--clients", 32,
                  "--seconds", SECONDS)
    c1 = cpu_s(pid) if pid else 0
    r.setdefault("sessions", []).append(float(out["per_s"]))
    if pid:
        r.setdefault("session_cpu", []).append((c1 - c0) * 1e6 /
                                               int(out["sessions"]))
    if auth_port:
        out = loadgen("sessions", "--proxy", auth_port, "--port", echo,
                      "--clients", 32, "--seconds", SECONDS, "--user", USER,
                      "--pass", PASSWORD)
        r.setdefault("password", []).append(float(out["per_s"]))
    if not pid:
        return
    for n in IDLE:
        time.sleep(1)
        m0 = mem_kb(pid, "Private_Dirty")
        h, why = hold(port, echo, n, name != "sockeyed")
        if h is None:
            r.setdefault("failed", {})["idle%d" % n] = why
            continue
        time.sleep(1)
        m1 = mem_kb(pid, "Private_Dirty")
        release(h)
        r.setdefault("idle%d" % n, []).append((m1 - m0) * 1024 / n)
    time.sleep(3)
    m0 = mem_kb(pid, "Rss")
    h, why = hold(port, echo, BURST, name != "sockeyed")
    if h is None:
        r.setdefault("failed", {})["burst"] = why
        return
    release(h)
    time.sleep(10)
    m1 = mem_kb(pid, "Rss")
    r.setdefault("burst", []).append((m1 - m0) * 100.0 / m0)
    if proc.poll() is not None:
        die("%s died during the round" % name)


ROWS = [
    # key, label, unit format, goal text, goal test on sockeyed's median
    ("bulk8", "bulk, 8 streams, Gbit/s", "%.1f", ">= 0.5x direct",
     lambda v, d: v >= 0.5 * d["bulk8"]),
    ("bulk8_cpu", "bulk, 8 streams, proxy CPU-s per GB", "%.2f", "<= 0.3",
     lambda v, d: v <= 0.3),
    ("bulk1", "bulk, 1 stream, Gbit/s", "%.1f", ">= 0.6x direct",
     lambda v, d: v >= 0.6 * d["bulk1"]),
    ("sessions", "sessions/s, 32 clients", "%.0f", ">= 0.5x direct",
     lambda v, d: v >= 0.5 * d["sessions"]),
    ("session_cpu", "proxy CPU-us per session, 32 clients", "%.0f", "<= 70",
     lambda v, d: v <= 70),
    ("password", "password sessions/s, 32 clients", "%.0f",
     ">= 0.9x its no-auth rate", None),
    ("idle1000", "user-space bytes per idle session (1,000)", "%.0f",
     "<= 2,048", lambda v, d: v <= 2048),
    ("idle10000", "user-space bytes per idle session (10,000)", "%.0f",
     "<= 2,048", lambda v, d: v <= 2048),
    ("burst", "RSS 10 s after 5,000 sessions, % over before", "%+.1f",
     "<= +10 %", lambda v, d: v <= 10),
]


def cell(vals, fmt):
    if not vals:
        return "-", None
    m = statistics.median(vals)
    return "%s (%s-%s)" % (fmt % m, fmt % min(vals), fmt % max(vals)), m


def main():
    os.makedirs(WORK, exist_ok=True)
    echo_file = os.path.join(WORK, "echo.port")
    source_file = os.path.join(WORK, "source.port")
    server = subprocess.Popen([LOADGEN, "serve", echo_file, source_file])
    procs.append(server)
    for _ in range(100):
        if os.path.exists(echo_file) and os.path.exists(source_file):
            break
        time.sleep(0.05)
    else:
        die("loadgen serve wrote no ports")
    echo = int(open(echo_file).read())
    source = int(open(source_file).read())

    sockeyed, sp = start_sockeyed()
    danted, dp = start_danted()
    micro, mp = start_microsocks(False)
    micro_auth, map_ = start_microsocks(True)
    names = ["direct", "sockeyed", "danted", "microsocks"]
    res = {n: {} for n in names}
    setup = {"direct": (None, None, None),
             "sockeyed": (sockeyed, sp, sp),
             "danted": (danted, dp, None),
             "microsocks": (micro, mp, map_)}
    for rnd in range(ROUNDS):
        for n in names:
            p, port, auth = setup[n]
            t0 = time.monotonic()
            measure(n, p, port, echo, source, auth, res[n])
            print("round %d %s: %.0f s" % (rnd + 1, n,
                                             time.monotonic() - t0),
                  file=sys.stderr, flush=True)

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print("Measured %s on %s, %d CPUs (%s), kernel %s; %d rounds, medians "
          "(min-max). Proxies and load share the machine." % (
              time.strftime("%Y-%m-%d"), platform.machine(),
              os.cpu_count(), cpu, platform.release(), ROUNDS))
    print()
    print("| figure | direct | sockeyed | danted | microsocks | "
          "sockeyed / danted | sockeyed / microsocks | goal | met |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    med = {n: {} for n in names}
    for n in names:
        for k, v in res[n].items():
            if k != "failed":
                med[n][k] = statistics.median(v)
    for key, label, fmt, goal, test in ROWS:
        cells = []
        for n in names:
            text, m = cell(res[n].get(key, []), fmt)
            d = med["direct"].get(key)
            if m is not None and d and n != "direct":
                text += " (%.2fx)" % (m / d)
            why = res[n].get("failed", {}).get(key)
            if why is not None:
                text = "failed: " + why if m is None else \
                    text + "; failed once: " + why
            cells.append(text)
        s = med["sockeyed"].get(key)
        ratios = []
        for peer in ("danted", "microsocks"):
            pv = med[peer].get(key)
            ratios.append("%.2f" % (s / pv) if s is not None and pv else "-")
        if key == "password":
            met = s is not None and s >= 0.9 * med["sockeyed"]["sessions"]
        else:
            met = s is not None and test(s, med["direct"])
        print("| %s | %s | %s | %s | %s |" % (
            label, " | ".join(cells), " | ".join(ratios), goal,
            "yes" if met else "no"))
    cleanup()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))
    try:
        main()
    except subprocess.TimeoutExpired as e:
        die("timed out: %s" % e)
