# SPDX-License-Identifier: GPL-2.0-only
"""Stage 1, the kernel tree: where the source comes from (Debian packages,
a user's tree or tarball) and the facts about its API read from its own
headers."""
