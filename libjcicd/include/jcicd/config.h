/*
 * jcicd/config.h - the project file, jcicd.yaml.
 *
 * One file with one top-level section per capability (state, build,
 * snapshots, kv, clouds, stacks, pipeline, jobs, agent).  Each module parses
 * its own section with file:line:col errors; this module finds the file,
 * checks the section names and resolves relative paths against the file's
 * directory.  The file is looked for at --config, then $JCICD_CONFIG, then
 * ./jcicd.yaml; without one, every section is absent and defaults apply.
 */
#ifndef JCICD_CONFIG_H
#define JCICD_CONFIG_H

#include "jcicd/error.h"
#include "jcicd/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_config jc_config;

/* path NULL: search as above (a missing default file is not an error; a
 * missing explicit file is). */
JC_EXTERN int jc_config_load(jc_config **out, const char *path, jc_error *err);
JC_EXTERN void jc_config_free(jc_config *config);

/* The file read, or NULL when there was none. */
JC_EXTERN const char *jc_config_file(const jc_config *config);
/* A top-level section, or NULL when absent.  Borrowed. */
JC_EXTERN const jc_yaml_node *jc_config_section(const jc_config *config, const char *name);
/* A path written in the file, made absolute against the file's directory.
 * Caller frees. */
JC_EXTERN char *jc_config_resolve_path(const jc_config *config, const char *path);
/* state.dir, resolved; NULL when not set.  Borrowed. */
JC_EXTERN const char *jc_config_state_dir(const jc_config *config);

#ifdef __cplusplus
}
#endif
#endif
