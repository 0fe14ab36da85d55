#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>

/* Redis over TLS (RedisTransport): OpenSSL's macros as functions, and the BIO a session reads
   and writes its socket through. */

static const int COPENSSL_ERROR_NONE = SSL_ERROR_NONE;
static const int COPENSSL_ERROR_SSL = SSL_ERROR_SSL;
static const int COPENSSL_ERROR_WANT_READ = SSL_ERROR_WANT_READ;
static const int COPENSSL_ERROR_WANT_WRITE = SSL_ERROR_WANT_WRITE;
static const int COPENSSL_ERROR_SYSCALL = SSL_ERROR_SYSCALL;
static const int COPENSSL_ERROR_ZERO_RETURN = SSL_ERROR_ZERO_RETURN;
static const int COPENSSL_VERIFY_NONE = SSL_VERIFY_NONE;
static const int COPENSSL_VERIFY_PEER = SSL_VERIFY_PEER;
static const int COPENSSL_FILETYPE_PEM = SSL_FILETYPE_PEM;
static const long COPENSSL_X509_V_OK = X509_V_OK;

static inline int copenssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline void copenssl_ctx_set_read_ahead(SSL_CTX *ctx) { SSL_CTX_set_read_ahead(ctx, 1); }
static inline int copenssl_ctx_set_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline void copenssl_ctx_set_auto_retry(SSL_CTX *ctx) { SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY); }

/* An encrypted key file must fail to load, not prompt on the terminal for a passphrase. */
static inline int copenssl_no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return 0;
}
static inline void copenssl_ctx_refuse_passphrases(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, copenssl_no_passphrase);
}

/* The socket BIO of a session: recv and send(MSG_NOSIGNAL), so writing to a connection the
   server closed is EPIPE, never SIGPIPE (OpenSSL's own socket BIO calls write()). A timeout
   (SO_RCVTIMEO: EAGAIN) is not retried: SSL_read then fails with SSL_ERROR_SYSCALL and errno
   EAGAIN. */
static inline int copenssl_bio_write(BIO *b, const char *data, int len) {
    int fd = (int)(intptr_t)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do { n = send(fd, data, (size_t)len, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return (int)n;
}
static inline int copenssl_bio_read(BIO *b, char *data, int len) {
    int fd = (int)(intptr_t)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do { n = recv(fd, data, (size_t)len, 0); } while (n < 0 && errno == EINTR);
    if (n == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return (int)n;
}
static inline long copenssl_bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default: return 0;
    }
}
/* One method per connection (freed with it): no shared state between threads. */
static inline BIO_METHOD *copenssl_socket_method(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "memify socket");
    if (!m) return NULL;
    BIO_meth_set_write(m, copenssl_bio_write);
    BIO_meth_set_read(m, copenssl_bio_read);
    BIO_meth_set_ctrl(m, copenssl_bio_ctrl);
    return m;
}
static inline BIO *copenssl_socket_bio(BIO_METHOD *method, int fd) {
    BIO *b = BIO_new(method);
    if (!b) return NULL;
    BIO_set_data(b, (void *)(intptr_t)fd);
    BIO_set_init(b, 1);
    return b;
}
#endif
