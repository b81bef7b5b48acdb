"""tests/mock_llm/mock_llm.py as a managed child process on a fixed 127.0.0.1 port (so that a test or a
benchmark can kill it and bring it back on the same address). Stopped by pid. Python stdlib only."""

import json
import os
import subprocess
import time

from harness import PYTHON, REPO, free_port, http_request, wait_until

MOCK = os.path.join(REPO, "tests", "mock_llm", "mock_llm.py")


class MockLLM:
    def __init__(self, workdir, port=None, args=(), max_lifetime=900):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = port or free_port()
        self.args = list(args)
        self.max_lifetime = max_lifetime
        self.proc = None
        self.start()

    def start(self):
        port_file = os.path.join(self.workdir, f"port.{self.port}")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self._log = open(os.path.join(self.workdir, f"mock_llm.{self.port}.log"), "ab")
        self.proc = subprocess.Popen(
            [PYTHON, MOCK, "--port", str(self.port), "--port-file", port_file, "--max-lifetime",
             str(self.max_lifetime)] + self.args, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.proc.poll() is not None or os.path.exists(port_file), timeout=10,
                   what="mock_llm listening")
        if self.proc.poll() is not None:
            raise RuntimeError(f"mock_llm exited with {self.proc.returncode}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc:
            self._log.close()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, name, version="v1"):
        return f"http://127.0.0.1:{self.port}/{name}/{version}"

    def control(self, **per_provider):
        """control(openai={"latency_ms": 300}, reset_stats=True)"""
        return http_request(self.port, "POST", "/_control", body=per_provider).json()

    def stats(self):
        return http_request(self.port, "GET", "/_stats").json()

    def calls(self, name):
        return self.stats()["calls"].get(name, 0)

    def statuses(self, name):
        return {int(k): v for k, v in self.stats()["status"].get(name, {}).items()}
