"""The API's routes: each module of this package that defines a `blueprint` is registered.

A module of your own is found the same way: a Flask `Blueprint` as Flask's documentation writes one, or an
`APIBlueprint` of flask-openapi3 with its input and answer models. Give its operations their shared names
and words in `contract/operations.py` (README: "Add your own resource").
"""

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from flask import Blueprint

# What a module written for the FastAPI adapter imports.
OTHER_FRAMEWORK = frozenset({"fastapi", "starlette"})


def import_routes(name: str) -> ModuleType:
    """Import a module of this package, refusing one written for the FastAPI adapter: its routes would be
    missing from the app without a word."""
    refusal = f"{Path(__path__[0], name)}.py is written for FastAPI, and this project runs Flask: port it (README.md)"
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name not in OTHER_FRAMEWORK:
            raise
        raise ImportError(refusal) from error
    if hasattr(module, "router") and not hasattr(module, "blueprint"):
        raise ImportError(refusal)
    return module


def blueprints() -> list[Blueprint]:
    """Every module's `blueprint`, in the order of the modules' names."""
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        imported = import_routes(module.name)
        blueprint = getattr(imported, "blueprint", None)
        if isinstance(blueprint, Blueprint):
            found.append(blueprint)
    return found
