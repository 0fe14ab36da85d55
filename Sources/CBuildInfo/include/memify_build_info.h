#ifndef MEMIFY_BUILD_INFO_H
#define MEMIFY_BUILD_INFO_H

/* The release's semantic version: the one place it is written (scripts/package reads it here for
   the package names). */
#define MEMIFY_VERSION "0.9.0"

/* MEMIFY_VERSION. */
const char *memify_build_version(void);

/* The commit the binary was built from ("abc1234def56", "-dirty" when the tree had uncommitted
   changes), as scripts/package passes it (MEMIFY_COMMIT in the environment of `swift build`,
   made a define by Package.swift); "unknown" for a plain `swift build`. */
const char *memify_build_commit(void);

#endif
