# SPDX-License-Identifier: GPL-2.0-only
"""Stage 3a, race hunts: scenarios run from many threads (stress), the
known races findings are matched against (races, verdict), thread counts
per role (roles), custom hunts written in Python (custom: pywalk.Hunt), and
campaigns of hunts (matrix, reproduce)."""
