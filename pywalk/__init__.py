# SPDX-License-Identifier: GPL-2.0-only
"""pywalk: run the real Linux page walker and huge-page fault path in userspace."""

from pywalk.variant.runtime import MM, KernelOops, MMTainted, Variant, build, set_role
from pywalk.variant.delays import DelayProfile
from pywalk.hunt.custom import Hunt, HuntResult
from pywalk.errors import PywalkError

__all__ = ["MM", "KernelOops", "MMTainted", "Variant", "build", "set_role", "DelayProfile",
           "Hunt", "HuntResult", "PywalkError"]
__version__ = "0.1.0"
