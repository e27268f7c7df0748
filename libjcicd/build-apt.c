/* build-apt.c - APT entries: a source package to rebuild or a binary
 * package to carry over, from an external APT repository. */
#include "common.h"

#include "build-internal.h"

int jc_bld_apt_check(jc_builds *b, jc_bld_job *job, char **ref, bool *unchanged, jc_error *err)
{
	(void)b;
	*ref = NULL;
	*unchanged = false;
	return jc_err(err, JC_EUNSUPPORTED, "%s: APT entries are not built yet", job->entry->name);
}

int jc_bld_apt_build(jc_builds *b, jc_bld_job *job, jc_error *err)
{
	(void)b;
	return jc_err(err, JC_EUNSUPPORTED, "%s: APT entries are not built yet", job->entry->name);
}

void jc_bld_apt_free(jc_bld_job *job)
{
	(void)job;
}
