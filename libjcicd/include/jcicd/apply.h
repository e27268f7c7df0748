/*
 * jcicd/apply.h - make a stack exist, see it, and take it down.
 *
 * Apply is declarative, additive and keyed by name: the spec wants
 * <role><i>_<tag> for every role and index; servers of the tag that exist
 * are kept (never resized, never deleted), missing ones are created in
 * parallel, ERROR ones are deleted and created again within a retry budget,
 * and the whole thing has a deadline.  Running it again changes nothing.
 */
#ifndef JCICD_APPLY_H
#define JCICD_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/cloud.h"
#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_APPLY_OPTIONS_VERSION 1
typedef struct jc_apply_options {
	unsigned version;
	const char *tag;              /* required */
	const char *userdata_path;    /* default userdata for roles without their own */
	const char *version_label;    /* ${version} in userdata templates */
	const char *key_name;         /* for roles that name none */
	int retry;                    /* recreations of an ERROR server; <0: default 3 */
	long long timeout_ms;         /* deadline of the whole apply; 0: 30 min */
	const jc_logger *logger;
} jc_apply_options;

#define JC_APPLY_OPTIONS_INIT { JC_APPLY_OPTIONS_VERSION, NULL, NULL, NULL, NULL, -1, 0, NULL }

typedef enum jc_plan_action {
	JC_PLAN_CREATE = 0,    /* missing: will be created */
	JC_PLAN_KEEP = 1,      /* exists and is wanted */
	JC_PLAN_REPLACE = 2,   /* exists in ERROR: will be deleted and created */
	JC_PLAN_EXTRA = 3      /* exists in the stack but the spec does not want it: left alone */
} jc_plan_action;

typedef struct jc_plan_entry {
	char *name;
	char *hostname;
	char *role;
	jc_plan_action action;
	char *flavor;
	char *image;
	char *server_id;       /* existing server, or NULL */
	jc_server_status status;
	int attempts;          /* apply: creations it took (0 when kept) */
	char *fault;           /* apply: the last fault seen, or NULL */
} jc_plan_entry;

typedef struct jc_plan {
	jc_plan_entry *entries;
	size_t n;
} jc_plan;

JC_EXTERN void jc_plan_free(jc_plan *plan);
JC_EXTERN const char *jc_plan_action_name(jc_plan_action action);

/* What apply would do; reads the cloud, changes nothing. */
JC_EXTERN int jc_apply_plan(jc_plan **out, jc_cloud *cloud, const jc_spec *spec,
		  const jc_apply_options *opts, jc_error *err);

/*
 * Makes the stack exist and waits until every wanted server is ACTIVE (and
 * has its floating IP when asked).  *out (may be NULL) reports what
 * happened to each server, also when apply fails.  Userdata is read and
 * rendered, and names checked, before the first cloud call: bad input makes
 * no call at all.
 */
JC_EXTERN int jc_apply_run(jc_plan **out, jc_cloud *cloud, const jc_spec *spec,
		 const jc_apply_options *opts, jc_error *err);

#define JC_DELETE_OPTIONS_VERSION 1
typedef struct jc_delete_options {
	unsigned version;
	long long timeout_ms;         /* wait until gone; 0: 10 min */
	const jc_logger *logger;
} jc_delete_options;

#define JC_DELETE_OPTIONS_INIT { JC_DELETE_OPTIONS_VERSION, 0, NULL }

/* Deletes every server of the stack and waits until they are gone.
 * *n_deleted (may be NULL) says how many there were. */
JC_EXTERN int jc_stack_delete(jc_cloud *cloud, const char *tag, const jc_delete_options *opts,
		    size_t *n_deleted, jc_error *err);

/* The servers of a stack, sorted by spec order when spec is given, by name
 * otherwise. */
JC_EXTERN int jc_stack_status(jc_server_list **out, jc_cloud *cloud, const char *tag,
		    const jc_spec *spec, jc_error *err);

/*
 * An ssh_config for the stack: the bastion is the first server (in spec
 * order when a spec is given) with a floating address; every other server
 * is reached through it with ProxyCommand.  Without a bastion every host is
 * reached directly at its fixed address.  `user` may be NULL.
 */
JC_EXTERN int jc_stack_ssh_config(char **out, const jc_server_list *servers, const char *user,
			jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
