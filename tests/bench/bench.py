#!/usr/bin/env python3
"""ccy's benchmark driver. Runs in the test sandbox as user `dev` (started by
tests/bench/run on the host, never by the test suite); measures ccy against the
raw commands it replaces, in the same run, and writes the results as a
Markdown section (and JSON) for BENCHMARKS.md.

Every "attached" figure is measured on a real pseudo-terminal: the clock
starts just before the command is forked and stops when the bytes the tmux
client wrote to the terminal contain the session's status line
(`[ccy NAME]`, the image's tmux.conf `status-left`); then the driver types
the tmux prefix and `d` (detach) and waits for the command to exit.

Usage: bench.py [--runs N] [--quick-runs N] [--out DIR] [--only P1,P2,...]
"""

import argparse
import fcntl
import http.client
import json
import os
import platform
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import termios
import time
import urllib.parse
from pathlib import Path

HOME = Path.home()
QUADLET = HOME / ".config/containers/systemd"
STATE = HOME / ".local/state/ccy/sessions"
WORK = HOME / "bench"
BASE_IMAGE = os.environ.get("CCY_TEST_BASE_IMAGE", "localhost/ccy-test-base:latest")
CONFIG = f"""[image]
name = "localhost/ccy-bench:latest"
base = "{BASE_IMAGE}"
agent_install = ""

[agent]
command = ["bash", "-l"]
"""
ROWS, COLS = 40, 120
PREFIX_DETACH = b"\x02d"  # C-b d


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    """Runs a shell command, returns stdout (text)."""
    p = subprocess.run(cmd, shell=True, text=True, capture_output=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {cmd}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def timed(argv, cwd=None, env=None):
    """Wall time (s) of a command run to completion, output discarded."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{argv} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return dt


def timed_together(argvs, cwd=None):
    """Wall time (s) of commands started at once, until the last ends,
    output discarded."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(a, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for a in argvs]
    for a, p in zip(argvs, procs):
        err = p.communicate()[1]
        if p.returncode != 0:
            raise RuntimeError(f"{a} failed ({p.returncode}): {err.decode(errors='replace')}")
    return time.perf_counter() - t0


def term_env():
    env = dict(os.environ)
    env["TERM"] = "xterm-256color"
    env.pop("COLORTERM", None)
    return env


def pty_attach(argv, needle, cwd, env=None, timeout=90.0):
    """Runs argv on a new pseudo-terminal (ROWS x COLS, controlling
    terminal of a new session). Returns the seconds from just before the
    fork until the terminal output contains `needle` (bytes); then detaches
    (C-b d) and waits for the command to end."""
    env = env or term_env()
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(master)
            if slave > 2:
                os.close(slave)
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(slave)
    buf = b""
    found = None
    deadline = t0 + timeout
    try:
        while found is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"{argv}: no {needle!r} within {timeout}s; output:\n{tail(buf)}")
            r, _, _ = select.select([master], [], [], left)
            if not r:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                raise RuntimeError(f"{argv}: ended before {needle!r}; output:\n{tail(buf)}")
            buf += data
            if needle in buf[-(len(data) + len(needle)):]:
                found = time.perf_counter() - t0
        os.write(master, PREFIX_DETACH)
        ended, status = _wait_end(pid, master, 10)
        if not ended:
            # Seen on a session attached within milliseconds of its start
            # (the first attach after `ccy new --detach`; `--only P6,P1`):
            # the client draws the session, but the server does not list
            # it as a client, and C-b d reaches the pane as text. The time
            # to the status line is measured already; end the client
            # another way, say so, and count it, so the run completes.
            log(f"{argv[0]}: not detached 10 s after C-b d (the keys reached the pane); "
                "detaching with tmux detach-client, then SIGHUP")
            DETACH_FALLBACKS.append(argv[0])
            name = needle.decode(errors="replace").removeprefix("[ccy ").split("]")[0]
            sh(f"podman exec {name} tmux detach-client -s main", check=False)
            ended, status = _wait_end(pid, master, 5)
            if not ended:
                os.kill(pid, signal.SIGHUP)
                ended, status = _wait_end(pid, master, 10)
            if not ended:
                raise RuntimeError(f"{argv}: did not end after detaching, detach-client and SIGHUP")
            pid = 0
        else:
            pid = 0
            if status != 0:
                raise RuntimeError(f"{argv} exited {status} after detaching")
    finally:
        if pid:
            _kill(pid)
        os.close(master)
    return found


# Attaches whose detach keys were lost (see pty_attach), for results.json.
DETACH_FALLBACKS = []


def _wait_end(pid, master, secs):
    """Drains the terminal until `pid` exits or `secs` pass. Returns
    (ended, exit code)."""
    end = time.perf_counter() + secs
    while time.perf_counter() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                os.read(master, 65536)
            except OSError:
                pass
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return True, os.waitstatus_to_exitcode(status)
    return False, None


def _kill(pid):
    """Kills and reaps a child that is still running (after a failure)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def tail(b, n=2000):
    return b[-n:].decode(errors="replace")


def git_repo(path):
    """A fresh git repository with one commit at `path`."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    sh(
        f"cd {path} && git init -q -b main && echo bench >README.md && git add README.md && "
        "git -c user.name=dev -c user.email=dev@bench commit -q -m init"
    )
    return path


def stats(xs):
    xs = list(xs)
    return {
        "median": statistics.median(xs),
        "min": min(xs),
        "max": max(xs),
        "n": len(xs),
        "all": xs,
    }


def reloads_since(since_epoch, comm):
    """The daemon-reloads of dev's user manager requested by a process named
    `comm` since a time (its journal lines "Reload requested from client
    PID N ('ccy')")."""
    out = sh(
        f"journalctl --user -q -o cat --since @{since_epoch:.3f} "
        f"| grep -c \"^Reload requested from client PID [0-9]* ('{comm}')\" || true"
    )
    return int(out.strip() or 0)


def ccy_reloads_since(since_epoch):
    """The reloads ccy requested since a time: reloads once more with
    systemctl and waits for that in the journal first (the manager's lines
    reach it in order, so ccy's, earlier, are there too). Not timed."""
    sh("systemctl --user daemon-reload")
    end = time.time() + 10
    while reloads_since(since_epoch, "systemctl") < 1 and time.time() < end:
        time.sleep(0.1)
    return reloads_since(since_epoch, "ccy")


def unit_text(name):
    return sh(f"systemctl --user cat {name}.service", check=False)


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


class Reference:
    """A session created by ccy whose unit files are the template for the
    fixture and naive sessions (same image, mounts, labels, command)."""

    def __init__(self, name, worktree, container, volume):
        self.name = name
        self.worktree = worktree
        self.project = worktree.name
        self.container = container
        self.volume = volume

    def write(self, new, created=None, worktree=None):
        """Writes NEW.container / NEW.volume: ccy's files with the name
        replaced (and the metadata's creation time and the worktree, when
        given), and an agent status (`agent.json`, as the agent's hook
        writes it: issue 13) in its state directory."""
        c = self.container.replace(self.name, new)
        v = self.volume.replace(self.name, new)
        if worktree:
            c = c.replace(str(self.worktree), str(worktree))
        if created:
            c = re.sub(r'"created":"[^"]*"', f'"created":"{created}"', c)
        (STATE / new).mkdir(parents=True, exist_ok=True)
        now = int(time.time())
        (STATE / new / "agent.json").write_text(json.dumps(
            {"state": "done", "since": now - 60, "updated": now - 60, "event": "Stop",
             "message": "Finished the benchmark's task.", "source": "hook"}) + "\n")
        (QUADLET / f"{new}.volume").write_text(v)
        (QUADLET / f"{new}.container").write_text(c)
        if f"Image=localhost/ccy-kept:{new}" in c:
            # Each session runs its own image (its kept layer), which ccy
            # tags from the clean image when it creates the session.
            tag_image(self.clean_image, "localhost/ccy-kept", new)

    @property
    def clean_image(self):
        return json.loads(next(l for l in self.container.splitlines()
                               if l.startswith("# ccy-session-v1 "))[17:])["image"]


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)


def tag_image(image, repo, tag):
    """`podman tag IMAGE REPO:TAG` through Podman's API (300 processes
    would take a while)."""
    c = _UnixHTTP(os.environ["XDG_RUNTIME_DIR"] + "/podman/podman.sock")
    q = urllib.parse.urlencode({"repo": repo, "tag": tag})
    c.request("POST", f"/v5.0.0/libpod/images/{urllib.parse.quote(image, safe='')}/tag?{q}")
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 201:
        raise RuntimeError(f"tag {image} as {repo}:{tag}: HTTP {r.status}")


def create_state_volumes(names, project):
    """Creates the sessions' state volumes (labelled as their .volume units
    would) through Podman's API: a stopped session's volume exists, and
    300 `podman volume create` processes would take minutes."""
    c = _UnixHTTP(os.environ["XDG_RUNTIME_DIR"] + "/podman/podman.sock")
    for n in names:
        body = json.dumps({"Name": f"{n}-state",
                           "Label": {"ccy.session": n, "ccy.project": project}})
        c.request("POST", "/v5.0.0/libpod/volumes/create", body,
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status not in (201, 409, 500):
            raise RuntimeError(f"volume create {n}: HTTP {r.status}")
    c.close()


def fixture_repo():
    """The clean worktree the fixture sessions name (nothing to lose, so
    prune may remove them)."""
    path = WORK / "fixture"
    if not path.exists():
        git_repo(path)
        sh(f"echo .claude/ >>{path}/.git/info/exclude")
    return path


def ccy_sessions():
    return json.loads(sh("ccy list --json"))


def remove_sessions(names):
    """Stops and removes sessions by files (fixture cleanup, not timed)."""
    if not names:
        return
    units = " ".join(f"{n}.service {n}-volume.service" for n in names)
    sh(f"systemctl --user stop {units}", check=False)
    for n in names:
        for ext in ("container", "volume"):
            (QUADLET / f"{n}.{ext}").unlink(missing_ok=True)
        shutil.rmtree(STATE / n, ignore_errors=True)
    sh("systemctl --user daemon-reload && systemctl --user reset-failed", check=False)
    vols = " ".join(f"{n}-state" for n in names)
    sh(f"podman volume rm -f {vols} >/dev/null 2>&1", check=False)
    images = " ".join(f"localhost/ccy-kept:{n}" for n in names)
    sh(f"podman rmi -i {images} >/dev/null 2>&1", check=False)


def wait_ready(names, timeout=600):
    end = time.time() + timeout
    for n in names:
        while not (STATE / n / "ready").exists():
            if time.time() > end:
                raise RuntimeError(f"{n} never became ready")
            time.sleep(0.05)


def settle():
    """Lets the session's attach/detach hooks finish before the next run."""
    time.sleep(0.5)


# --------------------------------------------------------------------------
# the measurements
# --------------------------------------------------------------------------


def p6(res, runs):
    log("P6: ccy --version, ccy list with no sessions")
    repo = WORK / "p6"
    git_repo(repo)
    for _ in range(3):  # warm the page cache and Podman's API service
        timed(["ccy", "list"], cwd=repo)
    ver, lst, podman_ver = [], [], []
    for _ in range(runs):
        ver.append(timed(["ccy", "--version"], cwd=repo))
        lst.append(timed(["ccy", "list"], cwd=repo))
        podman_ver.append(timed(["podman", "--version"], cwd=repo))
    res["P6_version"] = {"ccy": stats(ver), "goal_ms": 5}
    res["P6_list_empty"] = {"ccy": stats(lst), "goal_ms": 30, "podman_version": stats(podman_ver)}
    # A first `ccy list` after Podman's API service went idle (it exits
    # 5 s after its last request): what a user typing it now and then gets.
    cold = []
    for _ in range(max(3, runs // 4)):
        sh("systemctl --user stop podman.service", check=False)
        cold.append(timed(["ccy", "list"], cwd=repo))
    res["P6_list_empty_cold_api"] = {"ccy": stats(cold)}


PEER_TIMER = """
import json, subprocess, sys, time
n = int(sys.argv[1])
def run():
    t0 = time.perf_counter()
    subprocess.run(["ccy", "list", "--json"], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0
for _ in range(3):
    run()
print(json.dumps([run() for _ in range(n)]))
"""


def p9(res, runs, repo):
    """`ccy list --all-hosts --json` across 2 hosts (this guest and the
    peer guest, over real ssh) against the slower of the two hosts' own
    `ccy list --json`, each timed on its host (the peer's by a loop run
    there, so no ssh in it). Measured twice: warm (ccy's shared ssh
    connection to the peer open, as for every run within 10 minutes of
    the last) and first (no connection: each run preceded by closing it,
    so each logs in). Also the parts of one remote call, for the
    breakdown: an ssh login running `true`, `true` and `ccy list --json`
    through an open connection, `ssh -G`, and the floor of a warm call
    (the remote listing through the open connection and this guest's
    own, started together by this driver, in turn with the warm call)."""
    port = os.environ.get("CCY_BENCH_PEER_SSH_PORT")
    if not port:
        log("P11 skipped: no peer guest (CCY_BENCH_PEER_SSH_PORT)")
        return
    log("P11: ccy list --all-hosts across 2 hosts vs each host's ccy list --json")
    cfg = HOME / ".config/ccy/config.toml"
    saved = cfg.read_text()
    cfg.write_text(saved + f'\n[hosts.peer]\nssh = "dev@127.0.0.1"\noptions = ["-p", "{port}"]\n')
    control = Path(os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")) / "ccy"
    ssh = ["ssh", "-T", "-p", port, "-o", "BatchMode=yes"]

    def close_shared():
        # ccy's shared connections (ssh -O exit: the master ends, its
        # socket is removed).
        for sock in control.glob("ssh-*"):
            subprocess.run(["ssh", "-O", "exit", "-S", str(sock), "x"], capture_output=True, timeout=10)

    try:
        for _ in range(3):  # warm both hosts, the page caches, Podman's API services
            timed(["ccy", "list", "--all-hosts", "--json"], cwd=repo)
        local, every, first, floor = [], [], [], []
        socks = list(control.glob("ssh-*"))
        mux = ssh + ["-S", str(socks[0])] if socks else None
        for i in range(runs):
            a, b = in_turn(i, lambda: timed(["ccy", "list", "--json"], cwd=repo),
                           lambda: timed(["ccy", "list", "--all-hosts", "--json"], cwd=repo))
            local.append(a)
            every.append(b)
            if mux:
                # The floor of one warm call: the remote listing through
                # the open connection and this guest's own listing, both
                # started at once by this driver (no ccy around them).
                floor.append(timed_together(
                    [mux + ["dev@127.0.0.1", "ccy list --json --with-version"],
                     ["ccy", "list", "--json"]], cwd=repo))
                settle()
        for _ in range(runs):
            close_shared()
            settle()
            first.append(timed(["ccy", "list", "--all-hosts", "--json"], cwd=repo))
        socks = list(control.glob("ssh-*"))
        mux = ssh + ["-S", str(socks[0])] if socks else None
        parts = {"login_true": [], "mux_true": [], "mux_list": [], "ssh_G": [], "floor": floor}
        for _ in range(runs):
            parts["login_true"].append(timed(ssh + ["-o", "ControlPath=none", "dev@127.0.0.1", "true"]))
            parts["ssh_G"].append(timed(["ssh", "-G", "-p", port, "dev@127.0.0.1"]))
            if mux:
                parts["mux_true"].append(timed(mux + ["dev@127.0.0.1", "true"]))
                parts["mux_list"].append(timed(mux + ["dev@127.0.0.1", "ccy list --json"]))
        peer = json.loads(subprocess.run(
            ssh + ["dev@127.0.0.1", "python3", "-", str(runs)],
            input=PEER_TIMER, text=True, capture_output=True, check=True).stdout)
    finally:
        cfg.write_text(saved)
        close_shared()
    slower = max(stats(local), stats(peer), key=lambda s: s["median"])
    res["P11"] = {"ccy": stats(every), "raw": slower, "local": stats(local), "peer": stats(peer),
                  "goal_ratio": 1.3}
    res["P11_first"] = {"ccy": stats(first), "raw": slower}
    res["P11_parts"] = {k: stats(v) for k, v in parts.items() if v}


def make_reference():
    log("reference session (builds the image on first use; not timed)")
    repo = git_repo(WORK / "ref")
    sh(f"cd {repo} && ccy new --detach </dev/null")
    name = json.loads(sh(f"cd {repo} && ccy list --here --json"))[0]["name"]
    # P1 measures resuming a settled session: a client attached within
    # milliseconds of the session's start can miss its detach keys (see
    # pty_attach).
    time.sleep(2)
    ref = Reference(
        name,
        repo,
        (QUADLET / f"{name}.container").read_text(),
        (QUADLET / f"{name}.volume").read_text(),
    )
    return ref, repo


def in_turn(i, first, second):
    """Runs both (each followed by a pause), `second` first when `i` is
    odd; returns their results as (first, second)."""
    if i % 2:
        b = second()
        settle()
        a = first()
        settle()
    else:
        a = first()
        settle()
        b = second()
        settle()
    return a, b


def p1(res, runs, ref, repo):
    log(f"P1: resume {ref.name}: ccy vs podman exec -it … tmux attach")
    needle = f"[ccy {ref.name}]".encode()
    raw = ["podman", "exec", "-it", "--detach-keys=", "-e", "TERM=xterm-256color",
           ref.name, "tmux", "-u", "attach", "-t", "main"]
    # The physical anchor: the bare tmux client on the session's socket
    # (what ccy execs in the end, `src/host/tmux.rs`).
    bare = ["tmux", "-u", "-S", str(STATE / ref.name / "tmux-0/default"), "attach", "-t", "main"]
    ccy_t, raw_t, bare_t = [], [], []
    for i in range(runs + 1):
        # Rotate which goes first, so none always follows another.
        order = ["ccy", "raw", "bare"]
        order = order[i % 3:] + order[:i % 3]
        got = {}
        for k in order:
            argv = {"ccy": ["ccy"], "raw": raw, "bare": bare}[k]
            got[k] = pty_attach(argv, needle, repo)
            settle()
        if i > 0:  # the first round warms caches
            ccy_t.append(got["ccy"])
            raw_t.append(got["raw"])
            bare_t.append(got["bare"])
    res["P1"] = {"ccy": stats(ccy_t), "raw": stats(raw_t), "goal_ratio": 1.10,
                 "raw_cmd": " ".join(raw)}
    res["P1_bare"] = {"ccy": stats(ccy_t), "raw": stats(bare_t), "goal_ratio": 1.2,
                      "raw_cmd": " ".join(bare)}


NAIVE = r"""set -e
n=$1 q=$HOME/.config/containers/systemd
mkdir -p "$HOME/.local/state/ccy/sessions/$n"
cat "$2" >"$q/$n.volume"
cat "$3" >"$q/$n.container"
systemctl --user daemon-reload
systemctl --user start "$n.service"
until [ -e "$HOME/.local/state/ccy/sessions/$n/ready" ]; do sleep 0.01; done
exec podman exec -it --detach-keys= -e TERM=xterm-256color "$n" tmux -u attach -t main
"""


def p2(res, runs, ref):
    log("P2: new session -> attached: ccy vs write files + daemon-reload + start + exec")
    tmp = WORK / "naive"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "naive.sh").write_text(NAIVE)
    reloads = []

    def ccy(i, api):
        # `api`: "warm" (Podman's API service running, as right after any
        # other ccy or podman-remote use) or "cold" (it exited after 5 s
        # idle, as after a while without one).
        repo = git_repo(WORK / f"{api[0]}{i}")
        if api == "cold":
            sh("systemctl --user stop podman.service", check=False)
        else:
            timed(["ccy", "list"])
        since = time.time()
        t = pty_attach(["ccy"], f"[ccy ccy-{api[0]}{i}-".encode(), repo)
        settle()
        reloads.append(ccy_reloads_since(since))
        mine = [s["name"] for s in ccy_sessions() if s["worktree"] == str(repo)]
        sh(f"ccy rm --force {' '.join(mine)}")
        return t

    def naive(i):
        n = f"ccy-naive-{i:02d}"
        (tmp / "v").write_text(ref.volume.replace(ref.name, n))
        (tmp / "c").write_text(ref.container.replace(ref.name, n))
        # ccy tags the session's own image when it creates a session: not
        # part of the naive steps, done before the clock starts.
        tag_image(ref.clean_image, "localhost/ccy-kept", n)
        t = pty_attach(["bash", str(tmp / "naive.sh"), n, str(tmp / "v"), str(tmp / "c")],
                       f"[ccy {n}]".encode(), WORK)
        settle()
        remove_sessions([n])
        return t

    kinds = ["warm", "cold", "naive"]
    got = {k: [] for k in kinds}
    for i in range(runs + 1):
        order = kinds[i % 3:] + kinds[:i % 3]  # rotate who goes first
        for k in order:
            t = naive(i) if k == "naive" else ccy(i, k)
            if i > 0:
                got[k].append(t)
    res["P2"] = {"ccy": stats(got["warm"]), "naive": stats(got["naive"]), "goal_ratio": 0.8,
                 "ccy_reloads": reloads}
    res["P2_cold"] = {"ccy": stats(got["cold"]), "naive": stats(got["naive"]), "goal_ratio": 0.8}


def traced(argv, cwd):
    """ccy's own phase timestamps (CCY_TRACE=1) for one run of argv."""
    env = {**os.environ, "CCY_TRACE": "1"}
    p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, text=True,
                       capture_output=True)
    return [l.removeprefix("ccy: trace: ").strip() for l in p.stderr.splitlines()
            if l.startswith("ccy: trace:")]


def profile(res, label):
    """Where the time of a new session and of a stop goes (one traced run
    each; `ccy new --detach` does what `ccy` does before attaching)."""
    log(f"profile ({label})")
    out = {}
    for api in ("warm", "cold"):
        repo = git_repo(WORK / f"prof-{api}")
        if api == "cold":
            sh("systemctl --user stop podman.service", check=False)
        else:
            timed(["ccy", "list"])
        out[f"ccy new --detach, API {api}"] = traced(["ccy", "new", "--detach"], repo)
        name = [s["name"] for s in ccy_sessions() if s["worktree"] == str(repo)][0]
        time.sleep(1)
        if api == "cold":
            sh("systemctl --user stop podman.service", check=False)
        out[f"ccy stop NAME, API {api}"] = traced(["ccy", "stop", name], repo)
        sh(f"ccy rm --force {name}")
    res.setdefault("profiles", {})[label] = out


def daemon_reloads(runs):
    return stats(timed(["systemctl", "--user", "daemon-reload"]) for _ in range(runs))


def p3_p4(res, runs, ref, total=300, running=100, p4=True):
    """P3 (and P4 when `p4`) with a fixture of `total` sessions, `running`
    of them started; returns the fixture's names (all stopped after)."""
    suffix = "" if total == 300 else f"_{total}"
    log(f"P3/P4: fixture of {total} sessions from the reference's unit files")
    names = [f"ccy-fix-{i:03d}" for i in range(total)]
    fixture = fixture_repo()
    for n in names:
        ref.write(n, worktree=fixture)
    res["reload_300" + suffix] = {"raw": daemon_reloads(runs)}
    log(f"starting {running} of them")
    up = names[:running]
    for i in range(0, running, 10):
        sh("systemctl --user start " + " ".join(f"{n}.service" for n in up[i:i + 10]))
    wait_ready(up)
    time.sleep(3)
    got = ccy_sessions()
    assert len(got) >= total, f"ccy list shows {len(got)} sessions, expected >= {total}"
    n_running = sum(1 for s in got if s["state"] == "running")
    ps = json.loads(sh("podman ps -a --format json"))
    res["P3_fixture" + suffix] = {"sessions": len(got), "running": n_running, "containers": len(ps),
                                  "with_agent_status": sum(1 for s in got if s.get("agent_source"))}
    log("P3: ccy list --json vs podman ps -a --format json")
    ccy_t, raw_t = [], []
    for i in range(runs + 1):
        a, b = in_turn(i, lambda: timed(["ccy", "list", "--json"]),
                       lambda: timed(["podman", "ps", "-a", "--format", "json"]))
        if i > 0:
            ccy_t.append(a)
            raw_t.append(b)
    res["P3" + suffix] = {"ccy": stats(ccy_t), "raw": stats(raw_t), "goal_ratio": 0.3}
    # Where the time goes: one more listing, traced.
    lines = traced(["ccy", "list", "--json"], WORK)
    for line in lines:
        log(f"P3 trace: {line}")
    res.setdefault("profiles", {}).setdefault(f"P3, {total} sessions ({running} running)", {})[
        "ccy list --json"] = lines
    rest = up
    if p4:
        log("P4: ccy stop vs systemctl --user stop")
        ccy_t, raw_t = [], []
        for i in range(runs):
            ccy_t.append(timed(["ccy", "stop", up[2 * i]]))
            raw_t.append(timed(["systemctl", "--user", "stop", f"{up[2 * i + 1]}.service"]))
        res["P4"] = {"ccy": stats(ccy_t), "raw": stats(raw_t), "goal_s": 1.0}
        rest = up[2 * runs:]
    log("stopping the rest")
    for i in range(0, len(rest), 20):
        sh("systemctl --user stop " + " ".join(f"{n}.service" for n in rest[i:i + 20]))
    return names


def p7_p8(res, runs):
    """P7: `ccy stop` of a session that wrote 200 MB outside its volumes
    (the stop commits them into its kept layer). P8: starting a stopped
    session (`ccy` without a terminal: start, wait for tmux) with a kept
    layer of 200 MB in 3 layers, against a clean one."""
    log("P7: ccy stop after a 200 MB change in the container's layer")
    repo = git_repo(WORK / "p7")
    sh(f"cd {repo} && ccy new --detach </dev/null")
    name = [s["name"] for s in ccy_sessions() if s["worktree"] == str(repo)][0]
    clean = json.loads(sh(f"ccy status --json {name}"))["image"]
    clean = sh(f"podman image inspect --format '{{{{.Id}}}}' {clean}").strip()
    stop_t = []
    for i in range(runs):
        sh(f"ccy stop {name} >/dev/null")
        # Back to the clean image (what `attach --fresh` does), so that each
        # run commits 200 MB onto the same image.
        sh(f"podman tag {clean} localhost/ccy-kept:{name}")
        sh(f"podman image prune -f --filter label=ccy.kept.session={name} >/dev/null")
        sh(f"cd {repo} && ccy </dev/null >/dev/null")
        sh(f"podman exec {name} sh -c 'head -c 200000000 /dev/urandom >/root/big'")
        settle()
        stop_t.append(timed(["ccy", "stop", name]))
    res["P7"] = {"ccy": stats(stop_t)}

    log("P8: start with a 200 MB kept layer (3 layers) vs a clean session")
    # The kept session: P7's, whose last stop kept 200 MB; two more layers.
    for f in ("a", "b"):
        sh(f"cd {repo} && ccy </dev/null >/dev/null")
        sh(f"podman exec {name} sh -c 'echo {f} >/root/{f}'")
        sh(f"ccy stop {name} >/dev/null")
    layers = json.loads(sh(f"ccy status --json {name}"))["kept_layer_bytes"]
    other = git_repo(WORK / "p8")
    sh(f"cd {other} && ccy new --detach </dev/null")
    plain = [s["name"] for s in ccy_sessions() if s["worktree"] == str(other)][0]
    sh(f"ccy stop {plain} >/dev/null")
    kept_t, plain_t = [], []
    for i in range(runs + 1):
        def start(r, n):
            def go():
                t = timed(["ccy"], cwd=r)
                sh(f"ccy stop {n} >/dev/null")
                return t
            return go
        a, b = in_turn(i, start(repo, name), start(other, plain))
        if i > 0:
            kept_t.append(a)
            plain_t.append(b)
    res["P8"] = {"ccy": stats(kept_t), "raw": stats(plain_t), "kept_bytes": layers}
    sh(f"ccy rm --force {name} {plain} >/dev/null")


def cgroup_usage_usec(unit):
    """CPU time the unit's cgroup has used (cpu.stat usage_usec)."""
    cg = sh(f"systemctl --user show -p ControlGroup --value {unit}").strip()
    for line in open(f"/sys/fs/cgroup{cg}/cpu.stat"):
        k, v = line.split()
        if k == "usage_usec":
            return int(v)
    raise RuntimeError(f"no usage_usec for {unit}")


HOOK_LOOP = r"""
n=$1; state=$2; other=$3
i=0
while [ "$i" -lt "$n" ]; do
  s=$(date +%s%N)
  if [ -n "$state" ]; then
    echo '{"hook_event_name":"PreToolUse","tool_name":"Bash"}' | /etc/ccy/agent-hook "$state" PreToolUse
    [ -n "$other" ] && { t=$state; state=$other; other=$t; }
  fi
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
  i=$((i + 1))
done
"""


def p9_p10(res, runs):
    """P9: the cost of one call of the agent's hook (/etc/ccy/agent-hook),
    timed inside the container (date +%s%N around each call, less the same
    with no call): a heartbeat (same state) and a change of state (which
    also sets the tmux status line's options). P10: CPU time an idle
    session (bash as its agent, nobody attached) uses per minute, from its
    unit's cgroup cpu.stat."""
    log("P9/P10: the agent hook's cost; an idle session's CPU per minute")
    repo = git_repo(WORK / "p9")
    sh(f"cd {repo} && ccy new --detach </dev/null")
    name = [s["name"] for s in ccy_sessions() if s["worktree"] == str(repo)][0]
    n = max(50, runs * 40)

    def loop(state, other):
        args = " ".join(shlex.quote(x) for x in [HOOK_LOOP, "sh", str(n), state, other])
        out = sh(f"podman exec {name} sh -c {args}")
        return sorted(int(x) / 1e6 for x in out.split())

    base = loop("", "")
    beat = loop("busy", "")
    change = loop("busy", "done")
    res["P9"] = {"beat": stats(beat), "change": stats(change), "base": stats(base), "n": n}
    # P9: from the hook's event to its state in `ccy list --json`. The
    # shell in the container notes the time (same kernel clock as here)
    # just before it calls the hook; `ccy list --json` runs back to back
    # here until the session shows the new state. Alternating states, so
    # each is a change.
    t0file = STATE / name / "bench-t0"
    events = {"busy": "UserPromptSubmit", "done": "Stop"}
    lat = []
    for i in range(max(20, runs * 8)):
        st = "busy" if i % 2 == 0 else "done"
        ev = events[st]
        script = (f"date +%s%N >/run/ccy/bench-t0; "
                  f"echo '{{\"hook_event_name\":\"{ev}\"}}' | /etc/ccy/agent-hook {st} {ev}")
        p = subprocess.Popen(["podman", "exec", name, "sh", "-c", script],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = None
        deadline = time.time() + 20
        while time.time() < deadline:
            out = subprocess.run(["ccy", "list", "--json"], capture_output=True, text=True).stdout
            if any(x["name"] == name and x.get("agent_state") == st for x in json.loads(out)):
                seen = time.time_ns()
                break
        p.wait()
        if seen is None:
            raise RuntimeError(f"P9 latency: {name} never showed {st}")
        lat.append((seen - int(t0file.read_text())) / 1e9)
        settle()
    res["P9_latency"] = stats(lat)
    # P10: settle (the panes' quiet alert comes 5 s after the last output),
    # then one minute of nothing.
    time.sleep(15)
    unit = f"{name}.service"
    a = cgroup_usage_usec(unit)
    time.sleep(60)
    b = cgroup_usage_usec(unit)
    res["P10"] = {"ms_per_min": (b - a) / 1000}
    sh(f"ccy rm --force {name} >/dev/null")


def p5(res, runs, ref, names):
    suffix = "" if len(names) == 300 else f"_{len(names)}"
    have_prune = subprocess.run(["ccy", "prune", "--help"], capture_output=True).returncode == 0
    if not have_prune:
        log("P5: this ccy has no prune; only the daemon-reload baseline is measured")
        res["P5"] = {"missing": "ccy prune is not in this build"}
        return
    log(f"P5: ccy prune of {len(names)} stopped sessions")
    old = "2020-01-01T00:00:00Z"
    fixture = fixture_repo()
    times, reloads, left, vols, base = [], [], [], [], []
    for i in range(runs):
        for n in names:
            ref.write(n, created=old, worktree=fixture)
            (STATE / n / "status").unlink(missing_ok=True)
        create_state_volumes(names, ref.project)
        sh("systemctl --user daemon-reload")
        # The baseline: one daemon-reload with these sessions, right before.
        base.append(timed(["systemctl", "--user", "daemon-reload"]))
        since = time.time()
        times.append(timed(["ccy", "prune", "--age", "1s"], cwd=fixture))
        reloads.append(ccy_reloads_since(since))
        left.append(sum(1 for n in names if (QUADLET / f"{n}.container").exists()))
        vols.append(len([v for v in sh("podman volume ls -q").split() if v.startswith("ccy-fix-")]))
    res["reload_300_stopped" + suffix] = {"raw": stats(base)}
    res["P5" + suffix] = {"ccy": stats(times), "reloads": reloads, "left": left, "volumes_left": vols,
                          "sessions": len(names)}
    # Where the time goes: one more prune of the same fixture, traced.
    for n in names:
        ref.write(n, created=old, worktree=fixture)
        (STATE / n / "status").unlink(missing_ok=True)
    create_state_volumes(names, ref.project)
    sh("systemctl --user daemon-reload")
    lines = traced(["ccy", "prune", "--age", "1s"], fixture)
    for line in lines:
        log(f"P5 trace: {line}")
    res.setdefault("profiles", {}).setdefault(f"P5, {len(names)} stopped sessions", {})[
        "ccy prune --age 1s"] = lines


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def machine(commit):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "virt": sh("systemd-detect-virt", check=False).strip(),
        "podman": sh("podman --version").strip(),
        "systemd": sh("systemctl --version").splitlines()[0],
        "tmux": sh("tmux -V").strip(),
        "ccy": sh("ccy --version").strip() + (f" ({commit})" if commit else ""),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def ms(x):
    return f"{x * 1000:.0f}" if x >= 0.01 else f"{x * 1000:.1f}"


def cell(s):
    return f"{ms(s['median'])} ({ms(s['min'])}–{ms(s['max'])})"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def report(res):
    m = res["machine"]
    out = []
    w = out.append
    w(f"Measured {res['date']} with `tests/bench/run` ({res['runs']} runs per figure, "
      f"{res['quick_runs']} for P6; median (min–max), milliseconds).\n")
    w("| | |\n|---|---|")
    for k, label in [("cpu", "CPU"), ("cores", "cores"), ("kernel", "kernel"), ("virt", "virtualization"),
                     ("podman", "Podman"), ("systemd", "systemd"), ("tmux", "tmux"), ("ccy", "ccy")]:
        w(f"| {label} | {m[k]} |")
    w(f"| load average | {' '.join(m['loadavg_start'])} at the start, "
      f"{' '.join(res['loadavg_end'])} at the end (the host is shared) |")
    w("")
    w("| | ccy | raw | ratio | goal | |\n|---|---|---|---|---|---|")

    def ratio_row(key, label, raw_key, goal):
        r = res.get(key)
        if not r:
            return
        ratio = r["ccy"]["median"] / r[raw_key]["median"]
        w(f"| {label} | {cell(r['ccy'])} | {cell(r[raw_key])} | {ratio:.2f}× | ≤ {goal}× | {verdict(ratio <= goal)} |")

    ratio_row("P1", "P1 resume a running session → attached", "raw", 1.10)
    ratio_row("P1_bare", "P1 resume, physical anchor: ccy vs a bare `tmux -u -S SOCKET attach -t main` "
              "on the same socket", "raw", 1.2)
    ratio_row("P2", "P2 new session → attached (Podman's API service running)", "naive", 0.7)
    ratio_row("P2_cold", "P2 new session → attached (API service idle-exited: it starts first)", "naive", 0.7)
    for key in ("P3", "P3_1000"):
        if key in res:
            f = res.get("P3_fixture" + key[2:], {})
            ratio_row(key, f"P3 `ccy list --json`, {f.get('sessions', '?')} sessions ({f.get('running', '?')} "
                      f"running, {f.get('with_agent_status', '?')} with agent status) vs `podman ps -a --format json`",
                      "raw", 0.3)
    if "P4" in res:
        r = res["P4"]
        w(f"| P4 `ccy stop` of a running session (raw: `systemctl --user stop`) | {cell(r['ccy'])} | "
          f"{cell(r['raw'])} | | ≤ 1000 ms | {verdict(r['ccy']['median'] <= 1.0)} |")
    for key in ("P5", "P5_1000"):
        if key not in res:
            continue
        r = res[key]
        if "missing" in r:
            w(f"| P5 prune | not measured: {r['missing']} | | | ≤ 2× one reload, 1 reload | |")
            continue
        base = res["reload_300_stopped" + key[2:]]["raw"]
        n = r["sessions"]
        ratio = r["ccy"]["median"] / base["median"]
        one = all(x == 1 for x in r["reloads"])
        w(f"| P5 `ccy prune` of {n} stopped sessions ({r['ccy']['n']} runs; raw: one daemon-reload with them, "
          f"right before each) | {cell(r['ccy'])} | {cell(base)} | {ratio:.2f}× | ≤ 2×, exactly 1 reload | "
          f"{verdict(ratio <= 2 and one)} (reloads per run: {r['reloads']}; sessions left: {r['left']}; "
          f"state volumes left: {r['volumes_left']}) |")
    if "P7" in res:
        r = res["P7"]
        w(f"| P7 `ccy stop` after writing 200 MB outside the volumes (kept: one `podman commit`) | "
          f"{cell(r['ccy'])} | | | none (P4 is the stop with nothing changed) | |")
    if "P8" in res:
        r = res["P8"]
        ratio = r["ccy"]["median"] / r["raw"]["median"]
        w(f"| P8 start a stopped session with a kept layer ({r['kept_bytes'] / 1e6:.0f} MB in 3 layers; "
          f"raw: the same start of a clean session) | {cell(r['ccy'])} | {cell(r['raw'])} | {ratio:.2f}× | "
          f"≤ 1.2× | {verdict(ratio <= 1.2)} |")
    if "P9" in res:
        r = res["P9"]
        base = r["base"]["median"]
        for key, label in [("beat", "a heartbeat (same state)"), ("change", "a change of state (+ tmux options)")]:
            med = (r[key]["median"] - base) * 1000
            w(f"| P9 one call of the agent's hook, {label}; {r['n']} calls, less the timing's own "
              f"{base * 1000:.1f} ms | {med:.1f} (raw {cell(r[key])}) | | | ≤ 10 ms | {verdict(med <= 10)} |")
    if "P9_latency" in res:
        r = res["P9_latency"]
        xs = sorted(r["all"])
        p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
        w(f"| P9 from a hook event to its state in `ccy list --json` (p95 of {len(xs)} changes; "
          f"`ccy list` run back to back) | p95 {p95 * 1000:.0f}, median {cell(r)} | | | ≤ 1000 ms "
          f"(aim ≤ 200) | {verdict(p95 <= 1.0)} |")
    if "P10" in res:
        r = res["P10"]
        w(f"| P10 CPU of an idle session (bash, no client) over 60 s, from its cgroup's cpu.stat "
          f"(was 92 ms/min with the 10 s status loop) | {r['ms_per_min']:.1f} ms/min | | | ≤ 10 ms/min | "
          f"{verdict(r['ms_per_min'] <= 10)} |")
    if "P11" in res:
        ratio_row("P11", "P11 `ccy list --all-hosts --json`, 2 hosts (this guest and the peer over ssh), "
                  "warm: ccy's shared ssh connection open, vs the slower host's own `ccy list --json`",
                  "raw", 1.3)
        ratio_row("P11_first", "P11 the same, first call (no shared connection: ssh logs in)", "raw", 1.3)
    report_p12_p13(res, w)
    for key, label, goal in [("P6_version", "P6 `ccy --version`", 5), ("P6_list_empty", "P6 `ccy list`, no sessions", 30)]:
        if key in res:
            r = res[key]
            w(f"| {label} | {cell(r['ccy'])} | | | ≤ {goal} ms | {verdict(r['ccy']['median'] * 1000 <= goal)} |")
    w("")
    w("Context figures from the same run:\n")
    w("| | median (min–max) ms |\n|---|---|")
    if "P6_list_empty" in res:
        w(f"| `podman --version` (one Podman CLI process) | {cell(res['P6_list_empty']['podman_version'])} |")
    if "P6_list_empty_cold_api" in res:
        w(f"| `ccy list`, no sessions, Podman's API service idle-exited first | {cell(res['P6_list_empty_cold_api']['ccy'])} |")
    for key, label in [("reload_0", "`systemctl --user daemon-reload`, no sessions"),
                       ("reload_300", "`systemctl --user daemon-reload`, 300 sessions (100 being started after)"),
                       ("reload_300_1000", "`systemctl --user daemon-reload`, 1000 sessions (100 being started after)")]:
        if key in res:
            w(f"| {label} | {cell(res[key]['raw'])} |")
    if "P2" in res:
        w(f"| daemon-reloads logged per `ccy` creation (P2) | {res['P2']['ccy_reloads']} |")
    if "P11" in res:
        w(f"| P11 `ccy list --json` on this guest / on the peer guest (timed there) | "
          f"{cell(res['P11']['local'])} / {cell(res['P11']['peer'])} |")
    for key, label in [("login_true", "`ssh` to the peer running `true`, logging in (no shared connection)"),
                       ("mux_true", "`ssh` to the peer running `true` through ccy's open connection"),
                       ("mux_list", "`ssh` to the peer running `ccy list --json` through ccy's open connection"),
                       ("ssh_G", "`ssh -G` (ssh's configuration for the peer, no connection)"),
                       ("floor", "floor of a warm call: that `ssh … ccy list --json --with-version` and this "
                                 "guest's `ccy list --json` started together, timed in turn with the warm call")]:
        if key in res.get("P11_parts", {}):
            w(f"| P11 part: {label} | {cell(res['P11_parts'][key])} |")
    for key in ("P3_fixture", "P3_fixture_1000"):
        if key in res:
            f = res[key]
            w(f"| P3 fixture as `ccy list` saw it | {f['sessions']} sessions, {f['running']} running, "
              f"{f['containers']} containers, {f.get('with_agent_status', '?')} with agent status |")
    for label, runs in res.get("profiles", {}).items():
        w(f"\nWhere the time goes, {label} (`CCY_TRACE=1`, one run each; ms since ccy started):\n")
        for what, lines in runs.items():
            w(f"`{what}`:\n\n```")
            for line in lines:
                w(line)
            w("```\n")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# P12/P13: ccy ui (issue 14)
# --------------------------------------------------------------------------


def _ui_screen(sock):
    return sh(f"tmux -L {sock} capture-pane -p", check=False)


def _ui_wait(sock, ok, timeout=30.0):
    """Polls the UI's screen until `ok(screen)`; returns the seconds it
    took (the poll's own cost, one tmux client, is in it)."""
    t0 = time.perf_counter()
    while True:
        s = _ui_screen(sock)
        if ok(s):
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"ccy ui: timed out; screen:\n{s}")
        time.sleep(0.002)


def _cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime (fields 14, 15)


def p12_p13(res, runs, ref, total=300):
    """P12: `ccy ui` (80x24, in tmux) with 300 sessions: the time from a
    state change to the screen showing it: the running reference
    session's agent state file replaced (as its hook does), and a new
    session's unit file appearing (a full listing of the 301). P13: CPU
    ticks of the idle `ccy ui` over 60 s while nothing changes."""
    log(f"P12/P13: ccy ui with {total} sessions")
    names = [f"ccy-uifix-{i:03d}" for i in range(total)]
    fixture = fixture_repo()
    for n in names:
        ref.write(n, worktree=fixture)
    sh("systemctl --user daemon-reload")
    sock = "ccy-bench-ui"
    sh(f"tmux -L {sock} -f /dev/null new-session -d -x 80 -y 24 'exec ccy ui --local'")
    try:
        _ui_wait(sock, lambda s: s.startswith("ccy ui") and f"{total + 1} sessions" in s, 60)
        pid = int(sh(f"tmux -L {sock} display -p '#{{pane_pid}}'").strip())
        sh(f"tmux -L {sock} send-keys / {ref.name[-8:]} Enter")
        _ui_wait(sock, lambda s: ": 1 shown" in s)
        agent_file = STATE / ref.name / "agent.json"
        agent, new = [], []
        for i in range(runs * 2):
            word = "waiting" if i % 2 == 0 else "busy"
            now = int(time.time())
            tmp = agent_file.with_name(".agent.json.bench")
            tmp.write_text(json.dumps({"state": word, "since": now - 60, "updated": now,
                                       "event": "Bench", "message": None, "source": "hook"}))
            row = lambda s: any(l.startswith(ref.name) and f" {word} " in l for l in s.splitlines())
            t0 = time.perf_counter()
            os.rename(tmp, agent_file)
            _ui_wait(sock, row)
            agent.append(time.perf_counter() - t0)
            time.sleep(0.2)
        for i in range(runs):
            n = f"ccy-uifix-new-{i}"
            want = f"{total + 2 + i} sessions"
            t0 = time.perf_counter()
            ref.write(n, worktree=fixture)
            _ui_wait(sock, lambda s: want in s.splitlines()[0])
            new.append(time.perf_counter() - t0)
            names.append(n)
            time.sleep(0.5)
        res["P12"] = {"agent": stats(agent), "new": stats(new), "sessions": total + 1, "goal_s": 0.1}
        log("P13: ccy ui idle for 60 s")
        time.sleep(2)
        a = _cpu_ticks(pid)
        time.sleep(60)
        b = _cpu_ticks(pid)
        res["P13"] = {"ticks": b - a, "goal_ticks": 0}
    finally:
        sh(f"tmux -L {sock} kill-server", check=False)
        for n in names:
            for ext in ("container", "volume"):
                (QUADLET / f"{n}.{ext}").unlink(missing_ok=True)
            shutil.rmtree(STATE / n, ignore_errors=True)
        sh("systemctl --user daemon-reload")


def report_p12_p13(res, w):
    """The P12/P13 rows of the report."""
    if "P12" in res:
        r = res["P12"]
        w(f"| P12 `ccy ui` redraw after a state change, {r['sessions']} sessions, 80x24: "
          f"the agent's state file replaced / a new session's unit file | "
          f"{cell(r['agent'])} / {cell(r['new'])} | | ≤ 100 ms | "
          f"{verdict(r['agent']['median'] <= 0.1 and r['new']['median'] <= 0.1)} |")
    if "P13" in res:
        r = res["P13"]
        w(f"| P13 `ccy ui` idle CPU over 60 s while nothing changes (/proc/PID/stat) | "
          f"{r['ticks']} ticks | | 0 ticks | {verdict(r['ticks'] == 0)} |")



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick-runs", type=int, default=20)
    ap.add_argument("--out", default=str(HOME / "bench-out"))
    ap.add_argument("--only", default="P1,P2,P3,P4,P5,P6,P7,P8,P9,P10,P11,P12,P13")
    ap.add_argument("--commit", default="")
    a = ap.parse_args()
    only = set(a.only.split(","))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (HOME / ".config/ccy").mkdir(parents=True, exist_ok=True)
    (HOME / ".config/ccy/config.toml").write_text(CONFIG)
    WORK.mkdir(parents=True, exist_ok=True)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": a.runs,
           "quick_runs": a.quick_runs, "machine": machine(a.commit)}
    if "P6" in only:
        p6(res, a.quick_runs)
    res["reload_0"] = {"raw": daemon_reloads(a.runs)}
    ref, repo = make_reference()
    if "P11" in only:
        p9(res, a.runs, repo)
    if "P1" in only:
        p1(res, a.runs, ref, repo)
    if "P2" in only:
        p2(res, a.runs, ref)
        profile(res, "with 1 other session")
    if only & {"P3", "P4", "P5"}:
        names = p3_p4(res, a.runs, ref)
        if "P2" in only:
            profile(res, "with the 300 fixture sessions (stopped)")
        if "P5" in only:
            p5(res, a.runs, ref, names)
        # The same at 1000 sessions, so that the growth shows (issue 10);
        # fewer runs, each P5 run rewrites the whole fixture.
        big = max(3, a.runs // 2)
        names = p3_p4(res, big, ref, total=1000, running=100, p4=False)
        if "P5" in only:
            p5(res, big, ref, names)
    if only & {"P7", "P8"}:
        p7_p8(res, a.runs)
    if only & {"P9", "P10"}:
        p9_p10(res, a.runs)
    if only & {"P12", "P13"}:
        p12_p13(res, a.runs, ref)
    res["detach_fallbacks"] = DETACH_FALLBACKS
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    (out / "results.json").write_text(json.dumps(res, indent=1))
    (out / "results.md").write_text(report(res))
    print(report(res))


if __name__ == "__main__":
    main()
