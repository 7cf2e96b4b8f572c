# SPDX-License-Identifier: GPL-2.0-only
"""Confirm a finding on the real kernel (`pywalk confirm`).

The pipeline, one module each:

* finding.py    what to confirm: a stress/replay report or hunt arguments,
                turned into process-level roles (a role with no process
                counterpart is refused, one line)
* reproducer.py the static C program for those roles, and its run script
* images.py     the Debian linux-image package matching the tree's version,
                downloaded through pywalk's private apt state and unpacked in
                the cache (or a user's own --image)
* initramfs.py  a newc cpio: busybox, the image's nvdimm/dax modules, ndctl,
                the reproducer
* guest.py      qemu (TCG), the console read line by line
* verdict.py    the kernel's own messages and the device data check
"""
