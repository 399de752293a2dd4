"""Imports run one way, downward: views, admin, tasks and commands -> process
modules -> models, and blog -> accounts, never accounts -> blog. No circle
between modules (counting imports inside functions), no process module that
queues Celery work, and no import hidden inside a function except in the apps'
start-up hooks."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "blog", "config")
# The callers: they may import the process modules and blog.tasks (blog.api is views, as JSON).
CALLERS = ("blog.views", "blog.api", "blog.admin", "blog.tasks", "blog.management", "blog.urls", "blog.templatetags",
           "blog.posts.feeds", "blog.posts.sitemaps", "blog.forms", "blog.apps", "blog.context_processors", "config",
           "blog.accountmail", "accounts.views", "accounts.urls", "accounts.admin", "accounts.apps",
           "accounts.forms", "blog.federation.views", "blog.federation.urls",
           "blog.federation.tasks", "blog.federation.middleware")  # fmt: skip
# Function-level imports that are needed: the apps' start-up hooks.
ALLOWED_LATE_IMPORTS = {"accounts.apps", "blog.apps"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


MODULES = project_modules()


def _targets(node: ast.Import | ast.ImportFrom, importer: str) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer.rsplit(".", node.level)[0]
            base = f"{package}.{base}".rstrip(".")
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != importer:
            found.add(name)
    return found


def _runtime_nodes(node: ast.AST) -> list[ast.AST]:
    """Every node under `node` except what sits in an `if TYPE_CHECKING:` block (never imported when running)."""
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        return []
    return [node, *(found for child in ast.iter_child_nodes(node) for found in _runtime_nodes(child))]


def imports(module: str, *, top_level: bool) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    nodes = tree.body if top_level else _runtime_nodes(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _targets(node, module)
    return found


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""]


def late_imports(module: str) -> list[str]:
    tree = ast.parse(MODULES[module].read_text())
    return [
        ast.unparse(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for sub in ast.walk(node)
        if isinstance(sub, ast.Import | ast.ImportFrom)
    ]


def is_caller(module: str) -> bool:
    return any(module == c or module.startswith(c + ".") for c in CALLERS)


def test_no_module_imports_itself_round_a_circle() -> None:
    # Imports inside functions count too: hiding one there keeps the circle, only later.
    graph = {module: imports(module, top_level=False) for module in MODULES}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import circle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not is_caller(m)))
def test_process_modules_and_models_import_only_downward(module: str) -> None:
    upward = {target for target in imports(module, top_level=False) if is_caller(target)}
    assert not upward, f"{module} imports {sorted(upward)}"
    tree = ast.parse(MODULES[module].read_text())
    celery = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(name.split(".")[0] == "celery" for name in _imported_names(node))
    ]
    assert not celery, f"{module} should leave queueing to its callers: {celery}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("accounts")))
def test_no_accounts_module_imports_blog(module: str) -> None:
    # blog builds on accounts (its users); what needs both apps lives in blog (e.g. blog.accountmail).
    upward = {target for target in imports(module, top_level=False) if target.startswith("blog")}
    assert not upward, f"{module} imports {sorted(upward)}"


@pytest.mark.parametrize("module", sorted(set(MODULES) - ALLOWED_LATE_IMPORTS))
def test_no_import_hides_inside_a_function(module: str) -> None:
    assert late_imports(module) == []


def test_every_module_imports_first_in_a_fresh_interpreter_in_any_order() -> None:
    names = sorted(m for m in MODULES if m not in ("config.wsgi", "config.asgi"))
    script = (
        "import django, importlib, os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "django.setup()\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
    )
    for order in (names, names[::-1]):
        result = subprocess.run(
            [sys.executable, "-c", script, *order], cwd=ROOT, capture_output=True, text=True, env={"TESTING": "1",
            "PATH": "/usr/bin:/bin"}, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]


# Each part of blog/ names, on its __init__.py's "May import:" line, the other parts it may import;
# blog.models and blog.pagecache sit below every part, and any part may import them.
PARTS = sorted(p.parent.name for p in (ROOT / "blog").glob("*/__init__.py") if "May import:" in p.read_text())


def allowed_parts(part: str) -> set[str]:
    """The parts a part's docstring names on its "May import:" line."""
    line = next(x for x in (ROOT / "blog" / part / "__init__.py").read_text().splitlines() if "May import:" in x)
    return set(re.findall(r"blog\.(\w+)", line))


@pytest.mark.parametrize("part", PARTS)
def test_each_part_imports_only_what_its_docstring_allows(part: str) -> None:
    allowed = allowed_parts(part) | {part}
    wrong = {
        f"{module} -> {target}"
        for module in MODULES
        if module.startswith(f"blog.{part}.")
        for target in imports(module, top_level=False)
        if target.startswith("blog.") and target.split(".")[1] in set(PARTS) - allowed
    }
    assert not wrong, f"blog/{part}/__init__.py does not allow: {sorted(wrong)}"
