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
#include "jcicd/repo.h"
#include "jcicd/snapshot.h"

/* kv, orchestrate, agent */
#include "jcicd/kv.h"
#include "jcicd/orchestrate.h"
#include "jcicd/agent.h"
#include "jcicd/sys/kv.h"

/* jobs */
#include "jcicd/jobs.h"

/* build */
#include "jcicd/build.h"

/* pipeline */
#include "jcicd/pipeline.h"

#include "jcicd.h"

int main(void)
{
	return 0;
}
