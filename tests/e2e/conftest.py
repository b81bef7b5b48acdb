"""pytest fixtures for end-to-end tests against localgw (see harness.py and localgw/README.md).

Fixtures
  localgw(config, workers=2, plugin_paths=(TEST_PLUGINS,), cpaths=(), env=None, extra_args=()) -> Gateway
      factory; config is a dict or a callable(echo_url) -> dict ("{{echo_url}}" in strings is replaced).
      Every gateway it started is stopped by pid at teardown, also when the test fails; on failure the tail
      of each gateway's error.log is printed.
  localgw_start_error(config, **same) -> StartError
      asserts that startup fails and returns the error (message = localgw's stderr).
  redis_server -> RedisServer (host, port, pid, command(*args)); persistence off, stopped by pid.
"""

import os

import pytest

from harness import RedisServer, StartError, TEST_PLUGINS, start_gateway


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def localgw(tmp_path, request):
    started = []

    def start(config, **kwargs):
        workdir = tmp_path / f"gw{len(started)}"
        gw = start_gateway(config, workdir, **kwargs)
        started.append(gw)
        return gw

    yield start

    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for gw in started:
        if failed:
            print(f"--- error.log of gateway {gw.prefix} (last 3000 chars) ---")
            print(gw.error_log()[-3000:])
        gw.stop()
    for gw in started:
        assert not gw.alive(), f"nginx {gw.pid} still running after stop"


@pytest.fixture
def localgw_start_error(tmp_path):
    count = [0]

    def start(config, **kwargs):
        count[0] += 1
        workdir = tmp_path / f"failing{count[0]}"
        try:
            gw = start_gateway(config, workdir, **kwargs)
        except StartError as e:
            return e
        gw.stop()
        pytest.fail("localgw started although it was expected to fail")

    return start


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def test_plugins_dir():
    return TEST_PLUGINS if os.path.isdir(TEST_PLUGINS) else pytest.skip("test plugins missing")
