/* jobs-xml.c - a job model to Jenkins config.xml (libxml2), the canonical
 * form two configurations are compared in, and writing a job set to disk.
 *
 * The element order and the defaults follow what Jenkins Job Builder
 * writes for the same settings, so the two generators can be compared
 * (test/cli/jobs-jjb.sh lists the few differences and why). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "jobs-internal.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
	xmlInitParser();
}

void jc_jobs_xml_init(void)
{
	pthread_once(&xml_once, xml_init_once);
}

/* ---- rendering */

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	/* xmlNewTextChild escapes the text; an empty one makes <name/> */
	return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static xmlNodePtr add_bool(xmlNodePtr parent, const char *name, bool v)
{
	return add(parent, name, v ? "true" : "false");
}

static void add_long(xmlNodePtr parent, const char *name, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	add(parent, name, buf);
}

static void render_properties(xmlNodePtr root, const jc_job *job)
{
	xmlNodePtr props = add(root, "properties", NULL);
	if (job->keep_builds > 0) {
		xmlNodePtr d = add(props, "jenkins.model.BuildDiscarderProperty", NULL);
		xmlNodePtr s = add(d, "strategy", NULL);
		xmlNewProp(s, BAD_CAST "class", BAD_CAST "hudson.tasks.LogRotator");
		add_long(s, "daysToKeep", -1);
		add_long(s, "numToKeep", job->keep_builds);
		add_long(s, "artifactDaysToKeep", -1);
		add_long(s, "artifactNumToKeep", -1);
	}
	if (job->n_params) {
		xmlNodePtr p = add(props, "hudson.model.ParametersDefinitionProperty", NULL);
		xmlNodePtr defs = add(p, "parameterDefinitions", NULL);
		for (size_t i = 0; i < job->n_params; i++) {
			const jc_job_param *pm = &job->params[i];
			xmlNodePtr d = add(defs, pm->is_bool ? "hudson.model.BooleanParameterDefinition"
							     : "hudson.model.StringParameterDefinition", NULL);
			add(d, "name", pm->name);
			add(d, "description", pm->description);
			add(d, "defaultValue", pm->default_value);
			if (!pm->is_bool)
				add_bool(d, "trim", pm->trim);
		}
	}
}

static void render_shell(xmlNodePtr parent, const char *command)
{
	add(add(parent, "hudson.tasks.Shell", NULL), "command", command);
}

static void render_downstream(xmlNodePtr publishers, const jc_job *job)
{
	const char *pt = "hudson.plugins.parameterizedtrigger.";
	char name[128];
	xmlNodePtr bt, configs;

	if (!job->n_downstream)
		return;
	snprintf(name, sizeof(name), "%sBuildTrigger", pt);
	bt = add(publishers, name, NULL);
	configs = add(bt, "configs", NULL);
	for (size_t i = 0; i < job->n_downstream; i++) {
		const jc_job_downstream *d = &job->downstream[i];
		xmlNodePtr c, pc;
		jc_buf projects = JC_BUF_INIT;

		snprintf(name, sizeof(name), "%sBuildTriggerConfig", pt);
		c = add(configs, name, NULL);
		pc = add(c, "configs", NULL);
		if (!d->predefined && !d->property_file && !d->current)
			xmlNewProp(pc, BAD_CAST "class", BAD_CAST "java.util.Collections$EmptyList");
		if (d->predefined) {
			snprintf(name, sizeof(name), "%sPredefinedBuildParameters", pt);
			add(add(pc, name, NULL), "properties", d->predefined);
		}
		if (d->property_file) {
			xmlNodePtr f;
			snprintf(name, sizeof(name), "%sFileBuildParameters", pt);
			f = add(pc, name, NULL);
			add(f, "propertiesFile", d->property_file);
			add_bool(f, "failTriggerOnMissing", d->fail_on_missing);
			add_bool(f, "textParamValueOnNewLine", false);
		}
		if (d->current) {
			snprintf(name, sizeof(name), "%sCurrentBuildParameters", pt);
			add(pc, name, NULL);
		}
		for (size_t k = 0; k < d->jobs.n; k++)
			jc_buf_printf(&projects, "%s%s", k ? "," : "", d->jobs.v[k]);
		add(c, "projects", jc_buf_cstr(&projects));
		jc_buf_free(&projects);
		add(c, "condition", d->condition);
		add_bool(c, "triggerFromChildProjects", false);
		add_bool(c, "triggerWithNoParameters", d->without_params);
	}
}

static void render_on_abort(xmlNodePtr publishers, const jc_job *job)
{
	const char *pb = "org.jenkinsci.plugins.postbuildscript.";
	char name[128];
	xmlNodePtr config, steps, step, results;

	if (!job->on_abort)
		return;
	snprintf(name, sizeof(name), "%sPostBuildScript", pb);
	config = add(add(publishers, name, NULL), "config", NULL);
	add_bool(config, "markBuildUnstable", false);
	add(config, "scriptFiles", NULL);
	add(config, "groovyScripts", NULL);
	steps = add(config, "buildSteps", NULL);
	snprintf(name, sizeof(name), "%smodel.PostBuildStep", pb);
	step = add(steps, name, NULL);
	results = add(step, "results", NULL);
	add(results, "string", "ABORTED");
	add(step, "role", "BOTH");
	render_shell(add(step, "buildSteps", NULL), job->on_abort);
}

static void render_wrappers(xmlNodePtr root, const jc_job *job)
{
	xmlNodePtr w = add(root, "buildWrappers", NULL);
	if (job->timestamps)
		add(w, "hudson.plugins.timestamper.TimestamperBuildWrapper", NULL);
	if (job->timeout_minutes > 0) {
		xmlNodePtr t = add(w, "hudson.plugins.build__timeout.BuildTimeoutWrapper", NULL);
		xmlNodePtr s = add(t, "strategy", NULL);
		xmlNewProp(s, BAD_CAST "class", BAD_CAST "hudson.plugins.build_timeout.impl.AbsoluteTimeOutStrategy");
		add_long(s, "timeoutMinutes", job->timeout_minutes);
		add(add(t, "operationList", NULL),
		    job->timeout_fail ? "hudson.plugins.build__timeout.operations.FailOperation"
				      : "hudson.plugins.build__timeout.operations.AbortOperation", NULL);
	}
}

int jc_job_render(jc_job *job, const char *set_name, jc_error *err)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, x;
	xmlChar *mem = NULL;
	int size = 0;
	char *desc;

	root = xmlNewDocNode(doc, NULL, BAD_CAST "project", NULL);
	xmlDocSetRootElement(doc, root);
	add(root, "actions", NULL);
	desc = jc_sprintf("%s" JC_JOBS_MARKER_FMT, job->description ? job->description : "", set_name);
	add(root, "description", desc);
	free(desc);
	add_bool(root, "keepDependencies", false);
	if (job->disabled >= 0)
		add_bool(root, "disabled", job->disabled);
	add_bool(root, "blockBuildWhenDownstreamBuilding", job->block_downstream);
	add_bool(root, "blockBuildWhenUpstreamBuilding", job->block_upstream);
	add_bool(root, "concurrentBuild", job->concurrent);
	if (job->node) {
		add(root, "assignedNode", job->node);
		add_bool(root, "canRoam", false);
	} else {
		add_bool(root, "canRoam", true);
	}
	render_properties(root, job);
	x = add(root, "scm", NULL);
	xmlNewProp(x, BAD_CAST "class", BAD_CAST "hudson.scm.NullSCM");
	if (job->timer) {
		x = add(root, "triggers", NULL);
		xmlNewProp(x, BAD_CAST "class", BAD_CAST "vector");
		add(add(x, "hudson.triggers.TimerTrigger", NULL), "spec", job->timer);
	}
	x = add(root, "builders", NULL);
	for (size_t i = 0; i < job->shell.n; i++)
		render_shell(x, job->shell.v[i]);
	x = add(root, "publishers", NULL);
	if (job->junit) {
		xmlNodePtr j = add(x, "hudson.tasks.junit.JUnitResultArchiver", NULL);
		xmlNewProp(j, BAD_CAST "plugin", BAD_CAST "junit");
		add(j, "testResults", job->junit);
		add_bool(j, "keepLongStdio", job->junit_keep_long_stdio);
		add(j, "healthScaleFactor", "1.0");
		add_bool(j, "allowEmptyResults", job->junit_allow_empty);
		add_bool(j, "skipPublishingChecks", false);
		add_bool(j, "skipMarkingBuildUnstable", false);
		add(j, "testDataPublishers", NULL);
	}
	render_downstream(x, job);
	render_on_abort(x, job);
	render_wrappers(root, job);

	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	xmlFreeDoc(doc);
	if (!mem || size <= 0) {
		xmlFree(mem);
		return jc_err(err, JC_ENOMEM, "cannot serialise the XML of job %s", job->name);
	}
	free(job->xml);
	job->xml = jc_strndup((const char *)mem, (size_t)size);
	job->xml_len = (size_t)size;
	xmlFree(mem);
	return 0;
}

/* ---- canonical form */

static bool blank(const xmlChar *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* Drops comments, processing instructions and indentation: whitespace-only
 * text beside elements.  Text that is an element's only content stays
 * (a shell command of "  " is not nothing). */
static void strip(xmlNodePtr node)
{
	bool has_element = false;
	for (xmlNodePtr c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			has_element = true;
	for (xmlNodePtr c = node->children, next; c; c = next) {
		next = c->next;
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE ||
		    (has_element && c->type == XML_TEXT_NODE && blank(c->content))) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			strip(c);
		}
	}
}

static int parse(xmlDocPtr *out, const char *xml, size_t len, const char *what, jc_error *err)
{
	xmlDocPtr doc;
	jc_jobs_xml_init();
	if (len > (size_t)0x7fffffff)
		return jc_err(err, JC_EINVALID, "%s: XML larger than 2 GiB", what);
	doc = xmlReadMemory(xml, (int)len, what, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc || !xmlDocGetRootElement(doc)) {
		const xmlError *e = xmlGetLastError();
		int rc = e ? jc_err_at(err, JC_EPARSE, what, e->line, e->int2, "not well-formed XML: %s",
				       e->message ? e->message : "parse error")
			   : jc_err(err, JC_EPARSE, "%s: not well-formed XML", what);
		/* libxml2 messages end with a newline */
		if (err) {
			size_t l = strlen(err->message);
			while (l && (err->message[l - 1] == '\n' || err->message[l - 1] == ' '))
				err->message[--l] = '\0';
		}
		xmlFreeDoc(doc);
		return rc;
	}
	for (xmlNodePtr c = doc->children, next; c; c = next) {
		next = c->next;
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	strip(xmlDocGetRootElement(doc));
	*out = doc;
	return 0;
}

int jc_jobs_canonicalize(char **out, size_t *out_len, const char *xml, size_t len, const char *what,
			 jc_error *err)
{
	xmlDocPtr doc;
	xmlChar *c14n = NULL;
	int n, rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if ((rc = parse(&doc, xml, len, what ? what : "config.xml", err)) < 0)
		return rc;
	n = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 0, &c14n);
	xmlFreeDoc(doc);
	if (n < 0 || !c14n) {
		xmlFree(c14n);
		return jc_err(err, JC_EPARSE, "%s: cannot canonicalise the XML", what ? what : "config.xml");
	}
	*out = jc_strndup((const char *)c14n, (size_t)n);
	if (out_len)
		*out_len = (size_t)n;
	xmlFree(c14n);
	return 0;
}

/* ---- where two documents differ */

static void path_push(jc_buf *path, xmlNodePtr n)
{
	int index = 0, total = 0;
	for (xmlNodePtr s = n->parent ? n->parent->children : n; s; s = s->next) {
		if (s->type != XML_ELEMENT_NODE || !xmlStrEqual(s->name, n->name))
			continue;
		total++;
		if (s == n)
			index = total;
	}
	jc_buf_printf(path, "/%s", (const char *)n->name);
	/* an index only where the name alone is ambiguous */
	if (total > 1)
		jc_buf_printf(path, "[%d]", index);
}

static bool text_equal(const xmlNodePtr a, const xmlNodePtr b)
{
	xmlChar *ta = xmlNodeGetContent(a), *tb = xmlNodeGetContent(b);
	bool eq = xmlStrEqual(ta ? ta : BAD_CAST "", tb ? tb : BAD_CAST "");
	xmlFree(ta);
	xmlFree(tb);
	return eq;
}

static bool attrs_equal(xmlNodePtr a, xmlNodePtr b)
{
	int na = 0, nb = 0;
	for (xmlAttrPtr p = a->properties; p; p = p->next)
		na++;
	for (xmlAttrPtr p = b->properties; p; p = p->next) {
		xmlChar *va, *vb;
		bool eq;
		nb++;
		va = xmlGetProp(a, p->name);
		vb = xmlGetProp(b, p->name);
		eq = va && vb && xmlStrEqual(va, vb);
		xmlFree(va);
		xmlFree(vb);
		if (!eq)
			return false;
	}
	return na == nb;
}

static int element_count(xmlNodePtr n)
{
	int k = 0;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			k++;
	return k;
}

static xmlNodePtr next_element(xmlNodePtr n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

/* Appends the path of the first difference below a and b; true if found. */
static bool first_difference(xmlNodePtr a, xmlNodePtr b, jc_buf *path)
{
	path_push(path, a);
	if (!xmlStrEqual(a->name, b->name) || !attrs_equal(a, b))
		return true;
	if (element_count(a) == 0 && element_count(b) == 0)
		return !text_equal(a, b);
	xmlNodePtr ca = next_element(a->children), cb = next_element(b->children);
	while (ca && cb) {
		size_t mark = path->len;
		if (!xmlStrEqual(ca->name, cb->name)) {
			path_push(path, ca);
			return true;
		}
		if (first_difference(ca, cb, path))
			return true;
		path->len = mark;
		path->data[mark] = '\0';
		ca = next_element(ca->next);
		cb = next_element(cb->next);
	}
	if (ca || cb) {
		path_push(path, ca ? ca : cb);
		return true;
	}
	return false;
}

int jc_jobs_xml_difference(char **out, const char *a, size_t a_len, const char *b, size_t b_len,
			   jc_error *err)
{
	xmlDocPtr da, db;
	jc_buf path = JC_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = parse(&da, a, a_len, "first document", err)) < 0)
		return rc;
	if ((rc = parse(&db, b, b_len, "second document", err)) < 0) {
		xmlFreeDoc(da);
		return rc;
	}
	if (first_difference(xmlDocGetRootElement(da), xmlDocGetRootElement(db), &path))
		*out = jc_buf_detach(&path);
	jc_buf_free(&path);
	xmlFreeDoc(da);
	xmlFreeDoc(db);
	return 0;
}

/* ---- writing a set to a directory */

/* Generated files are reproducible, so they are written without an fsync
 * each (a 200-job set would otherwise wait on 200 flushes).  A file that is
 * already right is left alone; one that changes is replaced atomically; a
 * new one is written in place (cut short by a crash, it differs next time
 * and is replaced). */
static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static int write_if_changed(const char *path, const char *data, size_t len, bool *written, jc_error *err)
{
	char *old = NULL, *tmp = NULL;
	size_t old_len = 0;
	const char *target = path;
	int fd, e;

	*written = false;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST)
		return jc_err_errno(err, JC_EIO, errno, "cannot create %s", path);
	if (fd < 0) {
		if (jc_file_read(path, &old, &old_len, NULL) == 0 && old_len == len && memcmp(old, data, len) == 0) {
			free(old);
			return 0;
		}
		free(old);
		tmp = jc_sprintf("%s.tmp.%ld", path, (long)getpid());
		target = tmp;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			e = errno;
			free(tmp);
			return jc_err_errno(err, JC_EIO, e, "cannot create %s", path);
		}
	}
	e = write_all(fd, data, len) < 0 ? errno : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		unlink(target);
		free(tmp);
		return jc_err_errno(err, JC_EIO, e, "cannot write %s", path);
	}
	if (tmp && rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return jc_err_errno(err, JC_EIO, e, "cannot rename into %s", path);
	}
	free(tmp);
	*written = true;
	return 0;
}

/* One mkdir for the usual job directory; mkdir -p only for folders. */
static int job_dir(const char *path, jc_error *err)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT)
		return jc_mkdir_p(path, 0755, err);
	return jc_err_errno(err, JC_EIO, errno, "cannot create %s", path);
}

int jc_jobs_write(const jc_jobs *jobs, const char *dir, size_t *n_written, jc_error *err)
{
	size_t count = 0;
	int rc;

	if (n_written)
		*n_written = 0;
	if ((rc = jc_mkdir_p(dir, 0755, err)) < 0)
		return rc;
	for (size_t i = 0; i < jobs->n; i++) {
		const jc_job *j = &jobs->jobs[i];
		char *jobdir = jc_path_join(dir, j->name), *file;
		bool written;
		if ((rc = job_dir(jobdir, err)) < 0) {
			free(jobdir);
			return rc;
		}
		file = jc_path_join(jobdir, "config.xml");
		rc = write_if_changed(file, j->xml, j->xml_len, &written, err);
		free(file);
		free(jobdir);
		if (rc < 0)
			return rc;
		count += written;
	}
	if (n_written)
		*n_written = count;
	return 0;
}
