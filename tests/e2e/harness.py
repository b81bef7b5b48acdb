"""End-to-end harness: runs localgw (Kong PDK layer on Debian's nginx) and redis-server on 127.0.0.1.

Everything started here is stopped by pid. Waits are bounded. Python stdlib only (http.client, socket,
subprocess), so the tests run with /usr/bin/python3 -m pytest and nothing else.

    gw = start_gateway(lambda echo_url: {"_format_version": "3.0", "services": [...]}, tmp_path)
    r = gw.proxy("POST", "/api", body=b"...")
    r.status, r.header("x-foo"), r.json()
    gw.stop()
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LOCALGW = os.path.join(REPO, "localgw", "bin", "localgw")
TEST_PLUGINS = os.path.join(HERE, "plugins")
PYTHON = "/usr/bin/python3"


def free_port():
    """A port free right now on 127.0.0.1 (racy by nature, fine for local tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=5.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value; raises TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class Response:
    """status, headers (list of (name, value)), body (bytes); header() is case-insensitive."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def http_request(port, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection to 127.0.0.1:port. A dict/list body is sent as JSON."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


class Gateway:
    """A running localgw instance. Ports are on 127.0.0.1; `pid` is the nginx master."""

    def __init__(self, prefix, info):
        self.prefix = prefix
        self.pid = info["pid"]
        self.proxy_port = info["proxy_port"]
        self.admin_port = info["admin_port"]
        self.echo_port = info["echo_port"]
        self.workers = info["workers"]
        self.plugins = info["plugins"]

    @property
    def echo_url(self):
        return f"http://127.0.0.1:{self.echo_port}"

    def proxy(self, method, path, body=None, headers=None, timeout=10.0):
        return http_request(self.proxy_port, method, path, body, headers, timeout)

    def admin(self, method, path, body=None, headers=None, timeout=10.0):
        return http_request(self.admin_port, method, path, body, headers, timeout)

    def echo(self, method, path, body=None, headers=None, timeout=10.0):
        return http_request(self.echo_port, method, path, body, headers, timeout)

    def post_config(self, config):
        """POST /config (DB-less reload) with a dict; returns the Response."""
        return self.admin("POST", "/config", body=config)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return pid_alive(self.pid)

    def stop(self, timeout=10.0):
        """Stops nginx by pid: `localgw stop` (QUIT, TERM, KILL), then a direct KILL if it is still there."""
        if not pid_alive(self.pid):
            return
        subprocess.run([PYTHON, LOCALGW, "stop", "--prefix", self.prefix, "--timeout", str(timeout)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout + 5)
        if pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)


class StartError(Exception):
    """localgw start failed; .message is its stderr (the one-line cause first), .returncode its exit code."""

    def __init__(self, returncode, message):
        super().__init__(message)
        self.returncode = returncode
        self.message = message


def render_config(config, echo_url):
    """config: a dict, or a callable(echo_url) -> dict. The string "{{echo_url}}" is replaced anywhere."""
    if callable(config):
        config = config(echo_url)
    return json.dumps(config).replace("{{echo_url}}", echo_url)


def start_gateway(config, workdir, workers=2, plugin_paths=(TEST_PLUGINS,), cpaths=(), env=None,
                  extra_args=(), echo_port=None, timeout=20.0):
    """Writes kong.yml (JSON, which is valid YAML) into workdir and starts localgw on free ports.

    Returns a Gateway; raises StartError when localgw exits non-zero (e.g. a schema violation)."""
    workdir = str(workdir)
    os.makedirs(workdir, exist_ok=True)
    echo_port = echo_port or free_port()
    echo_url = f"http://127.0.0.1:{echo_port}"
    conf_path = os.path.join(workdir, "kong.yml")
    with open(conf_path, "w") as f:
        f.write(render_config(config, echo_url))
    prefix = os.path.join(workdir, "prefix")
    cmd = [PYTHON, LOCALGW, "start", "--config", conf_path, "--prefix", prefix, "--proxy-port", "0",
           "--admin-port", "0", "--echo-port", str(echo_port), "--workers", str(workers), "--timeout", str(timeout)]
    for p in plugin_paths:
        cmd += ["--plugin-path", p]
    for c in cpaths:
        cmd += ["--cpath", c]
    for k, v in (env or {}).items():
        cmd += ["--env", f"{k}={v}"]
    cmd += list(extra_args)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout + 10)
    if proc.returncode != 0:
        # Belt and braces: never leave an nginx behind, even if localgw start failed half-way.
        _kill_prefix(prefix)
        raise StartError(proc.returncode, proc.stderr.strip())
    with open(os.path.join(prefix, "localgw.json")) as f:
        info = json.load(f)
    return Gateway(prefix, info)


def _kill_prefix(prefix):
    try:
        with open(os.path.join(prefix, "nginx.pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


class RedisServer:
    """redis-server on 127.0.0.1:port with persistence off, in its own temp dir; stopped by pid."""

    def __init__(self, workdir, port=None, timeout=10.0):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, "redis.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.workdir, "--daemonize", "no"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.pid = self.proc.pid
        try:
            wait_until(lambda: self.proc.poll() is not None or self._ping(), timeout=timeout, what="redis-server")
        except TimeoutError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            self._log.close()
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"redis-server exited: {f.read()[-2000:]}")

    def _ping(self):
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def command(self, *args, timeout=5.0):
        """Sends one command (RESP) and returns the decoded reply (str/int/list/None); errors raise RuntimeError."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            payload = [f"*{len(args)}\r\n".encode()]
            for a in args:
                b = a if isinstance(a, bytes) else str(a).encode()
                payload.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
            s.sendall(b"".join(payload))
            return _read_reply(s.makefile("rb"))

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        if not self._log.closed:
            self._log.close()


def _read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected redis reply: {line!r}")
