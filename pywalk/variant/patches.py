# SPDX-License-Identifier: GPL-2.0-only
"""Patches: what ``--patch`` names, and applying it (the public names).

* pywalk/variant/patch_files.py: loading patch files, quilt series and
  directories; name, mail subject, sha256, the files a patch touches;
* pywalk/variant/patch_apply.py: GNU patch as the engine, on a scratch copy
  of the files involved; strict by default, offset/fuzz only with ``fuzz``;
* pywalk/variant/patch_report.py: a rejected hunk next to the closest lines.
"""

from pywalk.variant.patch_apply import Applied, ApplyNote, apply_patches
from pywalk.variant.patch_files import DEV_NULL, FilePatch, Hunk, Patch, load_patch, load_patches

__all__ = ["Applied", "ApplyNote", "DEV_NULL", "FilePatch", "Hunk", "Patch", "apply_patches",
           "load_patch", "load_patches"]
