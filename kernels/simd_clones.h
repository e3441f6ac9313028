// kernels/simd_clones.h - runtime dispatch for plain C loops.
//
// CG_SIMD_CLONES before a function makes GCC compile it three times (AVX-512, AVX2 and
// the baseline) and pick the copy for this CPU when the program loads, so loops the
// compiler vectorises use the widest registers available in one portable binary.
// Elsewhere (clang, other CPUs) it is empty and the baseline build runs; so under
// ThreadSanitizer, which instruments the clones' resolvers, and they run before it starts.
//
// CG_X86_SIMD is 1 where the hand-written AVX2/AVX-512 kernels (gemm, direct convolution,
// pooling) are compiled and picked at run time by __builtin_cpu_supports, else 0. The
// portable build (CMake -DCG_PORTABLE=ON, and the WebAssembly lecture page) defines
// CG_PORTABLE: no clones, no x86 kernels, only the portable C loops.
#ifndef CG_SIMD_CLONES_H
#define CG_SIMD_CLONES_H

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(CG_PORTABLE)
#define CG_X86_SIMD 1
#else
#define CG_X86_SIMD 0
#endif

#if CG_X86_SIMD && defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define CG_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_SIMD_CLONES
#endif

#endif
