#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <stddef.h>

/// Reply type constants as plain ints (the REDIS_REPLY_* macros differ between 0.14 and 1.x).
static const int CHIREDIS_REPLY_STRING = REDIS_REPLY_STRING;
static const int CHIREDIS_REPLY_ARRAY = REDIS_REPLY_ARRAY;
static const int CHIREDIS_REPLY_INTEGER = REDIS_REPLY_INTEGER;
static const int CHIREDIS_REPLY_NIL = REDIS_REPLY_NIL;
static const int CHIREDIS_REPLY_STATUS = REDIS_REPLY_STATUS;
static const int CHIREDIS_REPLY_ERROR = REDIS_REPLY_ERROR;
static const int CHIREDIS_OK = REDIS_OK;

/// Fixed-arity wrappers: Swift cannot call the variadic redisCommand.
static inline int chiredis_append_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return redisAppendCommandArgv(c, argc, argv, argvlen);
}
static inline int chiredis_append_formatted(redisContext *c, const char *cmd, size_t len) {
    return redisAppendFormattedCommand(c, cmd, len);
}
static inline int chiredis_get_reply(redisContext *c, redisReply **reply) {
    return redisGetReply(c, (void **)reply);
}
static inline void chiredis_free_reply(redisReply *reply) { freeReplyObject(reply); }
static inline int chiredis_err(const redisContext *c) { return c->err; }
static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }
static inline redisReply *chiredis_element(redisReply *reply, size_t i) { return reply->element[i]; }

/* The socket, for reading list replies without hiredis's reply objects (RedisConnection). */
static inline int chiredis_fd(const redisContext *c) { return c->fd; }

/* Bytes hiredis has read from the socket and not yet parsed. */
static inline size_t chiredis_buffered(const redisContext *c) {
    return c->reader ? c->reader->len - c->reader->pos : 0;
}

/* Writes out every command appended so far (hiredis otherwise does it in redisGetReply). */
static inline int chiredis_flush(redisContext *c) {
    int done = 0;
    do {
        if (redisBufferWrite(c, &done) != REDIS_OK) return REDIS_ERR;
    } while (!done);
    return REDIS_OK;
}
#endif
