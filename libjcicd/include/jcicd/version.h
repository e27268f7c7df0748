/* jcicd/version.h - which libjcicd this is. */
#ifndef JCICD_VERSION_H
#define JCICD_VERSION_H

#include "jcicd/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_VERSION_MAJOR 0
#define JC_VERSION_MINOR 1
#define JC_VERSION_PATCH 0

/* The version of the library actually linked, "0.1.0". */
JC_EXTERN const char *jc_version(void);

#ifdef __cplusplus
}
#endif
#endif
