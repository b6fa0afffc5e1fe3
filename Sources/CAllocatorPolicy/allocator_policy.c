#include "allocator_policy.h"
#include <stdlib.h> /* defines __GLIBC__ where glibc is the C library */

#if defined(__GLIBC__)
#include <malloc.h>

int lf_keep_freed_blocks(int mmap_threshold, int trim_threshold) {
    /* M_ARENA_MAX only binds threads that have not allocated yet: call it early. */
    return mallopt(M_ARENA_MAX, 1) && mallopt(M_MMAP_THRESHOLD, mmap_threshold) && mallopt(M_TRIM_THRESHOLD, trim_threshold);
}
#else
int lf_keep_freed_blocks(int mmap_threshold, int trim_threshold) {
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
}
#endif
