# SPDX-License-Identifier: GPL-2.0-only
"""Stage 2, the variant: a tree plus patches, sliced (manifest, slicer),
compiled against the shim (builder) and loaded (runtime: Variant, MM,
KernelOops), with window widening per mm (delays)."""
