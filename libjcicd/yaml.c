/* yaml.c - libyaml events into a position-keeping tree. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "jcicd/yaml.h"

struct jc_yaml_node {
	jc_yaml_type type;
	bool quoted;
	int line, column;
	const char *file;       /* the document's name */
	char *text;             /* scalar text */
	jc_yaml_node **items;   /* sequence items, or key,value,key,value... */
	size_t n_items;         /* entries in items[] */
	size_t cap_items;
};

/* Nodes are allocated in a list owned by the document: aliases make the tree
 * a DAG, so nodes are freed through the list, never by walking. */
struct jc_yaml_doc {
	char *name;
	jc_yaml_node *root;
	jc_yaml_node **all;
	size_t n_all, cap_all;
	struct anchor { char *name; jc_yaml_node *node; } *anchors;
	size_t n_anchors;
};

static const jc_yaml_node null_node = { JC_YAML_NULL, false, 0, 0, "", NULL, NULL, 0, 0 };

static jc_yaml_node *node_new(jc_yaml_doc *doc, jc_yaml_type type, const yaml_mark_t *mark)
{
	jc_yaml_node *n = jc_calloc(1, sizeof(*n));
	n->type = type;
	n->line = (int)mark->line + 1;
	n->column = (int)mark->column + 1;
	n->file = doc->name;
	if (doc->n_all == doc->cap_all) {
		doc->cap_all = doc->cap_all ? doc->cap_all * 2 : 64;
		doc->all = jc_realloc(doc->all, doc->cap_all * sizeof(*doc->all));
	}
	doc->all[doc->n_all++] = n;
	return n;
}

static void node_push(jc_yaml_node *parent, jc_yaml_node *child)
{
	if (parent->n_items == parent->cap_items) {
		parent->cap_items = parent->cap_items ? parent->cap_items * 2 : 8;
		parent->items = jc_realloc(parent->items, parent->cap_items * sizeof(*parent->items));
	}
	parent->items[parent->n_items++] = child;
}

static bool plain_is_null(const char *s)
{
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

void jc_yaml_free(jc_yaml_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_all; i++) {
		free(doc->all[i]->text);
		free(doc->all[i]->items);
		free(doc->all[i]);
	}
	for (size_t i = 0; i < doc->n_anchors; i++)
		free(doc->anchors[i].name);
	free(doc->anchors);
	free(doc->all);
	free(doc->name);
	free(doc);
}

static void anchor_add(jc_yaml_doc *doc, const yaml_char_t *name, jc_yaml_node *node)
{
	if (!name)
		return;
	doc->anchors = jc_realloc(doc->anchors, (doc->n_anchors + 1) * sizeof(*doc->anchors));
	doc->anchors[doc->n_anchors].name = jc_strdup((const char *)name);
	doc->anchors[doc->n_anchors].node = node;
	doc->n_anchors++;
}

static jc_yaml_node *anchor_find(jc_yaml_doc *doc, const char *name)
{
	/* the latest definition of a name wins, as YAML says */
	for (size_t i = doc->n_anchors; i-- > 0;)
		if (strcmp(doc->anchors[i].name, name) == 0)
			return doc->anchors[i].node;
	return NULL;
}

/* Checks the key just added to a mapping against the earlier ones. */
static int check_duplicate_key(jc_yaml_doc *doc, jc_yaml_node *map, jc_error *err)
{
	jc_yaml_node *key = map->items[map->n_items - 1];
	if (key->type != JC_YAML_SCALAR)
		return 0;
	for (size_t i = 0; i + 1 < map->n_items; i += 2) {
		jc_yaml_node *k = map->items[i];
		if (k->type == JC_YAML_SCALAR && strcmp(k->text, key->text) == 0)
			return jc_err_at(err, JC_EPARSE, doc->name, key->line, key->column,
					 "duplicate key \"%s\" (first defined at line %d)",
					 key->text, k->line);
	}
	return 0;
}

#define MAX_DEPTH 256

static int parse_events(jc_yaml_doc *doc, yaml_parser_t *parser, jc_error *err)
{
	jc_yaml_node *stack[MAX_DEPTH];
	size_t depth = 0;
	bool in_doc = false, done = false;

	while (!done) {
		yaml_event_t ev;
		jc_yaml_node *n = NULL;

		if (!yaml_parser_parse(parser, &ev)) {
			const char *ctx = parser->context ? parser->context : NULL;
			return jc_err_at(err, JC_EPARSE, doc->name,
					 (int)parser->problem_mark.line + 1,
					 (int)parser->problem_mark.column + 1,
					 "invalid YAML: %s%s%s", parser->problem ? parser->problem : "syntax error",
					 ctx ? " " : "", ctx ? ctx : "");
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			in_doc = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			/* only the first document is read */
			done = true;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			bool quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
			if (!quoted && plain_is_null(v))
				n = node_new(doc, JC_YAML_NULL, &ev.start_mark);
			else
				n = node_new(doc, JC_YAML_SCALAR, &ev.start_mark);
			n->text = jc_strndup(v, ev.data.scalar.length);
			n->quoted = quoted;
			anchor_add(doc, ev.data.scalar.anchor, n);
			break;
		}
		case YAML_ALIAS_EVENT: {
			n = anchor_find(doc, (const char *)ev.data.alias.anchor);
			if (!n) {
				int rc = jc_err_at(err, JC_EPARSE, doc->name, (int)ev.start_mark.line + 1,
						   (int)ev.start_mark.column + 1, "undefined alias *%s",
						   (const char *)ev.data.alias.anchor);
				yaml_event_delete(&ev);
				return rc;
			}
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
			n = node_new(doc, seq ? JC_YAML_SEQUENCE : JC_YAML_MAPPING, &ev.start_mark);
			anchor_add(doc, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor, n);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (n) {
			bool opens = (n->type == JC_YAML_SEQUENCE || n->type == JC_YAML_MAPPING) &&
				     (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT);
			if (depth == 0) {
				if (!doc->root)
					doc->root = n;
			} else {
				jc_yaml_node *parent = stack[depth - 1];
				node_push(parent, n);
				if (parent->type == JC_YAML_MAPPING && parent->n_items % 2 == 1) {
					int rc = check_duplicate_key(doc, parent, err);
					if (rc < 0) {
						yaml_event_delete(&ev);
						return rc;
					}
				}
			}
			if (opens) {
				if (depth == MAX_DEPTH) {
					int rc = jc_err_at(err, JC_EPARSE, doc->name, n->line, n->column,
							   "document nested deeper than %d levels", MAX_DEPTH);
					yaml_event_delete(&ev);
					return rc;
				}
				stack[depth++] = n;
			}
		}
		yaml_event_delete(&ev);
	}
	(void)in_doc;
	return 0;
}

int jc_yaml_load_string(jc_yaml_doc **out, const char *text, size_t len,
			const char *name, jc_error *err)
{
	yaml_parser_t parser;
	jc_yaml_doc *doc;
	int rc;

	*out = NULL;
	doc = jc_calloc(1, sizeof(*doc));
	doc->name = jc_strdup(name ? name : "<string>");
	if (!yaml_parser_initialize(&parser)) {
		jc_yaml_free(doc);
		return jc_err(err, JC_ENOMEM, "cannot initialise the YAML parser");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = parse_events(doc, &parser, err);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		jc_yaml_free(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

int jc_yaml_load_file(jc_yaml_doc **out, const char *path, jc_error *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if (access(path, R_OK) != 0)
		/* a missing input file is bad input, reported at the file */
		return jc_err_at(err, JC_EINVALID, path, 0, 0, "cannot read this file: %s", strerror(errno));
	rc = jc_file_read(path, &text, &len, err);
	if (rc < 0)
		return rc;
	rc = jc_yaml_load_string(out, text, len, path, err);
	free(text);
	return rc;
}

const jc_yaml_node *jc_yaml_root(const jc_yaml_doc *doc)
{
	return doc && doc->root ? doc->root : &null_node;
}

jc_yaml_type jc_yaml_type_of(const jc_yaml_node *node)
{
	return node ? node->type : JC_YAML_NULL;
}

const char *jc_yaml_type_name(jc_yaml_type type)
{
	switch (type) {
	case JC_YAML_NULL: return "null";
	case JC_YAML_SCALAR: return "a scalar";
	case JC_YAML_SEQUENCE: return "a list";
	case JC_YAML_MAPPING: return "a mapping";
	}
	return "?";
}

const char *jc_yaml_file(const jc_yaml_node *node) { return node && node->file ? node->file : ""; }
int jc_yaml_line(const jc_yaml_node *node) { return node ? node->line : 0; }
int jc_yaml_column(const jc_yaml_node *node) { return node ? node->column : 0; }

const char *jc_yaml_scalar(const jc_yaml_node *node)
{
	if (!node || node->type == JC_YAML_NULL || !node->text)
		return node && node->text ? node->text : "";
	return node->text;
}

bool jc_yaml_quoted(const jc_yaml_node *node)
{
	return node && node->quoted;
}

size_t jc_yaml_size(const jc_yaml_node *node)
{
	if (!node)
		return 0;
	if (node->type == JC_YAML_MAPPING)
		return node->n_items / 2;
	if (node->type == JC_YAML_SEQUENCE)
		return node->n_items;
	return 0;
}

const jc_yaml_node *jc_yaml_item(const jc_yaml_node *seq, size_t i)
{
	if (!seq || seq->type != JC_YAML_SEQUENCE || i >= seq->n_items)
		return NULL;
	return seq->items[i];
}

const jc_yaml_node *jc_yaml_key(const jc_yaml_node *map, size_t i)
{
	if (!map || map->type != JC_YAML_MAPPING || 2 * i >= map->n_items)
		return NULL;
	return map->items[2 * i];
}

const jc_yaml_node *jc_yaml_value(const jc_yaml_node *map, size_t i)
{
	if (!map || map->type != JC_YAML_MAPPING || 2 * i + 1 >= map->n_items)
		return NULL;
	return map->items[2 * i + 1];
}

const jc_yaml_node *jc_yaml_get(const jc_yaml_node *map, const char *key)
{
	if (!map || map->type != JC_YAML_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n_items; i += 2) {
		const jc_yaml_node *k = map->items[i];
		if (k->text && strcmp(k->text, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

int jc_yaml_error_at(jc_error *err, const jc_yaml_node *node, int code, const char *fmt, ...)
{
	va_list ap;
	char msg[JC_ERROR_MESSAGE_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jc_err_at(err, code, jc_yaml_file(node), jc_yaml_line(node),
			 jc_yaml_column(node), "%s", msg);
}

static const char *describe(const jc_yaml_node *n)
{
	if (!n || n->type == JC_YAML_NULL)
		return "nothing (null)";
	return jc_yaml_type_name(n->type);
}

int jc_yaml_expect(const jc_yaml_node *node, jc_yaml_type type, const char *what, jc_error *err)
{
	if (jc_yaml_type_of(node) == type)
		return 0;
	return jc_yaml_error_at(err, node, JC_EINVALID, "%s must be %s, found %s",
				what, jc_yaml_type_name(type), describe(node));
}

int jc_yaml_get_string(const jc_yaml_node *node, const char *what, const char **out, jc_error *err)
{
	if (jc_yaml_type_of(node) != JC_YAML_SCALAR)
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s must be a string, found %s",
					what, describe(node));
	*out = node->text;
	return 0;
}

bool jc_yaml_is_int(const jc_yaml_node *node, long *value)
{
	long v;
	if (!node || node->type != JC_YAML_SCALAR || node->quoted)
		return false;
	if (!jc_parse_long(node->text, &v))
		return false;
	if (value)
		*value = v;
	return true;
}

int jc_yaml_get_int(const jc_yaml_node *node, const char *what, long min, long max,
		    long *out, jc_error *err)
{
	long v;
	if (!jc_yaml_is_int(node, &v)) {
		if (node && node->type == JC_YAML_SCALAR)
			return jc_yaml_error_at(err, node, JC_EINVALID,
						"%s must be a whole number, found \"%s\"", what, node->text);
		return jc_yaml_error_at(err, node, JC_EINVALID,
					"%s must be a whole number, found %s", what, describe(node));
	}
	if (v < min || v > max) {
		if (max == LONG_MAX)
			return jc_yaml_error_at(err, node, JC_EINVALID,
						"%s must be at least %ld, found %ld", what, min, v);
		return jc_yaml_error_at(err, node, JC_EINVALID,
					"%s must be between %ld and %ld, found %ld", what, min, max, v);
	}
	*out = v;
	return 0;
}

bool jc_yaml_is_bool(const jc_yaml_node *node, bool *value)
{
	static const char *const yes[] = { "true", "yes", "on", "y" };
	static const char *const no[] = { "false", "no", "off", "n" };
	if (!node || node->type != JC_YAML_SCALAR || node->quoted)
		return false;
	for (size_t i = 0; i < JC_ARRAY_LEN(yes); i++) {
		if (strcasecmp(node->text, yes[i]) == 0) {
			if (value)
				*value = true;
			return true;
		}
		if (strcasecmp(node->text, no[i]) == 0) {
			if (value)
				*value = false;
			return true;
		}
	}
	return false;
}

int jc_yaml_get_bool(const jc_yaml_node *node, const char *what, bool *out, jc_error *err)
{
	if (jc_yaml_is_bool(node, out))
		return 0;
	if (node && node->type == JC_YAML_SCALAR)
		return jc_yaml_error_at(err, node, JC_EINVALID,
					"%s must be true or false, found \"%s\"", what, node->text);
	return jc_yaml_error_at(err, node, JC_EINVALID, "%s must be true or false, found %s",
				what, describe(node));
}

int jc_yaml_check_keys(const jc_yaml_node *map, const char *const *known, size_t n_known,
		       const char *what, jc_error *err)
{
	size_t n = jc_yaml_size(map);
	if (jc_yaml_type_of(map) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(map) != JC_YAML_MAPPING)
		return jc_yaml_expect(map, JC_YAML_MAPPING, what, err);
	for (size_t i = 0; i < n; i++) {
		const jc_yaml_node *k = jc_yaml_key(map, i);
		const char *name;
		bool found = false;
		if (k->type != JC_YAML_SCALAR)
			return jc_yaml_error_at(err, k, JC_EINVALID, "keys of %s must be strings", what);
		name = k->text;
		for (size_t j = 0; j < n_known && !found; j++)
			found = strcmp(name, known[j]) == 0;
		if (found)
			continue;
		const char *hint = jc_str_suggest(name, known, n_known);
		jc_buf list = JC_BUF_INIT;
		for (size_t j = 0; j < n_known; j++)
			jc_buf_printf(&list, "%s%s", j ? ", " : "", known[j]);
		int rc;
		if (hint)
			rc = jc_yaml_error_at(err, k, JC_EINVALID, "unknown key \"%s\" in %s; did you mean \"%s\"?",
					      name, what, hint);
		else
			rc = jc_yaml_error_at(err, k, JC_EINVALID, "unknown key \"%s\" in %s (known keys: %s)",
					      name, what, jc_buf_cstr(&list));
		jc_buf_free(&list);
		return rc;
	}
	return 0;
}

int jc_yaml_words(const jc_yaml_node *map, const char *key, const char *what, jc_strv *out, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(map, key);
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(v) == JC_YAML_SEQUENCE) {
		for (size_t i = 0; i < jc_yaml_size(v); i++) {
			const char *s;
			int rc = jc_yaml_get_string(jc_yaml_item(v, i), what, &s, err);
			if (rc < 0) {
				jc_strv_free(out);
				return rc;
			}
			jc_strv_push(out, s);
		}
	} else if (jc_yaml_type_of(v) == JC_YAML_SCALAR) {
		char *copy = jc_strdup(jc_yaml_scalar(v)), *save = NULL;
		for (char *w = strtok_r(copy, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save))
			jc_strv_push(out, w);
		free(copy);
	} else {
		return jc_yaml_error_at(err, v, JC_EINVALID, "%s must be a list, found %s", what,
					jc_yaml_type_name(jc_yaml_type_of(v)));
	}
	if (out->n == 0)
		return jc_yaml_error_at(err, v, JC_EINVALID, "%s must not be empty", what);
	return 0;
}
