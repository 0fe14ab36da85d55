#include "memify_build_info.h"

/* The default only here: nothing else reads the macro. */
#ifndef MEMIFY_COMMIT
#define MEMIFY_COMMIT "unknown"
#endif

const char *memify_build_version(void) { return MEMIFY_VERSION; }

const char *memify_build_commit(void) { return MEMIFY_COMMIT; }
