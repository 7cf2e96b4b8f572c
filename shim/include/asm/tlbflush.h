/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * Stands for arch/x86/include/asm/tlbflush.h when mm/pagewalk.c is compiled
 * whole.  Intentionally empty: no TLB here; see shim/include/pywalk/mm.h.
 */
