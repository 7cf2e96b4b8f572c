/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * Stands for mm/internal.h (included by newer mm/pagewalk.c).
 * Intentionally empty: see pywalk/variant/manifest.py and shim/include/pywalk/.
 */
