/* repo-version.c - Debian version order (Debian Policy 5.6.12), the order
 * dpkg and apt use: epoch numerically, then upstream version and revision
 * compared as alternating non-digit and digit runs, '~' before everything. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/repo.h"

static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int part_compare(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		int first_diff = 0;
		while ((a < ae && !isdigit((unsigned char)*a)) || (b < be && !isdigit((unsigned char)*b))) {
			int ac = a < ae ? order((unsigned char)*a) : 0;
			int bc = b < be ? order((unsigned char)*b) : 0;
			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && b < be && isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && isdigit((unsigned char)*a))
			return 1;
		if (b < be && isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

struct version {
	unsigned long epoch;
	const char *up, *up_end;
	const char *rev, *rev_end;
};

static void split(const char *v, struct version *out)
{
	const char *colon = strchr(v, ':');
	const char *dash;
	out->epoch = 0;
	if (colon) {
		out->epoch = strtoul(v, NULL, 10);
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	out->up = v;
	if (dash) {
		out->up_end = dash;
		out->rev = dash + 1;
	} else {
		out->up_end = v + strlen(v);
		out->rev = out->up_end;
	}
	out->rev_end = out->rev + strlen(out->rev);
}

int jc_repo_version_compare(const char *a, const char *b)
{
	struct version va, vb;
	int c;
	split(a ? a : "", &va);
	split(b ? b : "", &vb);
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	c = part_compare(va.up, va.up_end, vb.up, vb.up_end);
	if (c)
		return c < 0 ? -1 : 1;
	c = part_compare(va.rev, va.rev_end, vb.rev, vb.rev_end);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}
