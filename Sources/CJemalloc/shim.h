#ifndef CJEMALLOC_SHIM_H
#define CJEMALLOC_SHIM_H
#include <jemalloc/jemalloc.h>
#include <stddef.h>

/* The allocator's version, read through mallctl: calling it also keeps libjemalloc among the
   executable's needed libraries, so its malloc and free replace glibc's for the whole process. */
static inline const char *cjemalloc_version(void) {
    const char *version = NULL;
    size_t size = sizeof(version);
    if (mallctl("version", (void *)&version, &size, NULL, 0) != 0) return NULL;
    return version;
}
#endif
