/* version.c */
#include "common.h"

#include "jcicd/version.h"

const char *jc_version(void)
{
	return PACKAGE_VERSION;
}
