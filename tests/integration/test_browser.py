"""What the operator sees, in a real browser: Icinga 2 (IDO on MariaDB, GraphiteWriter to
carbon) runs the plugin against the lab with the shipped CheckCommand and example services;
Icinga Web 2 with the monitoring and graphite modules (the shipped graph template installed as
the README says) shows the services; headless Chromium renders them, and the tests read the
rendered DOM through the DevTools protocol:

* a certificate whose CN and SANs hold HTML shows them as text: no <img> or <a> of theirs in the
  DOM, and the beacon they point at (a loopback address of its own) sees no request;
* on a 3-node array whose third node is CRITICAL, that node's line is visible before "expand",
  and the node lines stay separate lines;
* the graph template's days-left panel is one panel, and graphite-web draws one series per node
  from the paths the GraphiteWriter wrote.

Screenshots of every page go to build/browser/ (CI keeps them). Everything listens on loopback.
"""

from __future__ import annotations

import configparser
import re
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab import Lab, hostile
from contrib.lab.identities import hostile_certificates

from .conftest import REPO, missing, require_program
from .daemons import chown_to_daemon_user, free_port, wait_until
from .icinga import ClusterCA, Icinga2
from .webui import (
    IDO_DATABASE,
    IDO_PASSWORD,
    IDO_USER,
    Beacon,
    Chromium,
    Graphite,
    IcingaWeb,
    MariaDB,
)

pytestmark = pytest.mark.integration

COMMAND_FILE = REPO / "contrib" / "icinga2" / "outlook_anywhere.conf"
EXAMPLES_FILE = REPO / "contrib" / "icinga2" / "outlook_anywhere-services.conf.example"
TEMPLATE_FILE = REPO / "contrib" / "icingaweb2" / "outlook_anywhere.ini"
SERVICE = "outlook-anywhere"  # the example's rule for an array host
SHOTS = REPO / "build" / "browser"
BEACON = urllib.parse.urlparse(hostile_certificates.BEACON)
# The plugin output on a detail page, once Icinga Web's JavaScript has set it up.
OUTPUT = "document.querySelector('#check-output-outlook_anywhere')"


@dataclass
class Stack:
    lab: Lab
    icinga: Icinga2
    web: IcingaWeb
    graphite: Graphite
    mariadb: MariaDB
    browser: Chromium
    beacon: Beacon
    markup: str  # host names
    array: str


def icinga_config(icinga: Icinga2, plugin_dir: Path, graphite: Graphite, db: MariaDB) -> str:
    return (
        f'const PluginDir = "{plugin_dir}"\n'
        + icinga.base_config()
        + f"""
include "{COMMAND_FILE.name}"
include "examples.conf"
include "hosts.conf"
library "db_ido_mysql"
object IdoMysqlConnection "ido-mysql" {{
  host = "127.0.0.1"
  port = {db.port}
  user = "{IDO_USER}"
  password = "{IDO_PASSWORD}"
  database = "{IDO_DATABASE}"
}}
object GraphiteWriter "graphite" {{
  host = "127.0.0.1"
  port = {graphite.carbon_port}
}}
"""
    )


def hosts(lab: Lab, ca: Path, names: list[str]) -> str:
    return "".join(
        f"""object Host "{name}" {{
  check_command = "dummy"
  enable_active_checks = false
  vars.outlook_anywhere_array = true
  vars.outlook_anywhere_port = {lab.port}
  vars.outlook_anywhere_dns_server = "{lab.dns_server}"
  vars.outlook_anywhere_ca_file = "{ca}"
}}
"""
        for name in names
    )


@pytest.fixture(scope="module")
def stack(scratch: Path, plugin_dir: Path, lab: Lab, lab_ca: Path) -> Iterator[Stack]:
    for program in ("icinga2", "mariadbd", "carbon-cache", "php", "chromium"):
        require_program(program)
    for path in (
        "/usr/share/icingaweb2/modules/monitoring",
        "/usr/share/icingaweb2/modules/graphite",
    ):
        if not Path(path).is_dir():
            missing(f"{path} is not installed")
    hostile.install(lab)
    markup, array = hostile.BY_NAME["markup"].host, lab.scenario("wrong-cn-node").host
    root = scratch / "browser"
    root.mkdir()
    beacon = Beacon(BEACON.hostname or "", BEACON.port or 80)
    db, graphite = MariaDB(root / "mariadb"), Graphite(root / "graphite")
    web = IcingaWeb(root / "icingaweb", db, graphite)
    browser = Chromium(root / "chromium")
    icinga = Icinga2(root / "icinga2", "localhost", free_port(), ClusterCA())
    started: list[object] = []
    try:
        for part in (db, graphite):
            part.start()
            started.append(part)
        icinga.write("icinga2.conf", icinga_config(icinga, plugin_dir, graphite, db))
        icinga.install(COMMAND_FILE, COMMAND_FILE.name)
        icinga.install(EXAMPLES_FILE, "examples.conf")
        icinga.write("hosts.conf", hosts(lab, lab_ca, [markup, array]))
        validation = icinga.validate()
        assert validation.returncode == 0, validation.stdout + validation.stderr
        icinga.start()
        started.append(icinga)
        web.install_template(TEMPLATE_FILE)  # where the README says to put it
        web.start()
        started.append(web)
        browser.start()
        started.append(browser)
        yield Stack(lab, icinga, web, graphite, db, browser, beacon, markup, array)
    finally:
        for part in reversed(started):
            part.stop()  # type: ignore[attr-defined]
        beacon.close()
        lab.reset()
        # the daemons' logs beside the screenshots (CI keeps build/)
        logs = SHOTS / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for log in root.rglob("*.log"):
            shutil.copy(log, logs / f"{log.parent.name}-{log.name}")
        chown_to_daemon_user(root)
        shutil.rmtree(root, ignore_errors=True)


def recorded_output(stack: Stack, host: str) -> str | None:
    """The service's output as the IDO holds it (what Icinga Web shows), once it is there."""
    rows = stack.mariadb.sql(
        "SELECT s.output FROM icinga_servicestatus s JOIN icinga_objects o"
        " ON o.object_id = s.service_object_id"
        f" WHERE o.name1 = '{host}' AND o.name2 = '{SERVICE}' AND o.is_active = 1",
        database=IDO_DATABASE,
    )
    return rows.strip() or None


def checked(stack: Stack, host: str) -> str:
    """Run the service now; wait until the IDO holds its result."""
    stack.icinga.check(host, SERVICE)
    return wait_until(
        f"{host}'s result in the IDO",
        lambda: (
            o if (o := recorded_output(stack, host)) and o.startswith("OUTLOOK_ANYWHERE") else None
        ),
        60,
        stack.icinga.log,
    )


def detail_page(stack: Stack, host: str) -> str:
    query = urllib.parse.urlencode({"host": host, "service": SERVICE})
    return f"{stack.web.url}/monitoring/service/show?{query}"


def open_detail(stack: Stack, host: str, shot: str) -> None:
    stack.browser.open(
        detail_page(stack, host), f"!!{OUTPUT} && document.readyState === 'complete'"
    )
    time.sleep(1)  # Icinga Web folds the long output once its scripts have run
    stack.browser.screenshot(SHOTS / shot)


def test_the_beacon_sees_a_browser_that_renders_markup(stack: Stack) -> None:
    """The control: a page on loopback that does hold the markup (as a page of Icinga Web would,
    rendering it as HTML) makes the browser ask the beacon."""
    import http.server
    import threading

    markup = f"<img src='{hostile_certificates.BEACON}/control.png'>".encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(markup)))
            self.end_headers()
            self.wfile.write(markup)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stack.browser.open(f"http://127.0.0.1:{server.server_address[1]}/")
        wait_until(
            "the beacon to see the control request",
            lambda: True if any("/control.png" in r for r in stack.beacon.requests) else None,
            10,
            stack.browser.log,
        )
    finally:
        server.shutdown()
        server.server_close()
    stack.beacon.requests.clear()


def test_a_hostile_certificate_shows_as_text(stack: Stack) -> None:
    output = checked(stack, stack.markup)
    assert output.startswith("OUTLOOK_ANYWHERE CRITICAL - "), output
    open_detail(stack, stack.markup, "hostile-certificate-detail.png")
    from_certificate = stack.browser.page.evaluate(  # type: ignore[union-attr]
        "Array.from(document.querySelectorAll('img[src], a[href], [src], [href]'))"
        f".map(e => e.getAttribute('src') || e.getAttribute('href'))"
        f".filter(v => v.includes('{BEACON.hostname}'))"
    )
    assert from_certificate == [], from_certificate
    text = stack.browser.page.evaluate(f"{OUTPUT}.innerText")  # type: ignore[union-attr]
    assert '\\x3cimg src="http://127.0.0.9:9999/b.png"\\x3e' in text, text
    assert not stack.browser.page.evaluate(f"{OUTPUT}.querySelector('img, a, b, p')")  # type: ignore[union-attr]
    stack.browser.open(
        f"{stack.web.url}/monitoring/list/services",
        "!!document.querySelector('.state-outline, .state-ball, table')",
    )
    time.sleep(1)
    stack.browser.screenshot(SHOTS / "service-list.png")
    dom = stack.browser.dom()
    assert "127.0.0.9:9999/b.png" in dom  # the list shows the first line, as text
    assert not re.search(r"<(img|a)\b[^>]*127\.0\.0\.9", dom), "markup of the certificate"
    time.sleep(1)  # a request the pages started would have arrived by now
    assert stack.beacon.requests == [], stack.beacon.requests


def test_the_critical_node_is_visible_before_expand(stack: Stack) -> None:
    output = checked(stack, stack.array)
    assert output.startswith("OUTLOOK_ANYWHERE CRITICAL - 127.0.14.3: "), output
    open_detail(stack, stack.array, "critical-node-detail.png")
    stack.browser.screenshot(SHOTS / "critical-node-viewport.png", whole_page=False)
    page = stack.browser.page
    assert page is not None
    # the node lines, as the browser lays them out: separate lines, the CRITICAL one first
    lines = page.evaluate(f"{OUTPUT}.innerText").splitlines()
    nodes = [line.split()[0] for line in lines if line.startswith("127.0.14.")]
    assert nodes == ["127.0.14.3", "127.0.14.1", "127.0.14.2"], lines
    # visible: the line's box lies inside what the folded output shows
    seen = page.evaluate(
        f"""(() => {{
          const out = {OUTPUT};
          const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {{
            const at = node.data.indexOf('127.0.14.3 CRITICAL');
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + 19);
            const line = range.getBoundingClientRect();
            // folded: Icinga Web's collapsible sets a height and hides the overflow
            const shown = out.getBoundingClientRect();
            return {{top: line.top, bottom: line.bottom, shownTop: shown.top,
                     shownBottom: shown.bottom, folded: out.classList.contains('collapsed')
                     && getComputedStyle(out).overflow === 'hidden'
                     && out.scrollHeight > out.clientHeight}};
          }}
          return null;
        }})()"""
    )
    assert seen is not None, "no '127.0.14.3 CRITICAL' in the rendered output"
    assert seen["folded"], f"the output is not folded, so 'visible' proves nothing: {seen}"
    assert seen["shownTop"] <= seen["top"] and seen["bottom"] <= seen["shownBottom"], seen


def test_the_days_left_panel_has_one_series_per_node(stack: Stack) -> None:
    checked(stack, stack.array)
    host = stack.array.replace(".", "_")
    prefix = f"icinga2.{host}.services.{SERVICE}.outlook_anywhere.perfdata"
    wanted = {f"days_left_127_0_14_{n}" for n in (1, 2, 3)}

    def written() -> bool | None:
        got = {
            s["target"].split(".")[-2] for s in stack.graphite.render(f"{prefix}.days_left*.value")
        }
        return True if got >= wanted | {"days_left"} else None

    wait_until("the GraphiteWriter's paths in graphite-web", written, 60, stack.graphite.log)
    # the template's own function for the per-node curve, on the path the writer wrote
    template = configparser.ConfigParser(interpolation=None)
    template.read(TEMPLATE_FILE)
    function = template["outlook_anywhere-days-left.functions"]["nodes.value"].strip('"')
    series = stack.graphite.render(function.replace("$metric$", f"{prefix}.days_left.value"))
    assert sorted(s["target"] for s in series) == sorted(wanted), series
    assert all(any(v is not None for v, _ in s["datapoints"]) for s in series), series
    # Icinga Web draws it as one panel (one image), not one per node
    open_detail(stack, stack.array, "graphs-detail.png")
    images = stack.browser.page.evaluate(  # type: ignore[union-attr]
        "Array.from(document.querySelectorAll('img.graphiteImg'))"
        ".map(i => i.dataset.actualimageurl || i.getAttribute('src'))"
    )
    panels = [src for src in images if "outlook_anywhere-days-left" in urllib.parse.unquote(src)]
    assert len(panels) == 1, images
    (SHOTS / "days-left-panel.url").write_text(panels[0] + "\n")
    per_node = [src for src in images if "days_left_127" in urllib.parse.unquote(src)]
    assert per_node == [], images  # not drawn again one graph per node
    with urllib.request.urlopen(
        urllib.parse.urljoin(stack.web.url, panels[0]), timeout=30
    ) as reply:
        assert reply.headers["Content-Type"].startswith("image/png")
        (SHOTS / "days-left-panel.png").write_bytes(reply.read())
    # every curve of the panel (days_left, the nodes, both thresholds) reached graphite-web
    # whole, as the module asked for it (Django's server logs each request)
    asked = urllib.parse.unquote_plus(stack.graphite.log.read_text(errors="replace"))
    for curve, text in template["outlook_anywhere-days-left.functions"].items():
        target = text.strip('"').replace("$metric$", f"{prefix}.days_left.value")
        assert f"target={target}" in asked, f"{curve}: {target} not asked of graphite-web"
