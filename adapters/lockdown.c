/* SPDX-License-Identifier: Apache-2.0 */
#include "lockdown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write "0" to dir/name; a missing file is fine (not every entry has it). */
static int write_zero(const char *dir, const char *name, unsigned *changed, struct diag *d)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return diag_set(d, DIAG_INTERNAL, errno, "cannot open %s: %s", path,
				strerror(errno));
	}
	if (write(fd, "0", 1) != 1) {
		int e = errno;

		close(fd);
		return diag_set(d, DIAG_INTERNAL, e, "cannot write %s: %s", path, strerror(e));
	}
	close(fd);
	(*changed)++;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Deauthorize in bus_dir (e.g. /sys/bus/usb/devices): root hubs usbN get
 * authorized_default=0 first (nothing new comes in), then every device entry
 * (no ':' in its name: those are interfaces) authorized=0. */
static int deauthorize_bus(const char *bus_dir, bool usb, unsigned *changed, struct diag *d)
{
	struct dirent *e;
	DIR *dir = opendir(bus_dir);
	char path[1024];
	int r = 0;

	if (!dir)
		return errno == ENOENT ? 0
				       : diag_set(d, DIAG_INTERNAL, errno, "cannot read %s: %s",
						  bus_dir, strerror(errno));
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		rewinddir(dir);
		while (r == 0 && (e = readdir(dir))) {
			bool hub =
			    usb && strncmp(e->d_name, "usb", 3) == 0 && all_digits(e->d_name + 3);

			if (e->d_name[0] == '.' || strchr(e->d_name, ':'))
				continue;
			snprintf(path, sizeof(path), "%s/%s", bus_dir, e->d_name);
			if (pass == 0 && hub)
				r = write_zero(path, "authorized_default", changed, d);
			else if (pass == 1 && !hub)
				r = write_zero(path, "authorized", changed, d);
		}
	}
	closedir(dir);
	return r;
}

int lockdown_usb(const char *sysfs_root, unsigned *ret_changed, struct diag *d)
{
	char dir[512];
	unsigned changed = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/bus/usb/devices", sysfs_root);
	r = deauthorize_bus(dir, true, &changed, d);
	if (r == 0) {
		snprintf(dir, sizeof(dir), "%s/bus/thunderbolt/devices", sysfs_root);
		r = deauthorize_bus(dir, false, &changed, d);
	}
	*ret_changed = changed;
	return r;
}
