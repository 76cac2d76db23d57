"""Fixtures for the resolverd system tests.

Run:  pytest-3 -q -p no:cacheprovider tests/system --build-dir BUILD
      RESOLVER_UNDER_TEST=unbound pytest-3 ... (Debian's unbound instead)
"""

import itertools
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import procs  # noqa: E402
from capture import Capture, UpstreamCounter  # noqa: E402
from hierarchy import Hierarchy  # noqa: E402
from resolver_process import ResolverProcess  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_ADDR = "127.53.0.1"
_fresh_addrs = (f"127.53.{1 + i // 250}.{1 + i % 250}" for i in itertools.count())


def pytest_addoption(parser):
    g = parser.getgroup("resolverd system tests")
    g.addoption("--build-dir", default=os.environ.get("BUILD_DIR", os.path.join(REPO, "build")),
                help="CMake build dir holding resolverd and dnsq")
    g.addoption("--resolver", default=os.environ.get("RESOLVER_UNDER_TEST", "resolverd"),
                choices=["resolverd", "unbound"],
                help="resolver under test (env RESOLVER_UNDER_TEST)")
    g.addoption("--upstream-count", default=os.environ.get("UPSTREAM_COUNT", "capture"),
                choices=["capture", "log"],
                help="count upstream queries from a tcpdump capture (default) or "
                     "from resolverd's debug log (env UPSTREAM_COUNT)")
    g.addoption("--dnssec-resolver", default=None, choices=["resolverd", "unbound"],
                help="validating resolver for test_dnssec.py (env DNSSEC_UNDER_TEST; "
                     "default validating_resolver.DNSSEC_DEFAULT)")
    g.addoption("--keep-tmp", action="store_true",
                default=bool(os.environ.get("SYSTEM_TEST_KEEP_TMP")),
                help="keep the temp dir (zones, configs, logs, pcap)")


def pytest_configure(config):
    config.addinivalue_line("markers", "dnsq: uses the c-ares stub client BUILD/dnsq")
    procs.install_sigterm_guard()


@pytest.fixture(scope="session")
def resolver_kind(pytestconfig):
    return pytestconfig.getoption("--resolver")


@pytest.fixture(scope="session")
def build_dir(pytestconfig):
    return os.path.abspath(pytestconfig.getoption("--build-dir"))


@pytest.fixture(scope="session")
def workdir(pytestconfig):
    d = tempfile.mkdtemp(prefix="resolverd-system-")
    yield d
    if pytestconfig.getoption("--keep-tmp"):
        print(f"\nsystem test files kept in {d}")
    else:
        shutil.rmtree(d, ignore_errors=True)


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("system tests need root (port 53 on 127.x, tcpdump)")


@pytest.fixture(scope="session")
def hierarchy(workdir):
    _require_root()
    h = Hierarchy(os.path.join(workdir, "auth"))
    h.start()
    yield h
    h.stop()


@pytest.fixture(scope="session")
def capture(workdir, hierarchy):
    """tcpdump of queries to the authoritative servers, or None if unavailable."""
    if not shutil.which("tcpdump"):
        yield None
        return
    cap = Capture(os.path.join(workdir, "upstream.pcap"))
    try:
        cap.start()
    except Exception as e:  # pragma: no cover - environment without capture
        print(f"capture unavailable: {e}")
        yield None
        return
    yield cap
    cap.stop()


@pytest.fixture(scope="session")
def _shared_resolver(resolver_kind, build_dir, hierarchy, workdir):
    r = ResolverProcess(resolver_kind, build_dir, hierarchy.root_hints,
                        os.path.join(workdir, "resolver-shared"), listen=SHARED_ADDR)
    holder = {"r": r.start()}
    yield holder
    holder["r"].stop()


@pytest.fixture
def resolver(_shared_resolver, resolver_kind, build_dir, hierarchy, workdir):
    """The long-lived resolver on 127.53.0.1 (warm cache).  If a test kills
    it, the test errors and the next test gets a new one."""
    r = _shared_resolver["r"]
    if not r.alive():
        r = ResolverProcess(resolver_kind, build_dir, hierarchy.root_hints,
                            r.workdir + "-restarted", listen=SHARED_ADDR).start()
        _shared_resolver["r"] = r
    yield r
    if not r.alive():
        log = r.logs()
        r.stop()
        pytest.fail(f"resolver died during the test (rc={r.proc and r.proc.returncode});"
                    f" log:\n{log}")


@pytest.fixture
def make_resolver(resolver_kind, build_dir, hierarchy, workdir, request):
    """Factory for fresh resolver processes (empty cache), each on its own
    127.53.x.y address; all are stopped at the end of the test."""
    started = []

    def make(qmin=True, access_control=None):
        addr = next(_fresh_addrs)
        r = ResolverProcess(resolver_kind, build_dir, hierarchy.root_hints,
                            os.path.join(workdir, f"resolver-{addr}"), listen=addr,
                            qmin=qmin, access_control=access_control)
        started.append(r)
        return r.start()

    yield make
    for r in started:
        dead = not r.alive() and r.proc is not None
        r.stop()
        if dead and not hasattr(request.node, "_resolver_death_reported"):
            request.node._resolver_death_reported = True
            pytest.fail(f"resolver on {r.addr} died during the test; log:\n{r.logs()}")


@pytest.fixture
def fresh_resolver(make_resolver):
    return make_resolver()


@pytest.fixture
def counter_for(pytestconfig, capture):
    """counter_for(resolver) -> UpstreamCounter for that resolver."""
    mode = pytestconfig.getoption("--upstream-count")

    def make(r):
        if mode == "log" and not r.is_unbound:
            return UpstreamCounter(log_path=r.log_path)
        if capture is None:
            if not r.is_unbound:
                return UpstreamCounter(log_path=r.log_path)
            pytest.skip("no packet capture available to count upstream queries")
        return UpstreamCounter(capture=capture)

    return make


@pytest.fixture(scope="session")
def dnsq(build_dir):
    path = os.environ.get("DNSQ_BINARY") or os.path.join(build_dir, "dnsq")
    if not os.path.exists(path):
        pytest.skip(f"dnsq not built ({path})")
    return path


@pytest.fixture
def ours_only(resolver_kind):
    """ours_only(reason): skip the rest of the test under unbound, where the
    expectation is specific to resolverd's specified behaviour."""

    def check(reason):
        if resolver_kind == "unbound":
            pytest.skip(f"resolverd-specific expectation, unbound differs: {reason}")

    return check


# -- DNSSEC: the signed hierarchy (127.20.x.y) and a validating resolver ----


@pytest.fixture(scope="session")
def dnssec_kind(pytestconfig):
    from validating_resolver import DNSSEC_DEFAULT
    kind = (pytestconfig.getoption("--dnssec-resolver")
            or os.environ.get("DNSSEC_UNDER_TEST") or DNSSEC_DEFAULT)
    if kind not in ("resolverd", "unbound"):
        raise pytest.UsageError(f"DNSSEC_UNDER_TEST={kind!r}: resolverd or unbound")
    return kind


@pytest.fixture(scope="session")
def signed_hierarchy(workdir):
    """Keys generated and zones signed once per session (signed_hierarchy.py)."""
    _require_root()
    from signed_hierarchy import SignedHierarchy, missing_tools
    missing = missing_tools()
    if missing:
        pytest.skip(f"signing tools missing: {', '.join(missing)} "
                    "(apt-get install ldnsutils bind9-utils)")
    h = SignedHierarchy(os.path.join(workdir, "signed"))
    h.start()
    yield h
    h.stop()


@pytest.fixture(scope="session")
def _shared_validating_resolver(dnssec_kind, build_dir, signed_hierarchy, workdir):
    from validating_resolver import RESOLVERD_ADDR, UNBOUND_ADDR, ValidatingResolver
    addr = UNBOUND_ADDR if dnssec_kind == "unbound" else RESOLVERD_ADDR
    holder = {"r": ValidatingResolver(dnssec_kind, build_dir, signed_hierarchy,
                                      os.path.join(workdir, "validating-shared"), addr).start()}
    yield holder
    holder["r"].stop()


@pytest.fixture
def validating_resolver(_shared_validating_resolver, dnssec_kind, build_dir,
                        signed_hierarchy, workdir):
    """The long-lived validating resolver (127.21.0.1 unbound, 127.21.0.2
    resolverd); restarted if a test killed it."""
    from validating_resolver import ValidatingResolver
    r = _shared_validating_resolver["r"]
    if not r.alive():
        r = ValidatingResolver(dnssec_kind, build_dir, signed_hierarchy,
                               r.workdir + "-restarted", r.addr).start()
        _shared_validating_resolver["r"] = r
    yield r
    if not r.alive():
        log = r.logs()
        r.stop()
        pytest.fail(f"validating resolver died during the test; log:\n{log}")


_fresh_validating_addrs = (f"127.21.{1 + i // 250}.{1 + i % 250}" for i in itertools.count())


@pytest.fixture
def make_validating_resolver(dnssec_kind, build_dir, signed_hierarchy, workdir):
    """Factory for fresh validating resolvers (empty cache) on 127.21.1.x.
    make(**kw): kw go to ValidatingResolver (trust_anchor, validation,
    negative_trust_anchors, unbound_extra)."""
    from validating_resolver import ValidatingResolver
    started = []

    def make(**kw):
        addr = next(_fresh_validating_addrs)
        r = ValidatingResolver(dnssec_kind, build_dir, signed_hierarchy,
                               os.path.join(workdir, f"validating-{addr}"), addr, **kw)
        started.append(r)
        return r.start()

    yield make
    for r in started:
        r.stop()


def pytest_sessionfinish(session, exitstatus):
    left = procs.live()
    procs.stop_all()
    if left:
        print(f"\nstopped processes left running at session end: {left}")
