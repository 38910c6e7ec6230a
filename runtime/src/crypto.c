/* crypto.c — PBKDF2 on the threadpool (OpenSSL), as Node's
 * crypto.pbkdf2(). */
#include <openssl/evp.h>

#include "internal.h"

static void pbkdf2_work(lrt_work_t* work) {
  lrt_pbkdf2_t* req = container_of(work, lrt_pbkdf2_t, work);
  int ok = PKCS5_PBKDF2_HMAC(req->password, (int) req->password_len, req->salt,
                             (int) req->salt_len, (int) req->iterations,
                             req->digest, (int) req->keylen, req->key);
  req->result = ok == 1 ? 0 : UV_EIO;
}

static void pbkdf2_done(lrt_work_t* work, int status) {
  lrt_pbkdf2_t* req = container_of(work, lrt_pbkdf2_t, work);
  if (status == UV_ECANCELED)
    req->result = UV_ECANCELED;
  req->cb(req);
}

int lrt_pbkdf2(lrt_loop_t* loop, lrt_pbkdf2_t* req, const void* password,
               size_t password_len, const void* salt, size_t salt_len,
               unsigned iterations, const char* digest, unsigned char* key,
               size_t keylen, lrt_pbkdf2_cb cb, const char* label) {
  const EVP_MD* md;

  if (loop == NULL || req == NULL || cb == NULL || digest == NULL ||
      key == NULL || keylen == 0 || iterations == 0 ||
      (password == NULL && password_len > 0) ||
      (salt == NULL && salt_len > 0) || password_len > INT32_MAX ||
      salt_len > INT32_MAX || keylen > INT32_MAX || iterations > INT32_MAX)
    return UV_EINVAL;
  md = EVP_get_digestbyname(digest);
  if (md == NULL)
    return UV_EINVAL;
  req->result = 0;
  req->key = key;
  req->keylen = keylen;
  req->cb = cb;
  req->password = password != NULL ? password : "";
  req->password_len = password_len;
  req->salt = salt != NULL ? salt : "";
  req->salt_len = salt_len;
  req->iterations = iterations;
  req->digest = md;
  return lrt__work_submit(loop, &req->work, pbkdf2_work, pbkdf2_done,
                          label != NULL ? label : "pbkdf2", LRT_CB_CRYPTO);
}
