/*
 * jcicd/repo.h - the APT repository model: deb822 paragraphs (Packages,
 * Release), Release files read and written, SHA256 hashes, Debian version
 * order, and OpenPGP verification and signing of Release files (GPGME).
 *
 * Everything here is pure data handling plus gpg; fetching a repository and
 * taking snapshots of it is jcicd/snapshot.h.
 */
#ifndef JCICD_REPO_H
#define JCICD_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- hashes */

#define JC_SHA256_HEX_SIZE 65   /* 64 hex digits and a NUL */

/* SHA256 of a buffer as lower-case hex into out. */
JC_EXTERN void jc_repo_sha256_buf(char out[JC_SHA256_HEX_SIZE], const void *data, size_t len);
/* SHA256 and size of a file. */
JC_EXTERN int jc_repo_sha256_file(char out[JC_SHA256_HEX_SIZE], long long *size_out,
				  const char *path, jc_error *err);
/* True when s is exactly 64 lower-case hex digits. */
JC_EXTERN bool jc_repo_is_sha256(const char *s);

/* ---- deb822 paragraphs (Debian Policy 5.1): "Field: value" lines,
 * continuation lines starting with a space or a tab, paragraphs separated
 * by blank lines, '#' comment lines ignored. */

typedef struct jc_deb822_para jc_deb822_para;

/* Called for each paragraph; the paragraph is borrowed for the call only.
 * Return 0 to go on, or a negative JC_E* code (after filling err) to stop;
 * the parser returns that code. */
typedef int (*jc_deb822_fn)(const jc_deb822_para *para, jc_error *err, void *payload);

/* The value of a field (case-insensitive name), NULL when absent.  A
 * multi-line value is returned as written, continuation lines included,
 * without the leading space of the first line and the final newline. */
JC_EXTERN const char *jc_deb822_get(const jc_deb822_para *para, const char *field);
JC_EXTERN size_t jc_deb822_field_count(const jc_deb822_para *para);
JC_EXTERN const char *jc_deb822_field_name(const jc_deb822_para *para, size_t i);
JC_EXTERN const char *jc_deb822_field_value(const jc_deb822_para *para, size_t i);
/* The line of the input where the paragraph, or its field i, starts (1-based). */
JC_EXTERN int jc_deb822_line(const jc_deb822_para *para);
JC_EXTERN int jc_deb822_field_line(const jc_deb822_para *para, size_t i);

/* Parses a whole buffer; `name` is what errors are reported against
 * ("file:line:col: ..."). */
JC_EXTERN int jc_deb822_parse(const char *text, size_t len, const char *name, jc_deb822_fn fn,
			      void *payload, jc_error *err);

/* A push parser for streams (a Packages file read in chunks, decompressed
 * on the fly): memory is bounded by the longest paragraph, not the input. */
typedef struct jc_deb822_parser jc_deb822_parser;
JC_EXTERN int jc_deb822_parser_new(jc_deb822_parser **out, const char *name, jc_deb822_fn fn,
				   void *payload, jc_error *err);
JC_EXTERN int jc_deb822_parser_feed(jc_deb822_parser *parser, const char *data, size_t len,
				    jc_error *err);
/* Ends the input (a last paragraph need not end in a blank line). */
JC_EXTERN int jc_deb822_parser_finish(jc_deb822_parser *parser, jc_error *err);
JC_EXTERN void jc_deb822_parser_free(jc_deb822_parser *parser);

/* ---- Release files */

typedef struct jc_repo_release jc_repo_release;

/* One entry of the SHA256 list of a Release file. */
typedef struct jc_repo_release_file {
	const char *path;      /* relative to dists/<suite>/, e.g. "main/binary-amd64/Packages.gz" */
	long long size;
	const char *sha256;    /* 64 lower-case hex digits */
} jc_repo_release_file;

/* Parses a Release file (the plain text: strip an InRelease's signature
 * first, see jc_repo_clearsign_strip or jc_repo_verify).  The SHA256 list is
 * required; malformed entries are errors at their line. */
JC_EXTERN int jc_repo_release_parse(jc_repo_release **out, const char *text, size_t len,
				    const char *name, jc_error *err);
JC_EXTERN void jc_repo_release_free(jc_repo_release *release);
/* A field ("Suite", "Date", ...), NULL when absent.  Borrowed. */
JC_EXTERN const char *jc_repo_release_field(const jc_repo_release *release, const char *field);
JC_EXTERN size_t jc_repo_release_file_count(const jc_repo_release *release);
/* Entries in the order of the file.  Borrowed. */
JC_EXTERN const jc_repo_release_file *jc_repo_release_file_at(const jc_repo_release *release,
							      size_t i);
/* The entry for a path, NULL when the Release does not list it.  Borrowed. */
JC_EXTERN const jc_repo_release_file *jc_repo_release_lookup(const jc_repo_release *release,
							     const char *path);

/* What a generated Release file says.  Entries are written sorted by path. */
#define JC_REPO_RELEASE_INFO_VERSION 1
typedef struct jc_repo_release_info {
	unsigned version;
	const char *origin;            /* NULL: omitted */
	const char *label;             /* NULL: omitted */
	const char *suite;             /* required */
	const char *codename;          /* NULL: same as suite */
	long long date;                /* seconds since the epoch (UTC) */
	const char *description;       /* NULL: omitted */
	const char *const *architectures;
	size_t n_architectures;
	const char *const *components;
	size_t n_components;
	bool acquire_by_hash;          /* "Acquire-By-Hash: yes" */
	const jc_repo_release_file *files;
	size_t n_files;
} jc_repo_release_info;

#define JC_REPO_RELEASE_INFO_INIT { JC_REPO_RELEASE_INFO_VERSION, NULL, NULL, NULL, NULL, 0, NULL, \
				    NULL, 0, NULL, 0, false, NULL, 0 }

/* Writes a Release file; *out is NUL-terminated, caller frees. */
JC_EXTERN int jc_repo_release_write(char **out, size_t *out_len, const jc_repo_release_info *info,
				    jc_error *err);

/* The signed text of a clearsigned (InRelease) message, without checking the
 * signature: dash-escaping undone, armour removed.  Caller frees *out. */
JC_EXTERN int jc_repo_clearsign_strip(char **out, size_t *out_len, const char *text, size_t len,
				      const char *name, jc_error *err);

/* ---- OpenPGP (GPGME) */

/*
 * Verifies a Release file against a keyring file (exported public keys,
 * binary or armoured).  Either `clearsigned` is an InRelease (then
 * `signature` is NULL) and *out receives the signed text, or `clearsigned`
 * is a Release and `signature` its detached Release.gpg (then *out receives
 * a copy of the Release).  Succeeds only when at least one signature is good
 * and made by a key of the keyring, and no signature is bad; a bad, expired
 * or revoked signature is JC_EINTEGRITY with the reason.  `fingerprint`
 * (may be NULL) receives the signing key's fingerprint (caller frees).
 * `work_dir` is a directory the function may use for gpg's home (a
 * per-keyring cache); NULL uses a temporary one.
 */
JC_EXTERN int jc_repo_verify(char **out, size_t *out_len, char **fingerprint,
			     const char *clearsigned, size_t clearsigned_len,
			     const char *signature, size_t signature_len, const char *keyring,
			     const char *work_dir, const char *name, jc_error *err);

#define JC_REPO_SIGN_OPTIONS_VERSION 1
typedef struct jc_repo_sign_options {
	unsigned version;
	const char *key;               /* fingerprint, key id or user id; required */
	const char *gnupghome;         /* NULL: $GNUPGHOME or ~/.gnupg */
	const char *passphrase_file;   /* NULL: the key has none, or gpg-agent knows it */
} jc_repo_sign_options;

#define JC_REPO_SIGN_OPTIONS_INIT { JC_REPO_SIGN_OPTIONS_VERSION, NULL, NULL, NULL }

/* Signs a Release: *inrelease receives the clearsigned InRelease and
 * *release_gpg the armoured detached Release.gpg (either may be NULL when
 * not wanted).  Caller frees. */
JC_EXTERN int jc_repo_sign(char **inrelease, size_t *inrelease_len, char **release_gpg,
			   size_t *release_gpg_len, const char *release, size_t release_len,
			   const jc_repo_sign_options *opts, jc_error *err);

/* ---- Debian versions */

/* Orders two Debian versions ([epoch:]upstream[-revision], with '~' sorting
 * before anything): <0, 0 or >0, like strcmp. */
JC_EXTERN int jc_repo_version_compare(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
