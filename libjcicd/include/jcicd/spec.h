/*
 * jcicd/spec.h - resource specs: what a stack is made of.
 *
 * A spec file (the original python-jiocloud format) maps role names to
 * server descriptions:
 *
 *     resources:
 *       cp:
 *         number: 2
 *         flavor: large
 *         image: trusty
 *         networks: default
 *         assign_floating_ip: true
 *
 * A mappings file, one per cloud, turns logical values into that cloud's
 * concrete ones, field by field (flavor: {large: m1.large}); unmapped values
 * pass through, a value may map to a list (networks) or to null (no
 * networks), booleans map too (assign_floating_ip: {true: false}).  Mappings
 * chain (small -> medium -> id) and a cycle is an error.
 *
 * Server names are <role><i>_<tag> (i from 1), hostnames <role><i>-<tag>.
 */
#ifndef JCICD_SPEC_H
#define JCICD_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_spec jc_spec;
typedef struct jc_mappings jc_mappings;

typedef enum jc_networks_mode {
	JC_NETWORKS_DEFAULT = 0,  /* not given: the cloud's default */
	JC_NETWORKS_NONE = 1,     /* null (or mapped to null): no network at all */
	JC_NETWORKS_LIST = 2      /* the networks listed */
} jc_networks_mode;

/* One role of a spec, after mappings and overrides.  Borrowed from the spec. */
typedef struct jc_role {
	const char *name;
	long number;                     /* instances, after overrides */
	long spec_number;                /* as the file says */
	const char *flavor;
	const char *image;
	jc_networks_mode networks_mode;
	const char *const *networks;     /* names or ids */
	size_t n_networks;
	const char *const *security_groups;
	size_t n_security_groups;
	long boot_volume_gb;             /* 0: boot from the image */
	bool config_drive;
	bool assign_floating_ip;
	const char *key_name;            /* NULL: the stack's */
	const char *availability_zone;   /* NULL: the cloud's choice */
	const char *const *metadata_keys;
	const char *const *metadata_values;
	size_t n_metadata;
	const char *userdata;            /* per-role userdata file (absolute), or NULL */
	const char *file;                /* where the role is defined */
	int line;
	int column;
} jc_role;

/* ---- mappings */
JC_EXTERN int jc_mappings_load(jc_mappings **out, const char *path, jc_error *err);
JC_EXTERN void jc_mappings_free(jc_mappings *mappings);

/* ---- specs */
#define JC_SPEC_OPTIONS_VERSION 1
typedef struct jc_spec_options {
	unsigned version;
	const jc_mappings *mappings;  /* NULL: no mappings */
	const char *overrides;        /* "cp=5,ct=2" or "cp=5:ct=2"; NULL: none */
} jc_spec_options;

#define JC_SPEC_OPTIONS_INIT { JC_SPEC_OPTIONS_VERSION, NULL, NULL }

JC_EXTERN int jc_spec_load(jc_spec **out, const char *path, const jc_spec_options *opts,
		 jc_error *err);
JC_EXTERN void jc_spec_free(jc_spec *spec);

JC_EXTERN const char *jc_spec_path(const jc_spec *spec);
JC_EXTERN size_t jc_spec_role_count(const jc_spec *spec);
JC_EXTERN const jc_role *jc_spec_role(const jc_spec *spec, size_t i);
JC_EXTERN const jc_role *jc_spec_role_find(const jc_spec *spec, const char *name);
/* Applies instance-number overrides; an unknown role or a bad number is an
 * error and changes nothing. */
JC_EXTERN int jc_spec_override(jc_spec *spec, const char *overrides, jc_error *err);

/* ---- names */
#define JC_HOSTNAME_MAX 63

/* A stack tag: lower-case letters, digits and '-', starting with a letter or
 * digit, at most 40 characters. */
JC_EXTERN int jc_tag_check(const char *tag, jc_error *err);

typedef struct jc_instance {
	char *name;          /* cp1_t1 */
	char *hostname;      /* cp1-t1 */
	const jc_role *role; /* borrowed from the spec */
	long index;          /* 1-based */
} jc_instance;

/* Every server the spec wants for a tag, in spec order (role by role,
 * index by index).  Checks every hostname's length.  Free with
 * jc_instances_free. */
JC_EXTERN int jc_spec_instances(const jc_spec *spec, const char *tag, jc_instance **out,
		      size_t *n_out, jc_error *err);
JC_EXTERN void jc_instances_free(jc_instance *instances, size_t n);

/* Splits "cp12_t1" (or "cp12-t1") into role "cp", index 12 and tag "t1".
 * Returns false when the name is not of that form.  Outputs may be NULL. */
JC_EXTERN bool jc_name_parse(const char *name, char **role, long *index, char **tag);

/* ---- userdata */

/* Nova's limit on user_data, which applies to its base64 form. */
#define JC_USERDATA_MAX_BASE64 65535

typedef struct jc_userdata_vars {
	const char *hostname;
	const char *role;
	const char *tag;
	const char *version;  /* NULL: ${version} is an error */
} jc_userdata_vars;

/* A file is a template when its name ends in ".tmpl" or ".template".  In a
 * template ${hostname}, ${role}, ${tag} and ${version} are replaced, "$${"
 * stands for a literal "${", and any other ${...} is an error at its
 * line:col.  Other files pass through byte for byte. */
JC_EXTERN bool jc_userdata_is_template(const char *path);
JC_EXTERN int jc_userdata_render(char **out, size_t *out_len, const char *path,
		       const char *text, size_t len, bool is_template,
		       const jc_userdata_vars *vars, jc_error *err);
/* Errors when len bytes would exceed Nova's limit once base64-encoded. */
JC_EXTERN int jc_userdata_check_size(const char *path, size_t len, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
