#ifndef MEMIFY_ALLOCATOR_H
#define MEMIFY_ALLOCATOR_H

/* The linked jemalloc's version and the settings it runs with ("5.3.0 narenas:2 ..."), or NULL.
   Calling it also keeps this object, and so the settings, in the executable. */
const char *memify_allocator_description(void);

#endif
