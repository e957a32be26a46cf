"""Activations from outside symgrad: plugin modules and the ``symgrad.activations``
entry-point group.

A plugin is anything that registers activations with
:func:`symgrad.activations.register_activation` when it is loaded:

* a module, named on the command line (``symgrad report --plugin mymodule``) or in
  Python (``load_plugins(["mymodule"])``): importing it registers its activations;
* ``module:function``: the module is imported and the function called with no
  arguments (it registers, or returns :class:`~symgrad.activations.Activation` records
  it registered);
* an entry point of the group ``symgrad.activations`` in an installed package's
  metadata, for packages that ship activations::

      [project.entry-points."symgrad.activations"]
      mine = "mypackage.activations:register"

  ``symgrad report`` loads every installed one (``--no-entry-points`` skips them).

:func:`load_plugins` returns the names the plugins registered, so a caller can report
them (``symgrad report`` builds their pages like the catalogue's).

>>> load_plugins([], entry_points=False)
()
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from typing import Any

from symgrad._core.validate import describe
from symgrad.activations import Activation, activation_names
from symgrad.errors import InvalidArgument

__all__ = ["ENTRY_POINT_GROUP", "load_plugins"]

#: The entry-point group packages list their activations under.
ENTRY_POINT_GROUP = "symgrad.activations"


def _load(point: importlib.metadata.EntryPoint, label: str) -> None:
    try:
        loaded: Any = point.load()
    except ImportError as exc:
        raise InvalidArgument(f"cannot load the plugin {label}: {exc}") from None
    if callable(loaded) and not isinstance(loaded, type) and ":" in point.value:
        result = loaded()
        items = result if isinstance(result, list | tuple) else [result]
        stray = [x for x in items if x is not None and not isinstance(x, Activation)]
        if stray:
            raise InvalidArgument(f"the plugin {label} returned {describe(stray[0])}; a plugin"
                                  " function registers activations and returns None or them")


def load_plugins(modules: Iterable[str] = (), *, entry_points: bool = True
                 ) -> tuple[str, ...]:
    """Load ``modules`` (``"module"`` or ``"module:function"``) and, with
    ``entry_points``, every installed ``symgrad.activations`` entry point; the names of
    the activations they registered, sorted (module docstring)."""
    if isinstance(modules, str | bytes) or not isinstance(modules, Iterable):
        raise InvalidArgument(f"modules must be a list of module names, got "
                              f"{describe(modules)}")
    if not isinstance(entry_points, bool):
        raise InvalidArgument(f"entry_points must be True or False, got "
                              f"{describe(entry_points)}")
    before = set(activation_names())
    for spec in modules:
        if not isinstance(spec, str) or not spec.strip() or spec.count(":") > 1:
            raise InvalidArgument(f"a plugin is 'module' or 'module:function', got "
                                  f"{describe(spec)}")
        point = importlib.metadata.EntryPoint(name=spec, value=spec.strip(),
                                              group=ENTRY_POINT_GROUP)
        _load(point, repr(spec))
    if entry_points:
        for point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                            key=lambda p: (p.name, p.value)):
            _load(point, f"{point.name!r} ({point.value}, entry point)")
    return tuple(sorted(set(activation_names()) - before))
