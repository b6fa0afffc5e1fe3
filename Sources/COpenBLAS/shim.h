// OpenBLAS's CBLAS interface plus its thread-count control (Debian: libopenblas-dev).
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// LAPACK's single-precision divide-and-conquer SVD, which OpenBLAS bundles (Fortran ABI: the
// trailing length of the `jobz` character argument).
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
             const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info,
             size_t jobz_length);
