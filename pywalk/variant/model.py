# SPDX-License-Identifier: GPL-2.0-only
"""The build model: how a variant compiles pud_val() and its kin.

On x86 the answer depends on the kernel's config, and it decides whether gcc
may reuse a plain load of a page-table entry after a READ_ONCE() re-check of
it (shim/include/pywalk/pgtable.h):

* ``native``: PARAVIRT_XXL=n (pywalk's default, and x86 kernels built
  without Xen PV support): ``pud_val()`` is a field read, so two plain loads
  of ``*pud`` may become one, and ``pmd_offset()`` may use a value loaded
  before the check.
* ``xxl``: Debian's x86 build (PARAVIRT_XXL=y): ``pud_val()`` is a pv call
  with a "memory" clobber, so every use after it reloads the entry.

A finding that shows in one model only is real for kernels built that way.
"""

from __future__ import annotations

MODELS = {"native": "native pud_val() (x86, PARAVIRT_XXL=n)",
          "xxl": "pv-call pud_val() (Debian's x86 build, PARAVIRT_XXL=y)"}
DEFAULT = "native"


def check(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"pywalk: unknown build model {model!r} (one of {', '.join(MODELS)})")
    return model


def flags(model: str) -> tuple[str, ...]:
    """gcc flags of the model (both translation units of an instrumented build)."""
    return ("-DPW_MODEL_XXL=1",) if check(model) == "xxl" else ()


def key_part(model: str) -> dict:
    """What the model adds to a variant's cache key (nothing for the default)."""
    return {} if model == DEFAULT else {"model": model}


def suffix(model: str) -> str:
    """What a variant's label says of the model: nothing for the default."""
    return "" if model == DEFAULT else f" [{model}]"


def describe(model: str) -> str:
    """One phrase for verdicts: "model native: native pud_val() (...)"."""
    return f"model {model}: {MODELS[check(model)]}"
