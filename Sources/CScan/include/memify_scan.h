#ifndef MEMIFY_SCAN_H
#define MEMIFY_SCAN_H

#include <stddef.h>
#include <stdint.h>

/// Copies `src[0..<n]` to `dst` up to the first byte that ends a plain JSON string run
/// (`"`, `\`, a control byte below 0x20, or a byte of 0x80 or more) and returns that byte's
/// index, or `n` when there is none. `dst` has room for `n` bytes: bytes at and after the
/// returned index may be written too (they are to be overwritten). Uses the widest vectors the
/// CPU has (AVX-512BW, AVX2, SSE2 on x86-64; a byte loop elsewhere).
size_t memify_copy_plain_ascii(const uint8_t *src, size_t n, uint8_t *dst);

/// The implementations behind `memify_copy_plain_ascii`, for tests: `level` 0 is the byte loop,
/// 1 SSE2, 2 AVX2, 3 AVX-512BW. Returns SIZE_MAX when this CPU cannot run that level.
size_t memify_copy_plain_ascii_level(int level, const uint8_t *src, size_t n, uint8_t *dst);

/// The level `memify_copy_plain_ascii` uses on this CPU (0 to 3, as above): the highest the CPU
/// and the OS support, or lower when the environment variable MEMIFY_SCAN_LEVEL says so.
int memify_scan_level(void);

#endif
