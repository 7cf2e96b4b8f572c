/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * Stands for include/linux/mmu_context.h when mm/pagewalk.c is compiled whole.
 * Intentionally empty: see pywalk/variant/manifest.py and shim/include/pywalk/.
 */
