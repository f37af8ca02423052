"""The API's routes: each module of this package that defines a `router` (an `APIRouter`) is included.

Add a module of your own here, and the app serves it; give its operations their shared names and words in
`contract/operations.py` (README: "Add your own resource").
"""

import importlib
import pkgutil
from pathlib import Path

from fastapi import APIRouter

# What a module written for the Flask adapter imports.
OTHER_FRAMEWORK = frozenset({"flask", "flask_openapi3", "werkzeug"})


def routers() -> list[APIRouter]:
    """Every module's `router`, in the order of the modules' names."""
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        try:
            imported = importlib.import_module(f"{__name__}.{module.name}")
        except ModuleNotFoundError as error:
            if error.name not in OTHER_FRAMEWORK:
                raise
            path = Path(__path__[0], f"{module.name}.py")
            message = f"{path} is written for Flask, and this project runs FastAPI: port it (see README.md)"
            raise ImportError(message) from error
        router = getattr(imported, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
