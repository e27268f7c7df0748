/* Every public header must compile on its own, in C11, pedantic. */
#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/version.h"
#include "jcicd/yaml.h"
#include "jcicd/config.h"
#include "jcicd/http.h"
#include "jcicd/store.h"
#include "jcicd/spec.h"
#include "jcicd/cloud.h"
#include "jcicd/sys/cloud.h"
#include "jcicd/apply.h"
/* snapshot */

/* kv, orchestrate, agent */

/* jobs */
#include "jcicd/jobs.h"

/* build */

/* pipeline */

#include "jcicd.h"

int main(void)
{
	return 0;
}
