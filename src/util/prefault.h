/* prefault.h - mapping fresh memory that is about to be written, in one call.
 *
 * The first write to each page of fresh memory is a page fault: the kernel takes the
 * exception, zeroes a page and maps it. On the reference machine (a 2-core VM) that is
 * 10-14 us a page, more than decompressing or formatting the page's 4 KiB: `builds`
 * over 12,000 builds took 24,000 faults (about 250 ms of its 580). MADV_POPULATE_WRITE
 * (Linux 5.14) maps a whole range in one call, at about 5 us a page there. It is used
 * only for memory that will be filled: an arena's chunks (a bump allocator fills each
 * before the next) and a buffer that grows by appending past 1 MiB. On an older kernel
 * the call fails and the pages fault in as before. */
#ifndef BT_PREFAULT_H
#define BT_PREFAULT_H

#include <stddef.h>

/* Maps the whole pages within [p, p + n) for writing; a hint (nothing to report). */
void bt_prefault(void *p, size_t n);

/* Chunks and growths smaller than this are left to fault in: they may not be filled. */
#define BT_PREFAULT_MIN ((size_t)256 << 10)

#endif
