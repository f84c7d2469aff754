"""Type-check code a user would write against ifrit with ``mypy --strict``.

``pass/*.py`` must type-check cleanly; in ``fail/*.py`` every line marked
``# E: <error-code>`` must be reported with that code, and nothing else may
be. The snippets are only type-checked, never run. Skipped where mypy is not
installed (the wheel test environments).
"""

from __future__ import annotations

import os
import pathlib
import re
import sys

import pytest

api = pytest.importorskip("mypy.api")

HERE = pathlib.Path(__file__).parent
PASS = sorted((HERE / "pass").glob("*.py"))
FAIL = sorted((HERE / "fail").glob("*.py"))
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<msg>.*?)  \[(?P<code>[a-z-]+)\]$")

pytestmark = pytest.mark.slow  # a cold mypy run takes several seconds


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], list[str]]:
    """Run mypy once over every snippet; {(file name, line): [error codes]}."""
    import ifrit

    pkg_parent = pathlib.Path(ifrit.__file__).resolve().parent.parent
    env_path = os.environ.get("MYPYPATH")
    try:
        if "site-packages" not in pkg_parent.parts:  # an editable install: show mypy the sources
            os.environ["MYPYPATH"] = str(pkg_parent)
        out, err, _ = api.run([
            "--strict", "--show-error-codes", "--no-error-summary", "--hide-error-context",
            "--no-color-output", "--python-executable", sys.executable,
            "--cache-dir", str(tmp_path_factory.mktemp("mypy-cache")),
            *map(str, PASS + FAIL),
        ])
    finally:
        if env_path is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = env_path
    report: dict[tuple[str, int], list[str]] = {}
    for line in out.splitlines():
        m = ERROR.match(line)
        if m is None:
            assert ": note: " in line, f"unexpected mypy output: {line}\n{err}"
            continue
        report.setdefault((pathlib.Path(m["file"]).name, int(m["line"])), []).append(
            f"{m['code']}: {m['msg']}")
    assert not err.strip(), err
    return report


@pytest.mark.parametrize("path", PASS, ids=lambda p: p.name)
def test_snippet_type_checks(path: pathlib.Path, mypy_report: dict[tuple[str, int], list[str]]) -> None:
    errors = {k: v for k, v in mypy_report.items() if k[0] == path.name}
    assert errors == {}, f"mypy --strict reported errors in {path.name}: {errors}"


@pytest.mark.parametrize("path", FAIL, ids=lambda p: p.name)
def test_snippet_fails_as_expected(path: pathlib.Path, mypy_report: dict[tuple[str, int], list[str]]) -> None:
    expected = {}
    for n, text in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"# E: ([a-z-]+)\s*$", text)
        if m:
            expected[n] = m[1]
    assert expected, f"{path.name} marks no expected error"
    got = {line: msgs for (name, line), msgs in mypy_report.items() if name == path.name}
    for line, code in expected.items():
        assert any(m.startswith(code + ":") for m in got.get(line, [])), (
            f"{path.name}:{line}: expected a [{code}] error, mypy said {got.get(line)}")
    unexpected = {line: msgs for line, msgs in got.items() if line not in expected}
    assert not unexpected, f"{path.name}: unexpected mypy errors {unexpected}"
