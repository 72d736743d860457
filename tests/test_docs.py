"""The documentation stays true: names are documented, examples run, links resolve."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import frankenws

DOCS = Path(__file__).resolve().parent.parent / "docs"
SDK_PAGE = DOCS / "sdk.md"
PAGES = sorted(DOCS.glob("*.md"))

_FENCE = re.compile(r"^(?P<indent> {0,3}|\t*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    info: str
    line: int
    """1-based line number of the first line of code."""
    code: str


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        start = i + 1
        j = start
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            j += 1
        body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[start:j]]
        blocks.append(Block(match["info"].strip(), start + 1, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def _prose(text: str) -> str:
    """The page without its fenced code blocks."""
    out, inside, fence = [], False, ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if not inside and match is not None:
            inside, fence = True, match["fence"]
            continue
        if inside:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                inside = False
            continue
        out.append(line)
    return "\n".join(out)


def _documented_names(text: str) -> str:
    """Headings and inline code spans of a page, joined: where names count as documented."""
    prose = _prose(text)
    headings = [line for line in prose.splitlines() if line.lstrip().startswith("#")]
    spans = [m.group(2) for m in _CODE_SPAN.finditer(prose)]
    return "\n".join(headings + spans)


def _public_names(cls: type) -> list[str]:
    return sorted(name for name, _ in inspect.getmembers(cls) if not name.startswith("_"))


def _exception_names() -> list[str]:
    return sorted(
        name
        for name in frankenws.__all__
        if isinstance(getattr(frankenws, name), type)
        and issubclass(getattr(frankenws, name), BaseException)
    )


@pytest.mark.parametrize(
    "name",
    sorted(set(_public_names(frankenws.Client)) | set(_public_names(frankenws.AsyncClient))),
)
def test_client_member_is_documented(name: str) -> None:
    """Every public method and property of the clients is named in sdk.md."""
    documented = _documented_names(SDK_PAGE.read_text(encoding="utf-8"))
    assert re.search(rf"\b{re.escape(name)}\b", documented), (
        f"{name} is not documented in docs/sdk.md (as a heading or in backticks)"
    )


def test_every_route_method_has_a_heading() -> None:
    """Each of the 41 route methods and request() has its own heading in sdk.md."""
    text = SDK_PAGE.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#{2,4} `(\w+)`\s*$", text, re.MULTILINE))
    methods = {
        name
        for name, member in inspect.getmembers(frankenws.Client, inspect.isfunction)
        if not name.startswith("_") and name != "close"
    }
    assert len(methods) == 42
    assert methods - headings == set()


@pytest.mark.parametrize("name", _exception_names())
def test_exception_is_documented(name: str) -> None:
    """Every exception class exported by frankenws is named in sdk.md."""
    documented = _documented_names(SDK_PAGE.read_text(encoding="utf-8"))
    assert re.search(rf"\b{re.escape(name)}\b", documented), (
        f"{name} is not documented in docs/sdk.md"
    )


def test_docs_exist() -> None:
    """The pages this test module is about are there."""
    names = {page.name for page in PAGES}
    assert {"index.md", "sdk.md", "protocol-notes.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A page's ```python blocks run in order in one namespace; ``python no-run`` ones do not."""
    blocks = [b for b in _blocks(page.read_text(encoding="utf-8")) if b.info == "python"]
    if not blocks:
        return
    # The examples run against the fake; without it they cannot run, and that is a failure.
    try:
        from frankenws.testing import FakeFrankenPHP  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"frankenws.testing.FakeFrankenPHP is not importable: {exc}")
    # The examples must not depend on the environment of whoever runs them.
    for var in ("FRANKENWS_ADMIN_URL", "CADDY_ADMIN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block in blocks:
        # Padding keeps line numbers in tracebacks equal to the lines of the Markdown file.
        source = "\n" * (block.line - 1) + block.code
        exec(compile(source, str(page), "exec"), namespace)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(page.read_text(encoding="utf-8")).splitlines():
        if not re.match(r"^#{1,6} ", line):
            continue
        slug = _slug(line)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _relative_links(page: Path) -> list[str]:
    targets = [m["target"] for m in _LINK.finditer(_prose(page.read_text(encoding="utf-8")))]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    """Relative links point at existing files, and their #anchors at existing headings."""
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert broken == [], f"broken links in {page.name}: {broken}"
