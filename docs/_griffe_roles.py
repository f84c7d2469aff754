"""Griffe extension for the API reference: turn the Sphinx roles used in the
docstrings (``:class:`Process```, ``:func:`ifrit.select```) into Markdown code
spans, so the pages read cleanly. Loaded by mkdocs.yml (mkdocstrings)."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|exc|mod|data|obj):`~?([^`]+)`")


class SphinxRolesToCode(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)
