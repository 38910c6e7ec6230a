/* test-crypto.c — pbkdf2 on the pool, against published test vectors. */
#include "looprt.h"
#include "test.h"

static int calls;

static void derived(lrt_pbkdf2_t* req) {
  calls++;
}

static void from_hex(const char* hex, unsigned char* out, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned v;
    ASSERT_EQ(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (unsigned char) v;
  }
}

struct vector {
  const char* source;
  const char* digest;
  const char* password;
  size_t password_len;
  const char* salt;
  size_t salt_len;
  unsigned iterations;
  const char* hex;
};

static const struct vector vectors[] = {
    {"RFC 6070 #1", "sha1", "password", 8, "salt", 4, 1,
     "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
    {"RFC 6070 #3", "sha1", "password", 8, "salt", 4, 4096,
     "4b007901b765489abead49d926f721d065a429c1"},
    {"RFC 6070 #6", "sha1", "pass\0word", 9, "sa\0lt", 5, 4096,
     "56fa6aa75548099dcc37d7f03425e0c3"},
    {"RFC 7914 11 (PBKDF2-HMAC-SHA256)", "sha256", "passwd", 6, "salt", 4, 1,
     "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
     "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
    {"PBKDF2-HMAC-SHA512 vector", "sha512", "password", 8, "salt", 4, 1,
     "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
     "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"},
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

TEST_IMPL(pbkdf2_test_vectors) {
  lrt_loop_t loop;
  lrt_pbkdf2_t req[NVECTORS];
  unsigned char key[NVECTORS][64];
  unsigned char want[64];
  size_t i;
  calls = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  for (i = 0; i < NVECTORS; i++) {
    const struct vector* v = &vectors[i];
    ASSERT_EQ(lrt_pbkdf2(&loop, &req[i], v->password, v->password_len, v->salt,
                         v->salt_len, v->iterations, v->digest, key[i],
                         strlen(v->hex) / 2, derived, v->source),
              0);
  }
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, (int) NVECTORS);
  for (i = 0; i < NVECTORS; i++) {
    size_t n = strlen(vectors[i].hex) / 2;
    ASSERT_EQ(req[i].result, 0);
    from_hex(vectors[i].hex, want, n);
    if (memcmp(key[i], want, n) != 0)
      TEST_FAIL_("%s: derived key differs", vectors[i].source);
  }
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

static void never(lrt_pbkdf2_t* req) {
  TEST_FAIL_("callback of a failed call ran");
}

TEST_IMPL(pbkdf2_bad_arguments) {
  lrt_loop_t loop;
  lrt_pbkdf2_t req;
  unsigned char key[32];
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_pbkdf2(&loop, &req, "a", 1, "b", 1, 1000, "no-such-digest", key,
                       sizeof(key), never, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_pbkdf2(&loop, &req, "a", 1, "b", 1, 0, "sha512", key,
                       sizeof(key), never, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_pbkdf2(&loop, &req, "a", 1, "b", 1, 10, "sha512", NULL, 32,
                       never, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_pbkdf2(&loop, &req, "a", 1, "b", 1, 10, "sha512", key,
                       sizeof(key), NULL, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
