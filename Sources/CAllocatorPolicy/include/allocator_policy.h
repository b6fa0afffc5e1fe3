#ifndef LATENTFLOW_ALLOCATOR_POLICY_H
#define LATENTFLOW_ALLOCATOR_POLICY_H

/* glibc's mallopt, which Swift's Glibc module does not import (<malloc.h> is not part of it).
 * Keeps large freed blocks in the process for reuse: one arena, no mmap below
 * `mmap_threshold` bytes, no trimming of the heap's top below `trim_threshold` bytes.
 * Returns 1 when glibc took every setting, 0 when it refused one or is not the C library. */
int lf_keep_freed_blocks(int mmap_threshold, int trim_threshold);

#endif
