// Plain-ASCII runs of JSON strings, copied with the widest vectors the CPU has. The decoder
// copies every entry's texts out of the reply buffer; with 16-byte vectors that copy was a fifth
// of reading a cache.
#include "memify_scan.h"

#include <stdlib.h>

static size_t copy_bytes(const uint8_t *src, size_t n, uint8_t *dst) {
    for (size_t i = 0; i < n; i++) {
        uint8_t b = src[i];
        if (b == '"' || b == '\\' || b < 0x20 || b >= 0x80) return i;
        dst[i] = b;
    }
    return n;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// A byte stops a run when it is '"' or '\', or below 0x20 or 0x80 and above: as a signed byte,
// below 0x20 covers both.

static size_t copy_sse2(const uint8_t *src, size_t n, uint8_t *dst) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i), v);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                    _mm_cmpgt_epi8(space, v));
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask) return i + (size_t)__builtin_ctz(mask);
    }
    return i + copy_bytes(src + i, n - i, dst + i);
}

__attribute__((target("avx2")))
static size_t copy_avx2(const uint8_t *src, size_t n, uint8_t *dst) {
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\'), space = _mm256_set1_epi8(0x20);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), v);
        __m256i stop = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
                                       _mm256_cmpgt_epi8(space, v));
        unsigned mask = (unsigned)_mm256_movemask_epi8(stop);
        if (mask) return i + (size_t)__builtin_ctz(mask);
    }
    return i + copy_sse2(src + i, n - i, dst + i);
}

__attribute__((target("avx512f,avx512bw,bmi2")))
static size_t copy_avx512(const uint8_t *src, size_t n, uint8_t *dst) {
    const __m512i quote = _mm512_set1_epi8('"'), backslash = _mm512_set1_epi8('\\'), space = _mm512_set1_epi8(0x20);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(src + i));
        _mm512_storeu_si512((void *)(dst + i), v);
        __mmask64 stop = _mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, backslash)
                         | _mm512_cmplt_epi8_mask(v, space);
        if (stop) return i + (size_t)__builtin_ctzll(stop);
    }
    if (i == n) return n;
    // The last, partial vector is loaded and stored under a mask: bytes past `n` are neither
    // read nor written (masked-off lanes do not fault).
    __mmask64 live = _bzhi_u64(~0ULL, (unsigned)(n - i));
    __m512i v = _mm512_maskz_loadu_epi8(live, src + i);
    _mm512_mask_storeu_epi8(dst + i, live, v);
    __mmask64 stop = (_mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, backslash)
                      | _mm512_cmplt_epi8_mask(v, space)) & live;
    return stop ? i + (size_t)__builtin_ctzll(stop) : n;
}

// Whether the OS saves the vector state (XCR0) and the CPU has the instructions (CPUID leaf 7).
static int detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 1;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 1;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0x6) != 0x6) return 1;  // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 1;
    int avx2 = (b >> 5) & 1, bmi2 = (b >> 8) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1;
    if (avx512f && avx512bw && bmi2 && (lo & 0xE6) == 0xE6) return 3;  // and opmask, ZMM state
    return avx2 ? 2 : 1;
}
#else
static int detect_level(void) { return 0; }
#endif

typedef size_t (*copy_fn)(const uint8_t *, size_t, uint8_t *);

// Written once by the constructor, before main; read with relaxed atomics all the same, so that
// a call that somehow came first (and picks the byte loop, which is correct, only slower) is no
// data race.
static int level = -1;
static copy_fn chosen = copy_bytes;

static copy_fn function_for(int l) {
#if defined(__x86_64__)
    switch (l) {
    case 1: return copy_sse2;
    case 2: return copy_avx2;
    case 3: return copy_avx512;
    }
#endif
    return copy_bytes;
}

// MEMIFY_SCAN_LEVEL (0 to 3) caps the level: for comparing levels, or to keep 512-bit vectors
// off a CPU where they slow the clock.
static int chosen_level(void) {
    int detected = detect_level();
    const char *cap = getenv("MEMIFY_SCAN_LEVEL");
    if (cap && cap[0] >= '0' && cap[0] <= '3' && cap[1] == 0 && cap[0] - '0' < detected) detected = cap[0] - '0';
    return detected;
}

__attribute__((constructor)) static void choose(void) {
    int l = chosen_level();
    __atomic_store_n(&chosen, function_for(l), __ATOMIC_RELAXED);
    __atomic_store_n(&level, l, __ATOMIC_RELAXED);
}

size_t memify_copy_plain_ascii(const uint8_t *src, size_t n, uint8_t *dst) {
    return __atomic_load_n(&chosen, __ATOMIC_RELAXED)(src, n, dst);
}

size_t memify_copy_plain_ascii_level(int l, const uint8_t *src, size_t n, uint8_t *dst) {
    if (l < 0 || l > memify_scan_level()) return SIZE_MAX;
    return function_for(l)(src, n, dst);
}

int memify_scan_level(void) {
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    return l >= 0 ? l : chosen_level();
}
