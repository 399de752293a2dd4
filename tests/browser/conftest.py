"""Every page a browser test opens is checked with axe-core.

The autouse fixture below watches every browser context a test creates (the
`page` fixture's and any `browser.new_context()`), runs axe on each page once
it has loaded, and fails the test if axe found a violation of impact serious
or critical, or a moderate/minor one that docs/accessibility.md does not list.
A test checks a state reached without a page load (a menu opened, a form
answered in place) with `axe_audit.check(page)`. New browser tests get all of
this without asking.
"""

import time
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

BLOCKING = {"serious", "critical"}
# Moderate and minor findings accepted for now; each is explained in docs/accessibility.md.
ACCEPTED: set[str] = set()
AXE_SCRIPT = Axe().axe_script
# Inject axe once per document and queue runs: a check on load and one a test asks for may overlap.
RUN = (
    "async (options) => {"
    f" if (typeof window.axe === 'undefined') {{ {AXE_SCRIPT}\n }}"
    " window.__axeQueue = (window.__axeQueue || Promise.resolve()).catch(() => {})"
    "   .then(() => window.axe.run(document, options));"
    " return await window.__axeQueue; }"
)
CLAIM = "() => { const first = !window.__axeClaimed; window.__axeClaimed = true; return first; }"
# axe's WCAG 2.0/2.1/2.2 A and AA rules and its best practices.
OPTIONS = {"resultTypes": ["violations"]}
# The WCAG rules alone: for e-mails, which mail clients frame in their own page.
WCAG_ONLY = {**OPTIONS, "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


class AccessibilityAudit:
    def __init__(self) -> None:
        self.checked: list[str] = []
        self.findings: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        context.on("page", lambda page: page.on("load", lambda: self._after_load(page)))

    def _after_load(self, page: Page) -> None:
        try:
            if page.url.startswith("http") and page.evaluate(CLAIM):  # once per document
                self.check(page)
        except PlaywrightError as error:  # navigated on, or closed, while axe ran: the next load is checked
            if not any(s in str(error) for s in ("context was destroyed", "closed", "navigat")):
                raise

    def check(self, page: Page, state: str = "", options: dict | None = None) -> None:
        """Run axe on the page as it is now (a test calls this for states reached without a load)."""
        url = page.url + (f" ({state})" if state else "")
        response = page.evaluate(RUN, options or OPTIONS)
        self.checked.append(url)
        for violation in response["violations"]:
            if violation["impact"] in BLOCKING or violation["id"] not in ACCEPTED:
                self.findings.append(_describe(url, violation))

    def wait_for(self, page: Page, timeout: float = 15) -> None:
        """Wait until the page now shown has been checked."""
        deadline = time.monotonic() + timeout
        while page.url not in self.checked:
            assert time.monotonic() < deadline, f"axe never checked {page.url}"
            page.wait_for_timeout(50)

    def report(self) -> str:
        return f"axe-core found {len(self.findings)} accessibility violation(s):\n" + "\n".join(self.findings)


def _describe(url: str, violation: dict) -> str:
    nodes = "\n".join(
        f"      {', '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}"[:400]
        for node in violation["nodes"][:5]
    )
    return (
        f"  {url}\n    [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})\n{nodes}"
    )


@pytest.fixture(autouse=True)
def axe_audit(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccessibilityAudit]:
    audit = AccessibilityAudit()
    new_context = Browser.new_context

    def watched_new_context(self: Browser, *args, **kwargs) -> BrowserContext:
        context = new_context(self, *args, **kwargs)
        audit.watch(context)
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield audit
    if audit.findings:
        pytest.fail(audit.report(), pytrace=False)
