/*
 * jcicd/yaml.h - YAML documents as a small read-only tree that remembers
 * where every node came from (file:line:col), so that every configuration
 * error can point at the exact place.  Built on libyaml.
 */
#ifndef JCICD_YAML_H
#define JCICD_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_yaml_doc jc_yaml_doc;
typedef struct jc_yaml_node jc_yaml_node;

typedef enum jc_yaml_type {
	JC_YAML_NULL = 0,     /* empty, "~" or "null" */
	JC_YAML_SCALAR = 1,
	JC_YAML_SEQUENCE = 2,
	JC_YAML_MAPPING = 3
} jc_yaml_type;

/* Loads the first document of a file or a buffer.  A syntax error, a
 * duplicate mapping key or an undefined alias is an error at its place.
 * `name` is what positions are reported against.  Free with jc_yaml_free. */
JC_EXTERN int jc_yaml_load_file(jc_yaml_doc **out, const char *path, jc_error *err);
JC_EXTERN int jc_yaml_load_string(jc_yaml_doc **out, const char *text, size_t len,
			const char *name, jc_error *err);
JC_EXTERN void jc_yaml_free(jc_yaml_doc *doc);

/* Borrowed from the document; never NULL (an empty document is a null node). */
JC_EXTERN const jc_yaml_node *jc_yaml_root(const jc_yaml_doc *doc);

JC_EXTERN jc_yaml_type jc_yaml_type_of(const jc_yaml_node *node);
JC_EXTERN const char *jc_yaml_type_name(jc_yaml_type type);   /* "a mapping", ... */
JC_EXTERN const char *jc_yaml_file(const jc_yaml_node *node);
JC_EXTERN int jc_yaml_line(const jc_yaml_node *node);         /* 1-based */
JC_EXTERN int jc_yaml_column(const jc_yaml_node *node);       /* 1-based */

/* Scalars: the text ("" for a null node), and whether it was quoted (a
 * quoted scalar is always a string, never a number, boolean or null). */
JC_EXTERN const char *jc_yaml_scalar(const jc_yaml_node *node);
JC_EXTERN bool jc_yaml_quoted(const jc_yaml_node *node);

/* Sequences and mappings: number of items or of pairs. */
JC_EXTERN size_t jc_yaml_size(const jc_yaml_node *node);
JC_EXTERN const jc_yaml_node *jc_yaml_item(const jc_yaml_node *seq, size_t i);
JC_EXTERN const jc_yaml_node *jc_yaml_key(const jc_yaml_node *map, size_t i);
JC_EXTERN const jc_yaml_node *jc_yaml_value(const jc_yaml_node *map, size_t i);
/* The value for a scalar key, or NULL when absent. */
JC_EXTERN const jc_yaml_node *jc_yaml_get(const jc_yaml_node *map, const char *key);

/* ---- typed reads: each fills err with the node's place on a type error */
JC_EXTERN int jc_yaml_error_at(jc_error *err, const jc_yaml_node *node, int code,
		     const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
JC_EXTERN int jc_yaml_expect(const jc_yaml_node *node, jc_yaml_type type,
		   const char *what, jc_error *err);
/* A scalar (any style) as a string. */
JC_EXTERN int jc_yaml_get_string(const jc_yaml_node *node, const char *what,
		       const char **out, jc_error *err);
/* A plain integer within [min, max]. */
JC_EXTERN int jc_yaml_get_int(const jc_yaml_node *node, const char *what, long min,
		    long max, long *out, jc_error *err);
/* YAML 1.1 booleans: true/false, yes/no, on/off (any case). */
JC_EXTERN int jc_yaml_get_bool(const jc_yaml_node *node, const char *what, bool *out,
		     jc_error *err);
JC_EXTERN bool jc_yaml_is_bool(const jc_yaml_node *node, bool *value);
JC_EXTERN bool jc_yaml_is_int(const jc_yaml_node *node, long *value);
/* Every key of map must be one of known[]; an unknown key is an error at the
 * key with a "did you mean" suggestion.  `what` names the mapping. */
JC_EXTERN int jc_yaml_check_keys(const jc_yaml_node *map, const char *const *known,
		       size_t n_known, const char *what, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
