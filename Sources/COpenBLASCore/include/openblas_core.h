#ifndef LATENTFLOW_OPENBLAS_CORE_H
#define LATENTFLOW_OPENBLAS_CORE_H

/* The kernel family ("core") a DYNAMIC_ARCH OpenBLAS picked for this CPU, e.g. "Haswell". */
const char *lf_openblas_core_name(void);

/* 1 when the CPU has the AVX-512 subsets OpenBLAS's SkylakeX kernels use (F, BW, DQ, VL). */
int lf_cpu_has_avx512(void);

/* 1 when the CPU has AVX2 and FMA (OpenBLAS's Haswell kernels). */
int lf_cpu_has_avx2_fma(void);

/* Re-runs OpenBLAS's core selection with OPENBLAS_CORETYPE set to `core`, as if the process
   had started with it; restores the environment afterwards. Call before any BLAS work is in
   flight. Returns 0 when this OpenBLAS has no run-time core selection (not DYNAMIC_ARCH). */
int lf_openblas_reselect_core(const char *core);

#endif
