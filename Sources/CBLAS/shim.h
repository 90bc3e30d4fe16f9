// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h under the openblas include dir
// that pkg-config reports).
#include <cblas.h>

// LAPACK's Cholesky routines, which OpenBLAS also exports (Fortran calling convention; Debian's
// headers do not declare them): factorization and inverse from the factor.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
