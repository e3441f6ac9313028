// kernels/simd_clones.h - runtime dispatch for plain C loops.
//
// CG_SIMD_CLONES before a function makes GCC compile it three times (AVX-512, AVX2 and
// the baseline) and pick the copy for this CPU when the program loads, so loops the
// compiler vectorises use the widest registers available in one portable binary.
// Elsewhere (clang, other CPUs) it is empty and the baseline build runs; so under
// ThreadSanitizer, which instruments the clones' resolvers, and they run before it starts.
#ifndef CG_SIMD_CLONES_H
#define CG_SIMD_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define CG_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_SIMD_CLONES
#endif

#endif
