/* repo-hash.c - SHA256 (OpenSSL libcrypto), gzip (libdeflate to write,
 * zlib to read streams) and chunked file reading for repository indices
 * and packages. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "repo-internal.h"

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

void jc_sha256_init(jc_sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		/* only allocation can fail here; treat it like jc_malloc does */
		jc_malloc((size_t)-1);
	}
	c->md = md;
	c->size = 0;
}

void jc_sha256_update(jc_sha256_ctx *c, const void *data, size_t len)
{
	EVP_DigestUpdate((EVP_MD_CTX *)c->md, data, len);
	c->size += (long long)len;
}

void jc_sha256_final(jc_sha256_ctx *c, char out[JC_SHA256_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex((EVP_MD_CTX *)c->md, md, &n);
	to_hex(md, n, out);
	jc_sha256_discard(c);
}

void jc_sha256_discard(jc_sha256_ctx *c)
{
	if (c && c->md) {
		EVP_MD_CTX_free((EVP_MD_CTX *)c->md);
		c->md = NULL;
	}
}

void jc_repo_sha256_buf(char out[JC_SHA256_HEX_SIZE], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	to_hex(md, n, out);
}

int jc_repo_sha256_file(char out[JC_SHA256_HEX_SIZE], long long *size_out, const char *path,
			jc_error *err)
{
	jc_sha256_ctx c;
	char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jc_err_errno(err, errno == ENOENT ? JC_ENOTFOUND : JC_EIO, errno, "cannot open %s", path);
	jc_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			jc_sha256_discard(&c);
			return jc_err_errno(err, JC_EIO, e, "cannot read %s", path);
		}
		jc_sha256_update(&c, buf, (size_t)n);
	}
	close(fd);
	if (size_out)
		*size_out = c.size;
	jc_sha256_final(&c, out);
	return 0;
}

bool jc_repo_is_sha256(const char *s)
{
	size_t i;
	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

/* ---- gzip */

/* libdeflate, not zlib: the whole index is in memory anyway, and at equal
 * level it compresses a Packages file in half the time and smaller.  Its
 * gzip header has no name and mtime 0, so equal input gives equal bytes
 * (and equal hashes) every time. */
int jc_gzip_compress(jc_buf *out, const void *data, size_t len, int level, jc_error *err)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level < 1 ? 6 : level > 12 ? 12 : level);
	size_t n;
	if (!c)
		return jc_err(err, JC_ENOMEM, "cannot initialise libdeflate");
	jc_buf_grow(out, libdeflate_gzip_compress_bound(c, len) + 1);
	n = libdeflate_gzip_compress(c, data, len, out->data + out->len, out->cap - out->len - 1);
	libdeflate_free_compressor(c);
	if (n == 0)
		return jc_err(err, JC_ERROR, "gzip compression failed: output larger than its bound");
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

int jc_gzip_decompress(jc_buf *out, const void *data, size_t len, const char *name, jc_error *err)
{
	z_stream z;
	bool ended = false;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return jc_err(err, JC_ENOMEM, "cannot initialise zlib");
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	for (;;) {
		int zr;
		if (ended) {
			if (z.avail_in == 0)
				break;
			inflateReset(&z);   /* another gzip member */
			ended = false;
		}
		jc_buf_grow(out, out->cap - out->len > 65536 ? 0 : len * 3 + 65536);
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)(out->cap - out->len - 1);
		zr = inflate(&z, Z_NO_FLUSH);
		out->len = (size_t)((char *)z.next_out - out->data);
		out->data[out->len] = '\0';
		if (zr == Z_STREAM_END) {
			ended = true;
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			inflateEnd(&z);
			return jc_err(err, JC_EPARSE, "%s: not valid gzip data (%s)", name,
				      z.msg ? z.msg : "corrupt");
		}
		if (z.avail_in == 0 && z.avail_out > 0) {
			inflateEnd(&z);
			return jc_err(err, JC_EPARSE, "%s: gzip data is truncated", name);
		}
	}
	inflateEnd(&z);
	return 0;
}

int jc_file_stream(const char *path, bool gz, jc_chunk_fn fn, void *payload, jc_error *err)
{
	char in[1 << 16], outb[1 << 17];
	z_stream z;
	int fd, rc = 0;
	bool ended = false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jc_err_errno(err, errno == ENOENT ? JC_ENOTFOUND : JC_EIO, errno, "cannot open %s", path);
	memset(&z, 0, sizeof(z));
	if (gz && inflateInit2(&z, 15 + 32) != Z_OK) {
		close(fd);
		return jc_err(err, JC_ENOMEM, "cannot initialise zlib");
	}
	while (rc == 0) {
		ssize_t n = read(fd, in, sizeof(in));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = jc_err_errno(err, JC_EIO, errno, "cannot read %s", path);
			break;
		}
		if (n == 0) {
			if (gz && !ended)
				rc = jc_err(err, JC_EPARSE, "%s: gzip data is truncated", path);
			break;
		}
		if (!gz) {
			rc = fn(in, (size_t)n, err, payload);
			continue;
		}
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)n;
		do {
			int zr;
			size_t produced;
			if (ended) {
				if (z.avail_in == 0)
					break;
				/* concatenated gzip members are one stream, as for gzip(1) */
				inflateReset(&z);
				ended = false;
			}
			z.next_out = (Bytef *)outb;
			z.avail_out = sizeof(outb);
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				rc = jc_err(err, JC_EPARSE, "%s: not valid gzip data (%s)", path,
					    z.msg ? z.msg : "corrupt");
				break;
			}
			produced = sizeof(outb) - z.avail_out;
			if (produced)
				rc = fn(outb, produced, err, payload);
			if (zr == Z_STREAM_END)
				ended = true;
			if (zr == Z_BUF_ERROR)
				break;   /* needs more input */
		} while (rc == 0 && (z.avail_in > 0 || z.avail_out == 0));
	}
	if (gz)
		inflateEnd(&z);
	close(fd);
	return rc < 0 ? rc : 0;
}
