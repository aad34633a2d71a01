/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "diag.h"

/*
 * Host lockdown before the guest runs: no USB (or Thunderbolt) device may
 * talk to the host. For every USB host controller's root hub the default for
 * new devices becomes "not authorized", and every device already there is
 * deauthorized (the kernel unbinds its drivers); every Thunderbolt device is
 * deauthorized too. sysfs_root is "/sys", or a fake tree in tests.
 * ret_changed counts the files written.
 */
int lockdown_usb(const char *sysfs_root, unsigned *ret_changed, struct diag *d);
