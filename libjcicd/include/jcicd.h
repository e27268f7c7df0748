/*
 * jcicd.h - everything libjcicd offers, one header per module.
 */
#ifndef JCICD_H
#define JCICD_H

#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/yaml.h"
#include "jcicd/config.h"
#include "jcicd/http.h"
#include "jcicd/store.h"
#include "jcicd/spec.h"
#include "jcicd/cloud.h"
#include "jcicd/apply.h"
#include "jcicd/version.h"

/* snapshot */
#include "jcicd/repo.h"
#include "jcicd/snapshot.h"

/* kv, orchestrate, agent */
#include "jcicd/kv.h"
#include "jcicd/orchestrate.h"
#include "jcicd/agent.h"

/* jobs */
#include "jcicd/jobs.h"

/* build */
#include "jcicd/build.h"

/* pipeline */
#include "jcicd/pipeline.h"

#endif
