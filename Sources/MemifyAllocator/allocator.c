#include "MemifyAllocator.h"
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <stddef.h>

/* jemalloc reads this at its first allocation. Two arenas (the worker runs a few threads on two
   cores) and pages handed back within a second keep a streaming run's memory flat. */
const char *malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";

const char *memify_allocator_description(void) {
    static char text[128];
    const char *version = NULL;
    unsigned arenas = 0;
    size_t size = sizeof(version), arenas_size = sizeof(arenas);
    if (mallctl("version", (void *)&version, &size, NULL, 0) != 0) return NULL;
    if (mallctl("opt.narenas", (void *)&arenas, &arenas_size, NULL, 0) != 0) arenas = 0;
    snprintf(text, sizeof(text), "jemalloc %.40s, %u arenas", version, arenas);
    return text;
}
