"""The HTTP listener (issue 8): /metrics, the JSON API, access control, and the
dashboard page in headless Chromium.

Each test daemon here has its own addresses (DNS and HTTP on the same one):
  127.53.60.1  plain hierarchy, validation off, http on @8053 (default access: loopback)
  127.53.60.2  plain hierarchy, http.access-control: [127.53.61.0/24] (the 403 test)
  127.21.60.1  signed hierarchy, validating, http on @8053 (explain, Chromium)
Clients asking from other sources bind 127.53.61.x / 127.53.62.x.

The Chromium test runs Debian's `chromium` headless with --dump-dom (the DOM after
the page's scripts ran) and --screenshot; the screenshots are saved as
<build-dir>/test-artifacts/dashboard.png and dashboard-explain.png. Chromium is
started with every background service off and every host but the daemon's
address mapped to nothing (--host-resolver-rules), so it contacts nothing else. It skips only
when no chromium binary is installed (CI installs it: scripts/deps.sh).
"""

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
from html.parser import HTMLParser

import dns.message
import dns.query
import dns.rcode
import pytest

from hierarchy import resolverd_config_text
from resolver_process import ResolverProcess
from validating_resolver import ValidatingResolver

PLAIN_ADDR = "127.53.60.1"
GUARDED_ADDR = "127.53.60.2"
SIGNED_ADDR = "127.21.60.1"
HTTP_PORT = 8053
ALLOWED_SOURCE = "127.53.61.5"
OTHER_SOURCE = "127.53.62.5"

HTTP_OFF_LINE = "http: {listen: []}\n"


def with_http(text, addr, access_control=None, recent_queries=None):
    assert HTTP_OFF_LINE in text, "resolverd_config_text changed; update test_http.with_http"
    fields = [f"listen: [{addr}@{HTTP_PORT}]"]
    if access_control is not None:
        fields.append(f"access-control: [{', '.join(access_control)}]")
    if recent_queries is not None:
        fields.append(f"recent-queries: {recent_queries}")
    return text.replace(HTTP_OFF_LINE, "http: {" + ", ".join(fields) + "}\n")


class HttpResolver(ResolverProcess):
    """resolverd on the plain hierarchy with its HTTP listener on."""

    def __init__(self, *args, http_access_control=None, **kw):
        super().__init__(*args, **kw)
        self.http_access_control = http_access_control

    def argv(self):
        conf = os.path.join(self.workdir, "resolverd.yaml")
        with open(conf, "w") as f:
            f.write(with_http(resolverd_config_text(self.root_hints, listen=self.addr), self.addr,
                              self.http_access_control))
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]


class HttpValidatingResolver(ValidatingResolver):
    """A validating resolverd on the signed hierarchy with its HTTP listener on."""

    def argv(self):
        argv = super().argv()
        conf = argv[-1]
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(with_http(text, self.addr))
        return argv


def http_get(addr, path, source=None, timeout=60, headers=None):
    """(status, headers, body bytes) of GET http://addr:8053/path."""
    conn = http.client.HTTPConnection(addr, HTTP_PORT, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(addr, path, **kw):
    status, _, body = http_get(addr, path, **kw)
    assert status == 200, (path, status, body[:500])
    return json.loads(body)


def ask(addr, name, rdtype="A", source=None):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.query.udp(q, addr, timeout=5, source=source, ignore_trailing=True)


@pytest.fixture(scope="module")
def resolverd_only(resolver_kind, build_dir):
    if resolver_kind != "resolverd":
        pytest.skip("resolverd's own HTTP listener")
    if not os.path.exists(os.path.join(build_dir, "resolverd")):
        pytest.skip("resolverd not built")


@pytest.fixture(scope="module")
def plain_daemon(resolverd_only, build_dir, hierarchy, workdir):
    r = HttpResolver("resolverd", build_dir, hierarchy.root_hints,
                     os.path.join(workdir, "http-plain"), listen=PLAIN_ADDR).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def signed_daemon(resolverd_only, build_dir, signed_hierarchy, workdir):
    r = HttpValidatingResolver("resolverd", build_dir, signed_hierarchy,
                               os.path.join(workdir, "http-signed"), SIGNED_ADDR).start()
    yield r
    r.stop()


# -- /metrics ------------------------------------------------------------------


def scrape(addr):
    from prometheus_client.parser import text_string_to_metric_families
    status, headers, body = http_get(addr, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return families, body.decode()


def total(family, **labels):
    """Sum of a family's samples (not _bucket/_created) matching `labels`."""
    return sum(s.value for s in family.samples
               if all(s.labels.get(k) == v for k, v in labels.items())
               and not s.name.endswith(("_bucket", "_created")))


def test_metrics_parse_and_move_after_queries(plain_daemon):
    before, _ = scrape(PLAIN_ADDR)
    # prometheus_client drops a counter's _total from the family name.
    answers_before = total(before["resolverd_answers"])
    assert ask(PLAIN_ADDR, "www.alpha.test").rcode() == dns.rcode.NOERROR
    assert ask(PLAIN_ADDR, "www.alpha.test").rcode() == dns.rcode.NOERROR  # from the cache
    assert ask(PLAIN_ADDR, "does-not-exist.alpha.test").rcode() == dns.rcode.NXDOMAIN
    after, text = scrape(PLAIN_ADDR)

    assert total(after["resolverd_answers"]) >= answers_before + 3
    assert total(after["resolverd_answers"], transport="udp") >= 3
    assert total(after["resolverd_answers_by_qtype"], qtype="A") >= 3
    assert total(after["resolverd_answers_by_rcode"], rcode="NXDOMAIN") >= 1
    assert total(after["resolverd_answers_by_rcode"], rcode="NOERROR") >= 2
    assert total(after["resolverd_cache_hits"]) >= 1
    # Every family has HELP and TYPE, every name the prefix.
    for name, family in after.items():
        assert name.startswith("resolverd_"), name
        assert family.documentation, name
        assert f"# TYPE {name}" in text or f"# TYPE {name}_total" in text, name
    # Labels for transport, qtype, rcode, DNSSEC outcome and EDE.
    assert {"udp", "tcp"} <= {s.labels["transport"] for s in after["resolverd_answers"].samples}
    assert {s.labels.get("security") for s in after["resolverd_answers_by_security"].samples} >= {
        "secure", "insecure", "bogus"}
    assert any("ede" in s.labels and "name" in s.labels for s in after["resolverd_answers_by_ede"].samples)

    latency = after["resolverd_answer_latency_seconds"]
    assert latency.type == "histogram"
    buckets = [s for s in latency.samples if s.name.endswith("_bucket")]
    assert buckets and buckets[-1].labels["le"] == "+Inf"
    counts = [s.value for s in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    count = [s.value for s in latency.samples if s.name.endswith("_count")][0]
    assert count == buckets[-1].value >= 3

    cache_bytes = after["resolverd_cache_bytes"]
    assert cache_bytes.type == "gauge"
    by_cache = {s.labels["cache"]: s.value for s in cache_bytes.samples}
    assert {"messages", "rrsets"} <= set(by_cache), by_cache
    assert by_cache["messages"] > 0 and by_cache["rrsets"] > 0, by_cache


# -- the JSON API ------------------------------------------------------------------


def test_api_reports_stats_series_top_names_clients_and_recent_queries(plain_daemon):
    names = ["www.alpha.test", "www.beta.test", "start.alpha.test"]
    for name in names:
        assert ask(PLAIN_ADDR, name, source=ALLOWED_SOURCE).rcode() == dns.rcode.NOERROR
    for _ in range(5):
        ask(PLAIN_ADDR, "www.alpha.test", source=ALLOWED_SOURCE)

    stats = get_json(PLAIN_ADDR, "/api/stats")
    assert sum(stats["answers_total"].values()) >= 8
    assert stats["cache_hits_total"] >= 5
    assert stats["answer_latency_seconds"]["count"] >= 8
    assert stats["cache_bytes"]["messages"] > 0

    series = get_json(PLAIN_ADDR, "/api/series")
    assert series["interval"] == 10
    assert series["points"], series
    assert series["answers"] >= 8
    assert all(p["qps"] >= 0 for p in series["points"])
    assert any(p["qps"] > 0 for p in series["points"]), series

    top = get_json(PLAIN_ADDR, "/api/top?n=10")
    top_names = {item["name"]: item["count"] for item in top["names"]}
    for name in names:
        assert name + "." in top_names, top_names
    assert top["names"][0]["name"] == "www.alpha.test.", top["names"]
    assert top_names["www.alpha.test."] >= 6
    clients = {item["address"]: item["count"] for item in top["clients"]}
    assert clients.get(ALLOWED_SOURCE, 0) >= 8, clients
    assert top["counters"] == 128

    recent = get_json(PLAIN_ADDR, "/api/recent?limit=50")
    assert recent["capacity"] == 1000
    mine = [q for q in recent["queries"] if q["client"] == ALLOWED_SOURCE]
    assert len(mine) >= 8
    newest = mine[0]
    assert newest["name"] == "www.alpha.test." and newest["type"] == "A" and newest["rcode"] == "NOERROR"
    assert newest["cache_hit"] is True and newest["transport"] == "udp"
    assert newest["security"] in ("insecure", "unchecked")  # validation is off here
    times = [q["time"] for q in recent["queries"]]
    assert times == sorted(times, reverse=True)
    assert {q["name"] for q in mine} >= {n + "." for n in names}

    status, _, body = http_get(PLAIN_ADDR, "/api/top?n=0")
    assert status == 400, body
    status, _, _ = http_get(PLAIN_ADDR, "/api/nothing-here")
    assert status == 404


def test_dashboard_page_and_assets_are_served_from_the_binary(plain_daemon):
    status, headers, body = http_get(PLAIN_ADDR, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["content-security-policy"]
    page = body.decode()
    assert '<script src="/dashboard.js"' in page and "/dashboard.css" in page
    for asset, kind in (("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")):
        status, headers, body = http_get(PLAIN_ADDR, asset)
        assert status == 200 and headers["content-type"].startswith(kind), (asset, headers)
        assert b"http://" not in body and b"https://" not in body, asset


def test_host_header_of_another_site_is_refused(plain_daemon):
    # DNS rebinding: a page of attacker.example resolving to this host.
    status, _, _ = http_get(PLAIN_ADDR, "/api/recent", headers={"Host": "attacker.example:8053"})
    assert status == 403
    status, _, _ = http_get(PLAIN_ADDR, "/api/recent", headers={"Host": f"localhost:{HTTP_PORT}"})
    assert status == 200


def test_clients_outside_http_access_control_get_403(resolverd_only, build_dir, hierarchy, workdir):
    r = HttpResolver("resolverd", build_dir, hierarchy.root_hints, os.path.join(workdir, "http-guarded"),
                     listen=GUARDED_ADDR, http_access_control=["127.53.61.0/24"]).start()
    try:
        for path in ("/metrics", "/", "/api/stats", "/api/explain?name=www.alpha.test"):
            status, _, body = http_get(GUARDED_ADDR, path, source=OTHER_SOURCE)
            assert status == 403, (path, status, body[:200])
            assert b"http.access-control" in body
        status, _, body = http_get(GUARDED_ADDR, "/metrics", source=ALLOWED_SOURCE)
        assert status == 200 and b"resolverd_answers_total" in body
        # DNS is not affected by the HTTP access control.
        assert ask(GUARDED_ADDR, "www.alpha.test", source=OTHER_SOURCE).rcode() == dns.rcode.NOERROR
    finally:
        r.stop()


def test_http_address_in_use_is_a_start_up_error(resolverd_only, plain_daemon, build_dir, hierarchy, tmp_path):
    # Another daemon asking for the HTTP address the plain one holds.
    conf = tmp_path / "clash.yaml"
    conf.write_text(with_http(resolverd_config_text(hierarchy.root_hints, listen="127.53.60.3"), PLAIN_ADDR))
    p = subprocess.run([os.path.join(build_dir, "resolverd"), "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0
    assert f"cannot listen on {PLAIN_ADDR}@{HTTP_PORT}" in p.stderr, p.stderr


# -- explain over HTTP -----------------------------------------------------------


def bogus_cut(report, zone):
    cuts = {c["zone"]: c for c in report["chain"]}
    assert zone in cuts, list(cuts)
    return cuts[zone]


def test_api_explain_shows_the_failing_cut_of_a_bogus_name(signed_daemon):
    reply = get_json(SIGNED_ADDR, "/api/explain?name=www.expired.sec&type=A")
    assert reply["ok"] is True
    report = reply["data"]
    assert report["question"]["name"] == "www.expired.sec."
    assert report["verdict"]["rcode"] == "SERVFAIL"
    assert report["verdict"]["security"] == "bogus"
    cut = bogus_cut(report, "expired.sec.")
    assert cut["status"] == "bogus" and cut["on_path"] is True
    assert cut["reason"], cut
    assert cut["ede"]["code"] == 7, cut["ede"]  # RFC 8914 4.8: Signature Expired
    assert cut["dnskeys"] and cut["dnskey_signatures"], cut
    assert all(s["timing"] == "expired" for s in cut["dnskey_signatures"])
    # The cuts above it are secure, the root with the trust anchor.
    assert bogus_cut(report, ".")["status"] == "secure"
    assert bogus_cut(report, ".")["trust_anchor"] is True
    assert bogus_cut(report, "sec.")["status"] == "secure"
    assert report["steps"]

    secure = get_json(SIGNED_ADDR, "/api/explain?name=www.ecdsa256.sec&type=A")["data"]
    assert secure["verdict"]["security"] == "secure"
    assert bogus_cut(secure, "ecdsa256.sec.")["status"] == "secure"

    status, _, body = http_get(SIGNED_ADDR, "/api/explain?name=--cd")
    assert status == 400, body


# -- the dashboard in headless Chromium ------------------------------------------------


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Dom(HTMLParser):
    """The elements of a dumped page: (tag, attributes, text inside)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "index": len(self.elements),
                   "ancestors": {e["index"] for e in self._open}}
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                return

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, inside=None, **attrs):
        def match(e):
            if inside is not None and inside["index"] not in e["ancestors"]:
                return False
            for key, value in attrs.items():
                key = key.rstrip("_").replace("_", "-")
                if key == "tag":
                    if e["tag"] != value:
                        return False
                elif key == "class":
                    if value not in e["attrs"].get("class", "").split():
                        return False
                elif e["attrs"].get(key) != value:
                    return False
            return True
        return [e for e in self.elements if match(e)]

    def by_id(self, element_id):
        found = self.find(id=element_id)
        assert len(found) == 1, (element_id, found)
        return found[0]


class Chromium:
    def __init__(self, binary, artifacts):
        self.binary = binary
        self.artifacts = artifacts
        self.profile = tempfile.mkdtemp(prefix="resolverd-chromium-")

    def argv(self, budget_ms, host):
        return [
            self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability",
            "--disable-breakpad", "--disable-client-side-phishing-detection", "--metrics-recording-only",
            "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
            # Every host resolves to nothing but the daemon's address: nothing else is reachable.
            f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}", "--hide-scrollbars",
            f"--virtual-time-budget={budget_ms}",
        ]

    def run(self, url, args, budget_ms):
        host = urllib.parse.urlsplit(url).hostname
        p = subprocess.run(self.argv(budget_ms, host) + args + [url], capture_output=True, text=True,
                           timeout=180)
        # Chromium's complaints about D-Bus (absent in a container) are noise.
        errors = "\n".join(line for line in p.stderr.splitlines() if "dbus" not in line)
        assert p.returncode == 0, errors[-3000:]
        assert "--dump-dom" not in args or p.stdout.strip(), f"no DOM from {url}:\n{errors[-3000:]}"
        return p.stdout

    def dom(self, url, budget_ms=8000):
        return Dom(self.run(url, ["--dump-dom"], budget_ms))

    def screenshot(self, url, name, budget_ms=8000):
        path = os.path.join(self.artifacts, name)
        if os.path.exists(path):
            os.unlink(path)
        self.run(url, [f"--screenshot={path}", "--window-size=1400,1000"], budget_ms)
        assert os.path.getsize(path) > 10000, path
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        print(f"\nscreenshot: {path}")
        return path

    def close(self):
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def chromium(build_dir):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    artifacts = os.path.join(build_dir, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    c = Chromium(binary, artifacts)
    yield c
    c.close()


def test_dashboard_in_headless_chromium(signed_daemon, chromium):
    asked = ["www.ecdsa256.sec", "www.rsasha256.sec", "www.insecure.sec", "www.expired.sec"]
    for name in asked:
        ask(SIGNED_ADDR, name)
    for _ in range(3):
        assert ask(SIGNED_ADDR, "www.ecdsa256.sec").rcode() == dns.rcode.NOERROR
    answered = sum(get_json(SIGNED_ADDR, "/api/stats")["answers_total"].values())
    url = f"http://{SIGNED_ADDR}:{HTTP_PORT}/"

    dom = chromium.dom(url)
    body = dom.find(tag="body")[0]
    assert int(body["attrs"]["data-refreshes"]) >= 1, "the page fetched its data"
    assert dom.by_id("refresh-state")["attrs"]["data-state"] == "ok"
    assert float(dom.by_id("answers-total")["attrs"]["data-value"]) >= answered
    assert float(dom.by_id("cache-hits-total")["attrs"]["data-value"]) >= 3
    assert 0 < float(dom.by_id("hit-ratio")["attrs"]["data-value"]) <= 1
    assert int(dom.by_id("qps-chart")["attrs"]["data-points"]) >= 1
    rcodes = {e["attrs"]["data-key"]: float(e["attrs"]["data-value"]) for e in dom.find(class_="bar")
              if e["attrs"].get("data-key") in ("NOERROR", "SERVFAIL")}
    assert rcodes.get("NOERROR", 0) >= 3 and rcodes.get("SERVFAIL", 0) >= 1, rcodes
    security = [e["attrs"]["data-key"] for e in dom.find(class_="bar")
                if e["attrs"].get("data-key") in ("secure", "insecure", "bogus")]
    assert {"secure", "insecure", "bogus"} <= set(security), security
    assert dom.find(tag="tr", data_cache="messages"), "cache memory table"

    top_names = [e["attrs"]["data-name"] for e in dom.find(class_="top-name")]
    assert {n + "." for n in asked} <= set(top_names), top_names
    assert top_names[0] == "www.ecdsa256.sec.", top_names
    assert dom.find(class_="top-client", data_address="127.0.0.1"), "queries from the default source"
    recent = [(e["attrs"]["data-name"], e["attrs"]["data-rcode"]) for e in dom.find(class_="recent-query")]
    assert ("www.expired.sec.", "SERVFAIL") in recent, recent
    assert ("www.ecdsa256.sec.", "NOERROR") in recent, recent
    chromium.screenshot(url, "dashboard.png")

    explain_url = url + "?explain=www.expired.sec&type=A"
    dom = chromium.dom(explain_url, budget_ms=15000)
    result = dom.by_id("explain-result")
    assert result["attrs"]["data-state"] == "done", dom.by_id("explain-message")["text"]
    cuts = {e["attrs"]["data-zone"]: e for e in dom.find(class_="cut")}
    assert {".", "sec.", "expired.sec."} <= set(cuts), list(cuts)
    failing = cuts["expired.sec."]
    assert failing["attrs"]["data-status"] == "bogus"
    assert "status-bogus" in failing["attrs"]["class"].split(), "drawn red"
    assert failing["attrs"]["data-on-path"] == "true"
    reasons = dom.find(inside=failing, class_="cut-reason")
    assert len(reasons) == 1 and reasons[0]["text"].strip(), "the reason is shown in the failing box"
    assert dom.find(inside=failing, class_="cut-ede", data_code="7"), "with its Extended DNS Error"
    assert dom.find(inside=failing, class_="timing-expired"), "the expired RRSIG is marked"
    for zone in (".", "sec."):
        assert cuts[zone]["attrs"]["data-status"] == "secure"
        assert "status-secure" in cuts[zone]["attrs"]["class"].split(), "drawn green"
    # DS -> DNSKEY -> RRSIG inside each box.
    assert len(dom.find(class_="ds-list")) >= 3 and len(dom.find(class_="dnskey-list")) >= 3
    assert len(dom.find(class_="rrsig-list")) >= 3
    assert len(dom.find(class_="step")) >= 3
    verdict = dom.find(class_="verdict")[0]
    assert verdict["attrs"]["data-rcode"] == "SERVFAIL" and verdict["attrs"]["data-security"] == "bogus"
    chromium.screenshot(explain_url, "dashboard-explain.png", budget_ms=15000)
