"""Every column has its type from the moment its model is defined.

A foreign key column declared without a type takes the referenced column's
type only once that table exists; a statement built at import time before then
(oaas.db.prepared builds hot statements once) keeps an untyped parameter, and
SQLite then refuses a UUID. So each models module, imported first and alone,
must already define fully typed tables.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import oaas

PACKAGE = Path(oaas.__file__).parent
MODEL_MODULES = sorted(f"oaas.{path.parent.name}.models" for path in PACKAGE.glob("*/models.py"))

_CHECK = """
import importlib, sys
from sqlalchemy.types import NullType
from oaas.db.base import metadata
importlib.import_module(sys.argv[1])
untyped = [f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
           if isinstance(c.type, NullType)]
print(" ".join(untyped))
"""


@pytest.mark.parametrize("module", MODEL_MODULES)
def test_a_models_module_imported_alone_defines_typed_columns(module: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", _CHECK, module], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == [], f"untyped until another module is imported: {found.stdout}"
