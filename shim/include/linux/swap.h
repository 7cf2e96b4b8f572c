/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * Stands for include/linux/swap.h when mm/pagewalk.c is compiled whole.
 * Intentionally empty: what the walker needs from it is either sliced from
 * the tree (pywalk/variant/manifest.py) or defined in shim/include/pywalk/.
 */
