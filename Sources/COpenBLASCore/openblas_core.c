#include "openblas_core.h"
#include <stdlib.h>
#include <string.h>

/* Public in every OpenBLAS build. */
extern char *openblas_get_corename(void);
/* Exported only by DYNAMIC_ARCH builds (Debian's, Homebrew's): weak, so other builds link and
   the reselection reports that it cannot run. */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *lf_openblas_core_name(void) { return openblas_get_corename(); }

#if defined(__x86_64__) || defined(__i386__)
int lf_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

int lf_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
int lf_cpu_has_avx512(void) { return 0; }
int lf_cpu_has_avx2_fma(void) { return 0; }
#endif

int lf_openblas_reselect_core(const char *core) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    /* gotoblas_dynamic_init reads the variable and returns early while a core is set. */
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return 1;
}
