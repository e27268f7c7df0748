/* repo-gpg.c - OpenPGP verification of Release/InRelease against a keyring
 * file, and signing of Release files, through GPGME.
 *
 * gpg only verifies against keys in a home directory, so a keyring file is
 * imported into a private home first.  Such homes are cached per keyring
 * content (under the caller's work directory), built in a temporary
 * directory and renamed into place, so concurrent or interrupted runs never
 * see a half-imported keyring. */
#include "common.h"

#include <errno.h>
#include <gpgme.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jcicd/repo.h"

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static const char *gpgme_ok;

static void gpgme_init(void)
{
	gpgme_ok = gpgme_check_version(NULL);
}

static int gpg_err(jc_error *err, int code, gpgme_error_t e, const char *what, const char *name)
{
	return jc_err(err, code, "%s: %s: %s", name, what, gpgme_strerror(e));
}

static int new_ctx(gpgme_ctx_t *ctx, const char *home, const char *name, jc_error *err)
{
	gpgme_error_t e;
	pthread_once(&gpgme_once, gpgme_init);
	if (!gpgme_ok)
		return jc_err(err, JC_EUNSUPPORTED, "%s: GPGME could not be initialised", name);
	e = gpgme_new(ctx);
	if (e)
		return gpg_err(err, JC_ERROR, e, "cannot create a GPGME context", name);
	gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP);
	if (home) {
		e = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
		if (e) {
			gpgme_release(*ctx);
			return gpg_err(err, JC_EUNSUPPORTED, e, "cannot use gpg (is gnupg installed?)", name);
		}
	}
	return 0;
}

static int import_keyring(const char *home, const char *keyring, const char *data, size_t len,
			  jc_error *err)
{
	gpgme_ctx_t ctx;
	gpgme_data_t kd;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	int rc = new_ctx(&ctx, home, keyring, err);
	if (rc < 0)
		return rc;
	e = gpgme_data_new_from_mem(&kd, data, len, 0);
	if (e) {
		gpgme_release(ctx);
		return gpg_err(err, JC_ENOMEM, e, "cannot read the keyring", keyring);
	}
	e = gpgme_op_import(ctx, kd);
	ir = e ? NULL : gpgme_op_import_result(ctx);
	if (e)
		rc = gpg_err(err, JC_EINVALID, e, "cannot import the keyring", keyring);
	else if (!ir || ir->considered == 0 || ir->imported + ir->unchanged == 0)
		rc = jc_err(err, JC_EINVALID, "keyring %s holds no OpenPGP public key", keyring);
	gpgme_data_release(kd);
	gpgme_release(ctx);
	return rc;
}

/* The gpg home with the keyring's keys: cached in work_dir, or a fresh
 * temporary one (*temp set, the caller removes it). */
static int keyring_home(char **home, bool *temp, const char *keyring, const char *work_dir, jc_error *err)
{
	char *data = NULL, *tmp;
	size_t len;
	char sha[JC_SHA256_HEX_SIZE];
	int rc;

	*home = NULL;
	*temp = false;
	rc = jc_file_read(keyring, &data, &len, err);
	if (rc < 0) {
		jc_err_prefix(err, "keyring");
		return rc;
	}
	jc_repo_sha256_buf(sha, data, len);
	if (work_dir) {
		char *want = jc_sprintf("%s/keyring-%.16s", work_dir, sha);
		if (jc_path_exists(want)) {
			free(data);
			*home = want;
			return 0;
		}
		rc = jc_mkdir_p(work_dir, 0700, err);
		if (rc < 0) {
			free(want);
			free(data);
			return rc;
		}
		tmp = jc_sprintf("%s/.keyring-tmp-XXXXXX", work_dir);
		if (!mkdtemp(tmp)) {
			rc = jc_err_errno(err, JC_EIO, errno, "cannot create %s", tmp);
			free(tmp);
			free(want);
			free(data);
			return rc;
		}
		rc = import_keyring(tmp, keyring, data, len, err);
		free(data);
		if (rc == 0 && rename(tmp, want) < 0) {
			/* someone else finished first: theirs is as good */
			if (!jc_path_exists(want))
				rc = jc_err_errno(err, JC_EIO, errno, "cannot rename %s", tmp);
		}
		jc_rm_rf(tmp, NULL);
		if (rc < 0) {
			free(tmp);
			free(want);
			return rc;
		}
		free(tmp);
		*home = want;
		return 0;
	}
	tmp = jc_strdup("/tmp/jcicd-gpg-XXXXXX");
	if (!mkdtemp(tmp)) {
		rc = jc_err_errno(err, JC_EIO, errno, "cannot create a temporary gpg home");
		free(tmp);
		free(data);
		return rc;
	}
	rc = import_keyring(tmp, keyring, data, len, err);
	free(data);
	if (rc < 0) {
		jc_rm_rf(tmp, NULL);
		free(tmp);
		return rc;
	}
	*home = tmp;
	*temp = true;
	return 0;
}

static char *data_take(gpgme_data_t d, size_t *len)
{
	size_t n = 0;
	char *mem = gpgme_data_release_and_get_mem(d, &n);
	char *copy = jc_malloc(n + 1);
	if (n)
		memcpy(copy, mem, n);
	copy[n] = '\0';
	gpgme_free(mem);
	*len = n;
	return copy;
}

/* Judges the signatures of a verification, like apt's gpgv method: good
 * when one signature is good and none is bad. */
static int judge(gpgme_verify_result_t vr, char **fingerprint, const char *name, const char *keyring,
		 jc_error *err)
{
	gpgme_signature_t good = NULL;
	const char *missing = NULL;
	if (!vr || !vr->signatures)
		return jc_err(err, JC_EINTEGRITY, "%s: no OpenPGP signature found", name);
	for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
		switch (gpgme_err_code(s->status)) {
		case GPG_ERR_NO_ERROR:
			if (!good)
				good = s;
			break;
		case GPG_ERR_NO_PUBKEY:
			missing = s->fpr;
			break;
		case GPG_ERR_BAD_SIGNATURE:
			return jc_err(err, JC_EINTEGRITY, "%s: BAD signature by key %s: the file was altered "
				      "after it was signed", name, s->fpr ? s->fpr : "(unknown)");
		case GPG_ERR_KEY_EXPIRED:
			return jc_err(err, JC_EINTEGRITY, "%s: signed by key %s, which has expired", name,
				      s->fpr ? s->fpr : "(unknown)");
		case GPG_ERR_SIG_EXPIRED:
			return jc_err(err, JC_EINTEGRITY, "%s: the signature by key %s has expired", name,
				      s->fpr ? s->fpr : "(unknown)");
		case GPG_ERR_CERT_REVOKED:
			return jc_err(err, JC_EINTEGRITY, "%s: signed by key %s, which is revoked", name,
				      s->fpr ? s->fpr : "(unknown)");
		default:
			return jc_err(err, JC_EINTEGRITY, "%s: signature by key %s does not verify: %s", name,
				      s->fpr ? s->fpr : "(unknown)", gpgme_strerror(s->status));
		}
	}
	if (!good)
		return jc_err(err, JC_EINTEGRITY, "%s: signed by key %s, which is not in keyring %s", name,
			      missing ? missing : "(unknown)", keyring);
	if (fingerprint)
		*fingerprint = jc_strdup(good->fpr);
	return 0;
}

int jc_repo_verify(char **out, size_t *out_len, char **fingerprint, const char *clearsigned,
		   size_t clearsigned_len, const char *signature, size_t signature_len, const char *keyring,
		   const char *work_dir, const char *name, jc_error *err)
{
	gpgme_ctx_t ctx;
	gpgme_data_t text = NULL, sig = NULL, plain = NULL;
	gpgme_error_t e;
	char *home = NULL, *stripped = NULL;
	size_t stripped_len = 0;
	bool temp = false;
	int rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (fingerprint)
		*fingerprint = NULL;
	if (!signature) {
		/* the structure first: nothing outside the one signed message */
		rc = jc_repo_clearsign_strip(&stripped, &stripped_len, clearsigned, clearsigned_len, name, err);
		if (rc < 0)
			return rc;
		free(stripped);
	}
	rc = keyring_home(&home, &temp, keyring, work_dir, err);
	if (rc < 0)
		return rc;
	rc = new_ctx(&ctx, home, name, err);
	if (rc < 0)
		goto out;
	if ((e = gpgme_data_new_from_mem(&text, clearsigned, clearsigned_len, 0)) != 0 ||
	    (signature && (e = gpgme_data_new_from_mem(&sig, signature, signature_len, 0)) != 0) ||
	    (!signature && (e = gpgme_data_new(&plain)) != 0)) {
		rc = gpg_err(err, JC_ENOMEM, e, "cannot prepare verification", name);
		goto release;
	}
	if (signature)
		e = gpgme_op_verify(ctx, sig, text, NULL);
	else
		e = gpgme_op_verify(ctx, text, NULL, plain);
	if (e) {
		rc = jc_err(err, JC_EINTEGRITY, "%s: cannot verify the signature: %s", name, gpgme_strerror(e));
		goto release;
	}
	rc = judge(gpgme_op_verify_result(ctx), fingerprint, name, keyring, err);
	if (rc < 0)
		goto release;
	if (signature) {
		*out = jc_malloc(clearsigned_len + 1);
		memcpy(*out, clearsigned, clearsigned_len);
		(*out)[clearsigned_len] = '\0';
		if (out_len)
			*out_len = clearsigned_len;
	} else {
		size_t n;
		/* what gpg verified is what gets parsed, nothing else */
		*out = data_take(plain, &n);
		plain = NULL;
		if (out_len)
			*out_len = n;
	}
release:
	gpgme_data_release(text);
	gpgme_data_release(sig);
	gpgme_data_release(plain);
	gpgme_release(ctx);
out:
	if (temp)
		jc_rm_rf(home, NULL);
	free(home);
	return rc;
}

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	const char *pass = hook;
	(void)uid_hint;
	(void)info;
	if (prev_bad)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	if (gpgme_io_writen(fd, pass, strlen(pass)) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
		return gpgme_error(GPG_ERR_GENERAL);
	return 0;
}

static int sign_one(gpgme_ctx_t ctx, gpgme_sig_mode_t mode, const char *release, size_t len, char **out,
		    size_t *out_len, const char *key, jc_error *err)
{
	gpgme_data_t in, sig;
	gpgme_error_t e;
	gpgme_sign_result_t sr;
	if ((e = gpgme_data_new_from_mem(&in, release, len, 0)) != 0)
		return gpg_err(err, JC_ENOMEM, e, "cannot prepare signing", key);
	if ((e = gpgme_data_new(&sig)) != 0) {
		gpgme_data_release(in);
		return gpg_err(err, JC_ENOMEM, e, "cannot prepare signing", key);
	}
	e = gpgme_op_sign(ctx, in, sig, mode);
	sr = e ? NULL : gpgme_op_sign_result(ctx);
	gpgme_data_release(in);
	if (e || !sr || sr->invalid_signers || !sr->signatures) {
		gpgme_data_release(sig);
		return jc_err(err, gpgme_err_code(e) == GPG_ERR_BAD_PASSPHRASE ? JC_EAUTH : JC_ERROR,
			      "cannot sign with key %s: %s", key,
			      e ? gpgme_strerror(e) :
			      sr && sr->invalid_signers ? gpgme_strerror(sr->invalid_signers->reason) :
			      "gpg made no signature");
	}
	*out = data_take(sig, out_len);
	return 0;
}

int jc_repo_sign(char **inrelease, size_t *inrelease_len, char **release_gpg, size_t *release_gpg_len,
		 const char *release, size_t release_len, const jc_repo_sign_options *opts, jc_error *err)
{
	gpgme_ctx_t ctx;
	gpgme_key_t k = NULL;
	gpgme_error_t e;
	char *pass = NULL;
	size_t dummy;
	int rc;

	if (inrelease)
		*inrelease = NULL;
	if (release_gpg)
		*release_gpg = NULL;
	if (!opts || opts->version != JC_REPO_SIGN_OPTIONS_VERSION || !opts->key || !*opts->key)
		return jc_err(err, JC_EINVALID, "signing needs jc_repo_sign_options with a key");
	if (opts->passphrase_file) {
		rc = jc_file_read(opts->passphrase_file, &pass, NULL, err);
		if (rc < 0) {
			jc_err_prefix(err, "passphrase file");
			return rc;
		}
		pass[strcspn(pass, "\r\n")] = '\0';
		jc_secret_register(pass);
	}
	rc = new_ctx(&ctx, opts->gnupghome, opts->key, err);
	if (rc < 0) {
		free(pass);
		return rc;
	}
	gpgme_set_armor(ctx, 1);
	if (pass) {
		gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
		gpgme_set_passphrase_cb(ctx, passphrase_cb, pass);
	}
	e = gpgme_get_key(ctx, opts->key, &k, 1);
	if (e) {
		rc = jc_err(err, JC_ENOTFOUND, "signing key %s is not in the secret keyring of %s: %s", opts->key,
			    opts->gnupghome ? opts->gnupghome : "the default gpg home", gpgme_strerror(e));
		goto out;
	}
	if ((e = gpgme_signers_add(ctx, k)) != 0) {
		rc = gpg_err(err, JC_ERROR, e, "cannot use the key", opts->key);
		goto out;
	}
	if (inrelease)
		rc = sign_one(ctx, GPGME_SIG_MODE_CLEAR, release, release_len, inrelease,
			      inrelease_len ? inrelease_len : &dummy, opts->key, err);
	if (rc == 0 && release_gpg)
		rc = sign_one(ctx, GPGME_SIG_MODE_DETACH, release, release_len, release_gpg,
			      release_gpg_len ? release_gpg_len : &dummy, opts->key, err);
	if (rc < 0 && inrelease) {
		free(*inrelease);
		*inrelease = NULL;
	}
out:
	if (k)
		gpgme_key_unref(k);
	gpgme_release(ctx);
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	return rc;
}
