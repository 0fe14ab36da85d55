#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
static inline int chiredis_get_reply(redisContext *c, redisReply **reply) {
    return redisGetReply(c, (void **)reply);
}
static inline void chiredis_free_reply(redisReply *reply) { freeReplyObject(reply); }
static inline int chiredis_err(const redisContext *c) { return c->err; }
static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }
static inline redisReply *chiredis_element(redisReply *reply, size_t i) { return reply->element[i]; }

/* ---- Reply arena -------------------------------------------------------------------------
 * hiredis builds each reply as a tree of malloc'd objects (two allocations per list element).
 * Installed on a connection's reader, these functions put every string of every reply read
 * into one growing buffer instead and record each top-level reply as a span of it: a batch of
 * LRANGE replies then costs a handful of allocations. Only flat replies (strings, status,
 * errors, integers, nil, and arrays of those) are recorded; a nested array sets `unsupported`.
 */
typedef struct chiredis_span { size_t offset; size_t length; } chiredis_span;
typedef struct chiredis_arena_reply {
    int type;        /* CHIREDIS_REPLY_* */
    size_t first;    /* the first span: the string itself, or an array's first element */
    size_t count;    /* spans: 1 for a string, the element count for an array, 0 otherwise */
} chiredis_arena_reply;
typedef struct chiredis_arena {
    char *data; size_t len, cap;
    chiredis_span *spans; size_t nspans, cspans;
    chiredis_arena_reply *replies; size_t nreplies, creplies;
    int unsupported;
} chiredis_arena;

static inline int chiredis_grow(void **items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t next = *cap ? *cap : 64;
    while (next < need) next *= 2;
    void *grown = realloc(*items, next * size);
    if (!grown) return 0;
    *items = grown;
    *cap = next;
    return 1;
}

static inline chiredis_arena *chiredis_arena_of(const redisReadTask *task) {
    while (task->parent) task = task->parent;
    return (chiredis_arena *)task->privdata;
}

static inline void *chiredis_arena_add_reply(chiredis_arena *a, int type, size_t first, size_t count) {
    if (!chiredis_grow((void **)&a->replies, &a->creplies, a->nreplies + 1, sizeof(chiredis_arena_reply))) return NULL;
    a->replies[a->nreplies].type = type;
    a->replies[a->nreplies].first = first;
    a->replies[a->nreplies].count = count;
    a->nreplies++;
    return a;
}

static void *chiredis_arena_string(const redisReadTask *task, char *str, size_t len) {
    chiredis_arena *a = chiredis_arena_of(task);
    if (task->parent && task->parent->parent) { a->unsupported = 1; return a; }
    if (!chiredis_grow((void **)&a->data, &a->cap, a->len + len + 1, 1)) return NULL;
    if (!chiredis_grow((void **)&a->spans, &a->cspans, a->nspans + 1, sizeof(chiredis_span))) return NULL;
    memcpy(a->data + a->len, str, len);
    a->spans[a->nspans].offset = a->len;
    a->spans[a->nspans].length = len;
    a->len += len;
    a->nspans++;
    if (task->parent) return a;
    return chiredis_arena_add_reply(a, task->type, a->nspans - 1, 1);
}

static void *chiredis_arena_array(const redisReadTask *task, int elements) {
    chiredis_arena *a = chiredis_arena_of(task);
    if (task->parent) { a->unsupported = 1; return a; }
    return chiredis_arena_add_reply(a, REDIS_REPLY_ARRAY, a->nspans, elements > 0 ? (size_t)elements : 0);
}

static void *chiredis_arena_integer(const redisReadTask *task, long long value) {
    (void)value;
    chiredis_arena *a = chiredis_arena_of(task);
    if (task->parent) { a->unsupported = 1; return a; }
    return chiredis_arena_add_reply(a, REDIS_REPLY_INTEGER, 0, 0);
}

static void *chiredis_arena_nil(const redisReadTask *task) {
    chiredis_arena *a = chiredis_arena_of(task);
    if (task->parent) { a->unsupported = 1; return a; }
    return chiredis_arena_add_reply(a, REDIS_REPLY_NIL, 0, 0);
}

static void chiredis_arena_free_object(void *obj) { (void)obj; }

static redisReplyObjectFunctions chiredis_arena_functions = {
    chiredis_arena_string, chiredis_arena_array, chiredis_arena_integer, chiredis_arena_nil,
    chiredis_arena_free_object,
};

static inline chiredis_arena *chiredis_arena_create(void) {
    return (chiredis_arena *)calloc(1, sizeof(chiredis_arena));
}

/* Empties an arena for reuse, keeping its buffers. */
static inline void chiredis_arena_reset(chiredis_arena *a) {
    a->len = 0;
    a->nspans = 0;
    a->nreplies = 0;
    a->unsupported = 0;
}

static inline void chiredis_arena_destroy(chiredis_arena *a) {
    if (!a) return;
    free(a->data);
    free(a->spans);
    free(a->replies);
    free(a);
}

/* Reads the next reply into `arena` (the reader's own functions are put back afterwards). */
static inline int chiredis_get_reply_into(redisContext *c, chiredis_arena *arena) {
    redisReplyObjectFunctions *saved = c->reader->fn;
    void *savedPrivdata = c->reader->privdata;
    c->reader->fn = &chiredis_arena_functions;
    c->reader->privdata = arena;
    void *reply = NULL;
    int rc = redisGetReply(c, &reply);
    c->reader->fn = saved;
    c->reader->privdata = savedPrivdata;
    return (rc == REDIS_OK && reply != NULL) ? REDIS_OK : REDIS_ERR;
}
#endif
