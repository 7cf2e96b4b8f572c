/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: everything the tree's code is compiled against, in order.
 */
#ifndef PYWALK_SHIM_H
#define PYWALK_SHIM_H
#include <stdlib.h>
#include "pywalk/compiler.h"
#include "pywalk/runtime.h"
#include "pywalk/locks.h"
#include "pywalk/pgtable.h"
#include "pywalk/mm.h"
#endif
