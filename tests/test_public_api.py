"""The exported names of each public module are exactly the documented ones.

The expected sets are literal, taken from SPEC (the API contract): adding or
removing a public name must be a deliberate change to this file and the docs.
Also: ``ifrit.__version__`` agrees with the installed distribution's metadata.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pathlib
import re
import types

import pytest

import ifrit

EXPECTED = {
    "ifrit": {
        "CLOSED", "Closed", "Event", "Mailbox", "Process", "RunFunc", "Runner", "Signals",
        "StartError", "StartTimeout", "__version__", "background", "invoke", "run", "select",
    },
    "ifrit.grouper": {
        "DuplicateNamesError", "DynamicClient", "DynamicGroup", "EntranceEvent", "ErrorTrace",
        "ExitEvent", "GroupClosedError", "Member", "Ordered", "Parallel", "QueueOrdered",
    },
    "ifrit.restart": {"Backoff", "Restarter", "on_error"},
    "ifrit.sigmon": {"Sigmon", "new"},
    "ifrit.proxy": {"Proxy", "new"},
    "ifrit.testing": {"FakeRunner", "SignalRecorder", "interrupt", "invoke", "kill"},
}
# Packages whose implementation lives in private submodules: every public
# attribute (other than a submodule) must be exported. The single-module
# packages (restart, sigmon, proxy) also hold their own imports, so for them
# only what the module itself defines is checked.
RE_EXPORTING = {"ifrit", "ifrit.grouper", "ifrit.testing"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_all_is_exactly_the_documented_names(name: str) -> None:
    mod = importlib.import_module(name)
    assert sorted(mod.__all__) == sorted(EXPECTED[name])
    assert len(mod.__all__) == len(set(mod.__all__)), "duplicates in __all__"
    for attr in mod.__all__:
        assert hasattr(mod, attr), f"{name}.__all__ names {attr!r}, which does not exist"
    star: dict[str, object] = {}
    exec(f"from {name} import *", star)
    assert set(star) - {"__builtins__"} == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_undocumented_public_attributes(name: str) -> None:
    mod = importlib.import_module(name)
    public = {
        attr for attr in dir(mod)
        if not attr.startswith("_") and not isinstance(getattr(mod, attr), types.ModuleType)
    }
    if name in RE_EXPORTING:
        assert public == EXPECTED[name] - {"__version__"}
    else:
        own = {
            attr for attr in public
            if getattr(getattr(mod, attr), "__module__", None) == name
        }
        assert own <= EXPECTED[name], f"undocumented public names in {name}: {own - EXPECTED[name]}"


def test_public_objects_say_where_they_belong() -> None:
    # Classes and functions re-exported from private modules keep a
    # __module__ inside the package (so pickling and docs find them).
    for name, attrs in EXPECTED.items():
        mod = importlib.import_module(name)
        for attr in attrs - {"__version__", "CLOSED"}:
            owner = getattr(getattr(mod, attr), "__module__", "")
            assert owner.startswith("ifrit"), (name, attr, owner)


def test_version_matches_the_distribution_metadata() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", ifrit.__version__)
    assert importlib.metadata.version("pyifrit") == ifrit.__version__
    from ifrit import _version

    assert _version.__version__ == ifrit.__version__


def test_changelog_has_an_entry_for_the_version() -> None:
    changelog = pathlib.Path(__file__).resolve().parent.parent / "CHANGELOG.md"
    if not changelog.exists():
        pytest.skip("no CHANGELOG.md next to tests/ (testing an installed wheel)")
    headings = re.findall(r"^## \[?([^\]\s]+)\]?", changelog.read_text(), re.M)
    assert ifrit.__version__ in headings, f"CHANGELOG.md has no '## {ifrit.__version__}' section"
