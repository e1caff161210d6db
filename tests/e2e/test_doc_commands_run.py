"""Every shell command of the README and docs/ runs as written, page by page, in page order.

One demo server (what `make serve` starts on a first run, with the config the pages' fixture
maps ask for) serves every page, in the order of the pages; each page gets a scratch directory
holding the files its commands name, and its commands run in a shell in the order the page
shows them, so a page's earlier steps set up its later ones (register, promote, roll back).
Only the address and the key are the test server's; placeholders (``ID``) take values from
the page's fixture map (tests/e2e/doc_pages.py). Each command must exit 0, or with the
status the page documents. A command that cannot run on this machine is in the reviewed
skip list with its reason, and a skip that no longer names a documented command fails the
test, so the list cannot rot. (tests/cli/test_doc_commands.py parses every synopsis in full;
this runs the lines.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.doc_commands import Command, commands, fill, shortest
from tests.e2e.doc_page import Page, Value, block
from tests.e2e.doc_pages import PAGES, SKIPS
from tests.e2e.doc_run import as_run, run, shell_env
from tests.e2e.server import BASTION, ROOT, Server, make_server

pytestmark = pytest.mark.e2e

ALL = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DOCUMENTED = {page: list(commands(page, ROOT)) for page in ALL}
SKIPPED = {(s.page, s.command): s.reason for s in SKIPS}
RUN = [
    str(p.relative_to(ROOT))
    for p, found in DOCUMENTED.items()
    if found or PAGES.get(str(p.relative_to(ROOT)), Page()).programs
]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultUpstream]:
    with running_upstream() as fake:
        yield fake


def _merged(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merged(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = [*into[key], *value]
        else:
            into[key] = value
    return into


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, upstream: FaultUpstream) -> Iterator[Server]:
    """One demo server for every page (what `make serve` starts on a first run), with the
    config and the importable modules the pages' fixture maps ask for."""
    base = tmp_path_factory.mktemp("docs")
    slots = {"upstream": upstream.base_url}
    config: dict[str, Any] = {}
    for text in dict.fromkeys(p.config for p in PAGES.values() if p.config is not None):
        _merged(config, yaml.safe_load(_fill(text, slots)))  # each text once, in page order
    for page in PAGES.values():
        for name, text in page.modules.items():
            (base / "site" / name).parent.mkdir(parents=True, exist_ok=True)
            (base / "site" / name).write_text(text)
    (base / "bastion.yaml").write_text(yaml.safe_dump(config))
    pythonpath = os.pathsep.join([str(base / "site"), str(ROOT)])
    started = make_server(
        base / "data", BASTION_CONFIG=str(base / "bastion.yaml"), PYTHONPATH=pythonpath
    )
    started.start()
    yield started
    started.stop()


def _skipped(command: Command) -> bool:
    return (command.page, command.bare) in SKIPPED


def _fill(text: str, slots: dict[str, str]) -> str:
    for name, value in slots.items():
        text = text.replace("{" + name + "}", value)
    return text


def _prepare(page: Page, work: Path, slots: dict[str, str]) -> None:
    venv = work / ".venv"
    venv.mkdir(parents=True)
    (venv / "bin").symlink_to(Path(BASTION).parent)  # the README's B=.venv/bin/bastion
    for name, made in page.files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(made, str):
            path.write_text(_fill(made, slots))
        else:
            made(path)


def test_the_pages_hold_commands() -> None:
    assert sum(len(found) for found in DOCUMENTED.values()) > 80  # the extraction works


def test_every_skip_names_a_documented_command() -> None:
    documented = {(c.page, c.bare) for found in DOCUMENTED.values() for c in found}
    gone = [f"{page}: {command}" for page, command in SKIPPED if (page, command) not in documented]
    assert not gone, f"skip-listed commands the docs no longer show (drop them): {gone}"


def test_every_fixture_names_a_page_with_commands() -> None:
    assert set(PAGES) <= set(RUN), set(PAGES) - set(RUN)


@pytest.mark.parametrize("name", RUN)
def test_a_pages_commands_run_as_written(
    name: str, server: Server, upstream: FaultUpstream, tmp_path: Path
) -> None:
    page = PAGES.get(name, Page())
    found = [c for c in DOCUMENTED[ROOT / name] if not _skipped(c)]
    if not found and not page.programs:
        pytest.skip("every command of the page is in the reviewed skip list")
    work = tmp_path / "work"
    with contextlib.ExitStack() as stack:
        if page.own_config is not None:
            config = tmp_path / "bastion.yaml"
            config.write_text(_fill(page.own_config, {"upstream": upstream.base_url}))
            server = make_server(
                tmp_path / "data", BASTION_DEMO="false", BASTION_CONFIG=str(config)
            ).start()
            stack.callback(server.stop)
        today = datetime.now(UTC).date()
        slots = {
            "work": str(work),
            "root": str(ROOT),
            "url": server.url,
            "TODAY": today.isoformat(),
            "TOMORROW": (today + timedelta(days=1)).isoformat(),
        }
        _prepare(page, work, slots)
        if page.setup is not None:
            slots |= page.setup(server, work)
        target = server if page.server else None
        env = shell_env(target, work, {k: _fill(v, slots) for k, v in page.env.items()})
        env |= {k: v for k, v in slots.items() if k.isupper()}
        failures = _run_all(page, found, server, target, work, slots, env)
        failures += _run_programs(name, page, work, env)
    assert not failures, "\n\n".join(failures)


def _run_programs(name: str, page: Page, work: Path, env: dict[str, str]) -> list[str]:
    failures: list[str] = []
    for index in page.programs:
        source = block(name, "python", index)
        (work / f"example_{index}.py").write_text(source)
        done = subprocess.run(
            [sys.executable, f"example_{index}.py"],
            cwd=work,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            failures.append(
                f"{name}: ```python block {index} (a whole program) failed:\n"
                + (done.stdout + done.stderr)[-2000:]
            )
    return failures


def _value(value: Value, server: Server | None, work: Path, slots: dict[str, str]) -> str:
    if isinstance(value, str):
        return _fill(value, slots)
    assert server is not None, "a value read from the server, on a page without one"
    try:  # read from the server now; a line that needs it fails with the reason
        return value(server, work)
    except Exception as exc:
        return f"<unavailable: {exc}>"


def _run_all(
    page: Page,
    found: list[Command],
    server: Server | None,
    target: Server | None,
    work: Path,
    slots: dict[str, str],
    env: dict[str, str],
) -> list[str]:
    prelude: list[str] = []
    failures: list[str] = []
    for command in found:
        where = f"{command.page}:{command.line}: {command.text}"
        if command.bare in page.before:
            status, output = run(prelude, page.before[command.bare], env, work)
            assert status == 0, f"{where}: the fixture's step before it failed:\n{output}"
        own = page.lines.get(command.bare, {})
        named = {k: v for k, v in slots.items() if k.isupper()}  # setup's values
        values = named | {
            k: _value(v, server, work, slots) for k, v in {**page.values, **own}.items()
        }
        replace = {k: _fill(v, {**slots, **values}) for k, v in page.replace.items()}
        text, missing = as_run(command, target, values, replace)
        if missing:
            failures.append(f"{where}\n  no value for {missing} in the page's fixture map")
            continue
        line_env = {**env, **{k: v for k, v in values.items() if k.isidentifier()}}
        status, output = run(prelude, text, line_env, work)
        if command.assigns:
            prelude.append(text)
        expected = page.status.get(command.bare, 0)
        if status != expected:
            tail = "\n".join("  | " + line for line in output.splitlines()[-15:])
            failures.append(
                f"{where}\n  ran: {text}\n  exit {status} (documented {expected})\n{tail}"
            )
    return failures


def test_a_synopsis_runs_in_its_shortest_form_with_its_placeholders_filled() -> None:
    line = Command("p.md", 1, "bastion review list [--deployment D] [--json] --format a|b")
    assert line.synopsis and shortest(line.bare) == "bastion review list --format a"
    text, missing = fill(
        "curl $URL/v1/review/items/ITEM/decide && bastion x ID… REQUEST_ID",
        {"ITEM": "rev_1", "ID": "7"},
    )
    assert text == "curl $URL/v1/review/items/rev_1/decide && bastion x 7 REQUEST_ID"
    assert missing == ["REQUEST_ID"]
    assert Command("p.md", 1, "make serve   # first run; serves it").bare == "make serve"


def test_a_command_the_cli_refuses_is_reported(tmp_path: Path) -> None:
    wrong = Command("p.md", 1, "bastion models list --no-such-option")
    env = shell_env(None, tmp_path, {})
    failures = _run_all(Page(server=False), [wrong], None, None, tmp_path, {}, env)
    assert len(failures) == 1 and "exit 2 (documented 0)" in failures[0]
