/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <stdlib.h>

/* Frees every string a spec owns and zeroes it, so a second call is harmless.
 * The spec must have started zero-initialized: every disk slot is freed, not
 * only the first n_disks, so a path allocated before n_disks was bumped is
 * not leaked. */
void spec_free_members(struct spec *s)
{
	if (!s)
		return;
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	for (size_t i = 0; i < SPEC_MAX_DISKS; i++)
		free(s->disks[i].path);
	free(s->net_source);
	free(s->console_log);
	*s = (struct spec){0};
}
