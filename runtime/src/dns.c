/* dns.c — getaddrinfo on the threadpool.
 *
 * The worker calls getaddrinfo(3) itself (libuv's synchronous mode would
 * touch the loop from the worker) and maps its errors to UV_EAI_*. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int eai_to_uv(int err) {
  switch (err) {
  case 0:
    return 0;
#ifdef EAI_ADDRFAMILY
  case EAI_ADDRFAMILY:
    return UV_EAI_ADDRFAMILY;
#endif
  case EAI_AGAIN:
    return UV_EAI_AGAIN;
  case EAI_BADFLAGS:
    return UV_EAI_BADFLAGS;
  case EAI_FAIL:
    return UV_EAI_FAIL;
  case EAI_FAMILY:
    return UV_EAI_FAMILY;
  case EAI_MEMORY:
    return UV_EAI_MEMORY;
#ifdef EAI_NODATA
  case EAI_NODATA:
    return UV_EAI_NODATA;
#endif
  case EAI_NONAME:
    return UV_EAI_NONAME;
  case EAI_OVERFLOW:
    return UV_EAI_OVERFLOW;
  case EAI_SERVICE:
    return UV_EAI_SERVICE;
  case EAI_SOCKTYPE:
    return UV_EAI_SOCKTYPE;
#ifdef EAI_CANCELED
  case EAI_CANCELED:
    return UV_EAI_CANCELED;
#endif
  case EAI_SYSTEM:
    return UV_EAI_FAIL;
  default:
    return UV_EAI_FAIL;
  }
}

static void dns_work(lrt_work_t* work) {
  lrt_dns_t* req = container_of(work, lrt_dns_t, work);
  req->result = eai_to_uv(getaddrinfo(req->node, req->service,
                                      req->has_hints ? &req->hints : NULL,
                                      &req->addrinfo));
}

static void dns_done(lrt_work_t* work, int status) {
  lrt_dns_t* req = container_of(work, lrt_dns_t, work);
  free(req->node);
  free(req->service);
  req->node = NULL;
  req->service = NULL;
  if (status == UV_ECANCELED)
    req->result = UV_EAI_CANCELED;
  req->cb(req);
}

int lrt_getaddrinfo(lrt_loop_t* loop, lrt_dns_t* req, const char* node,
                    const char* service, const struct addrinfo* hints,
                    lrt_dns_cb cb, const char* label) {
  int r;
  if (loop == NULL || req == NULL || cb == NULL ||
      (node == NULL && service == NULL))
    return UV_EINVAL;
  memset(req, 0, offsetof(lrt_dns_t, work));
  req->cb = cb;
  req->node = node != NULL ? strdup(node) : NULL;
  req->service = service != NULL ? strdup(service) : NULL;
  if ((node != NULL && req->node == NULL) ||
      (service != NULL && req->service == NULL)) {
    r = UV_ENOMEM;
    goto fail;
  }
  req->has_hints = hints != NULL;
  if (hints != NULL) {
    memset(&req->hints, 0, sizeof(req->hints));
    req->hints.ai_flags = hints->ai_flags;
    req->hints.ai_family = hints->ai_family;
    req->hints.ai_socktype = hints->ai_socktype;
    req->hints.ai_protocol = hints->ai_protocol;
  }
  r = lrt__work_submit(loop, &req->work, dns_work, dns_done,
                       label != NULL ? label : "dns.lookup", LRT_CB_DNS);
  if (r == 0)
    return 0;
fail:
  free(req->node);
  free(req->service);
  req->node = NULL;
  req->service = NULL;
  return r;
}

void lrt_dns_cleanup(lrt_dns_t* req) {
  if (req == NULL || req->addrinfo == NULL)
    return;
  freeaddrinfo(req->addrinfo);
  req->addrinfo = NULL;
}
