/* arena.c - bt_arena, a chunked bump allocator (see buildtrail/arena.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buildtrail/arena.h"

/* the largest chunk an arena grows to (a big block may be larger: it is its own) */
#define ARENA_CHUNK_MAX ((size_t)2 << 20)
/* chunks this large are mapped at once (prefault) */
#define PREFAULT_MIN ((size_t)256 << 10)

/*
 * Maps the whole pages within [p, p + n) for writing, in one call. The first write to
 * each page of fresh memory is a page fault (the kernel zeroes a page and maps it): on
 * the reference machine (a 2-core VM) 10-14 us a page, more than formatting its 4 KiB;
 * `builds` over 12,000 builds took 24,000 of them. MADV_POPULATE_WRITE (Linux 5.14)
 * maps a range at about 5 us a page there. Only for memory that will be filled: a
 * bump allocator fills each chunk before the next. A hint: on an older kernel the call
 * fails and the pages fault in as before.
 */
static void prefault(void *p, size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t m = pg > 0 ? (uintptr_t)pg - 1 : 4095;
    uintptr_t lo = ((uintptr_t)p + m) & ~m, hi = ((uintptr_t)p + n) & ~m;
#ifdef MADV_POPULATE_WRITE
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)lo;
    (void)hi;
#endif
}

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    max_align_t data[];
} chunk;

struct bt_arena {
    chunk *head;     /* current chunk (most recent) */
    size_t chunk_sz; /* default chunk size */
    size_t cap;      /* 0 = unlimited */
    size_t total;    /* bytes in all chunks */
    size_t handed;   /* bytes handed out since reset */
};

bt_arena *bt_arena_new(size_t chunk_sz, size_t cap)
{
    bt_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->chunk_sz = chunk_sz ? chunk_sz : 65536;
    a->cap = cap;
    return a;
}

void bt_arena_free(bt_arena *a)
{
    chunk *c, *n;
    if (!a)
        return;
    for (c = a->head; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void bt_arena_reset(bt_arena *a)
{
    chunk *c, *n;
    if (!a || !a->head)
        return;
    /* keep the largest chunk: the one that fitted the biggest past demand */
    chunk *keep = a->head;
    for (c = a->head; c; c = c->next)
        if (c->size > keep->size)
            keep = c;
    for (c = a->head; c; c = n) {
        n = c->next;
        if (c != keep)
            free(c);
    }
    keep->next = NULL;
    keep->used = 0;
    a->head = keep;
    a->total = keep->size;
    a->handed = 0;
}

void *bt_arena_alloc(bt_arena *a, size_t n)
{
    chunk *c = a->head;
    size_t need = (n + 7) & ~(size_t)7;

    if (need < n)
        return NULL;
    if (!c || c->size - c->used < need) {
        size_t sz = a->chunk_sz;
        /* an arena that has filled its first chunk gets chunks as large as all it holds,
         * up to ARENA_CHUNK_MAX: fewer allocations, and each large chunk is mapped at
         * once (prefault) since the bump allocator fills it */
        if (a->total >= sz && need <= sz / 4) {
            size_t grow = a->total < ARENA_CHUNK_MAX ? a->total : ARENA_CHUNK_MAX;
            sz = grow > sz ? grow : sz; /* (never below the arena's own chunk size) */
        }
        if (a->cap && a->total + sz > a->cap)
            sz = a->chunk_sz;
        if (need > sz / 4)
            sz = need > sz ? need : sz;
        if (a->cap && a->total + sz > a->cap)
            return NULL;
        c = malloc(sizeof(chunk) + sz);
        if (!c)
            return NULL;
        if (sz >= PREFAULT_MIN && need <= sz / 4)
            prefault(c, sizeof(chunk) + sz);
        c->size = sz;
        c->used = 0;
        if (need > a->chunk_sz / 4 && a->head) {
            /* big block: put it behind the current chunk so the current keeps filling */
            c->next = a->head->next;
            a->head->next = c;
            c->used = need;
            a->total += sz;
            a->handed += need;
            return (char *)c->data;
        }
        c->next = a->head;
        a->head = c;
        a->total += sz;
    }
    void *p = (char *)c->data + c->used;
    c->used += need;
    a->handed += need;
    return p;
}

void *bt_arena_calloc(bt_arena *a, size_t n)
{
    void *p = bt_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *bt_arena_strndup(bt_arena *a, const char *s, size_t n)
{
    char *p = bt_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bt_arena_strdup(bt_arena *a, const char *s)
{
    return bt_arena_strndup(a, s, strlen(s));
}

char *bt_arena_sprintf(bt_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return NULL;
    }
    p = bt_arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

size_t bt_arena_used(const bt_arena *a)
{
    return a->handed;
}
