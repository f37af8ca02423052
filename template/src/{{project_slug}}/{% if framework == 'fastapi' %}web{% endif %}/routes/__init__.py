"""The API's routes: each module of this package that defines a `router` (an `APIRouter`) is included.

Add a module of your own here, and the app serves it; give its operations their shared names and words in
`contract/operations.py` (README: "Add your own resource").
"""

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter

# What a module written for the Flask adapter imports.
OTHER_FRAMEWORK = frozenset({"flask", "flask_openapi3", "werkzeug"})


def import_routes(name: str) -> ModuleType:
    """Import a module of this package, refusing one written for the Flask adapter: its routes would be
    missing from the app without a word."""
    refusal = f"{Path(__path__[0], name)}.py is written for Flask, and this project runs FastAPI: port it (README.md)"
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name not in OTHER_FRAMEWORK:
            raise
        raise ImportError(refusal) from error
    if hasattr(module, "blueprint") and not hasattr(module, "router"):
        raise ImportError(refusal)
    return module


def routers() -> list[APIRouter]:
    """Every module's `router`, in the order of the modules' names."""
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        imported = import_routes(module.name)
        router = getattr(imported, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
