#ifndef LATENTFLOW_BFLOAT16_GEMM_H
#define LATENTFLOW_BFLOAT16_GEMM_H

#include <stdint.h>

/* Products with bfloat16 inputs and float32 accumulation, on AVX512-BF16's dot-product
   instruction (VDPBF16PS: per float32 lane, acc += a0*b0 + a1*b1 of two bfloat16 pairs). */

/* 1 when the CPU runs AVX512-BF16 (and AVX-512 F). */
int lf_cpu_has_avx512_bf16(void);

/* Rows of the weight per register tile; a packed weight has its row count rounded up to it. */
enum { LF_BF16_TILE_ROWS = 12, LF_BF16_TILE_COLUMNS = 32 };

/* Words a packed weight [m, k] takes: m rounded up to 12 rows, k rounded up to pairs. */
long lf_bf16_packed_weight_words(int m, int k);

/* Packs row-major float32 `w` [m, k] (row stride `ldw`) as bfloat16, rounded to nearest even:
   tiles of 12 rows, each [k/2][12] words holding the pair (w[r][2p] low, w[r][2p+1] high); zero
   past the last row and column. */
void lf_bf16_pack_weight(const float *w, int m, int k, int ldw, uint32_t *packed);

/* c[m, n0..<n1] (row stride ldc) = W · x[k, n0..<n1] (row stride ldx), or += when `accumulate`;
   x is float32, rounded to bfloat16 as it is packed, 32 columns at a time, into `scratch`
   (lf_bf16_scratch_words(k) words). Only on a CPU where lf_cpu_has_avx512_bf16() is 1. */
void lf_bf16_gemm_columns(
    int m, int k, const uint32_t *packed, const float *x, int ldx, int n0, int n1, float *c, int ldc,
    int accumulate, uint32_t *scratch);

/* Scratch words lf_bf16_gemm_columns needs for depth k. */
long lf_bf16_scratch_words(int k);

/* lf_bf16_pack_weight for activations: the same layout, vectorised (AVX512-BF16 CPUs only), for
   an operand packed once per product instead of once per model. */
void lf_bf16_pack_rows(const float *x, int m, int k, int ldx, uint32_t *packed);

/* Words the column operand of a product with depth k and n columns takes once packed: strips of
   32 columns, each [k/2][32] pairs (the layout lf_bf16_gemm_columns packs x into per strip). */
long lf_bf16_packed_columns_words(int k, int n);

/* The column operand Wᵀ [k, n] of a product X · Wᵀ, packed from row-major `w` [n, k] (row stride
   ldw): strip s holds W's rows 32s..<32s+32 as its columns, zero past n and k. */
void lf_bf16_pack_transposed_columns(const float *w, int n, int k, int ldw, uint32_t *strips);

/* c[m, 32·strip0 ..< min(n, 32·strip1)] = A · B, or += when `accumulate`, with A packed as by
   lf_bf16_pack_weight / lf_bf16_pack_rows and B as by lf_bf16_pack_transposed_columns (n columns).
   Only on a CPU where lf_cpu_has_avx512_bf16() is 1. */
void lf_bf16_gemm_packed(
    int m, int k, const uint32_t *packed, const uint32_t *strips, int n, int strip0, int strip1, float *c, int ldc,
    int accumulate);

#endif
