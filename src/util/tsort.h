/*
 * tsort.h - an in-place sort generated for one element type and one order
 * (BT_TSORT_DEFINE), for the sorts ingest makes of every event: the pack's orders and
 * the block summaries' keys. qsort calls its comparator through a pointer and glibc's
 * merges through a temporary array; with strcmp comparators too, they were 9% of
 * ingest's CPU. This is an introsort: median-of-three quicksort, insertion sort for short
 * ranges, heapsort past a depth limit (n log n whatever the input).
 *
 * Not stable: the order must be total (break ties on an index) where the result must not
 * depend on the input's order. No allocation; header only.
 *
 *   static int less_x(const T *a, const T *b) { ... }
 *   BT_TSORT_DEFINE(sort_x, T, less_x)      defines static void sort_x(T *a, size_t n)
 */
#ifndef BT_TSORT_H
#define BT_TSORT_H

#include <stddef.h>

#define BT_TSORT_SMALL 16

#define BT_TSORT_DEFINE(name, T, less)                                                             \
    static void name##_ins(T *a, size_t n)                                                         \
    {                                                                                              \
        size_t i, j;                                                                               \
        for (i = 1; i < n; i++) {                                                                  \
            T x = a[i];                                                                            \
            for (j = i; j > 0 && less(&x, &a[j - 1]); j--)                                         \
                a[j] = a[j - 1];                                                                   \
            a[j] = x;                                                                              \
        }                                                                                          \
    }                                                                                              \
    static void name##_sift(T *a, size_t i, size_t n)                                              \
    {                                                                                              \
        T x = a[i];                                                                                \
        size_t c;                                                                                  \
        while ((c = 2 * i + 1) < n) {                                                              \
            if (c + 1 < n && less(&a[c], &a[c + 1]))                                               \
                c++;                                                                               \
            if (!less(&x, &a[c]))                                                                  \
                break;                                                                             \
            a[i] = a[c];                                                                           \
            i = c;                                                                                 \
        }                                                                                          \
        a[i] = x;                                                                                  \
    }                                                                                              \
    static void name##_heap(T *a, size_t n)                                                        \
    {                                                                                              \
        size_t i;                                                                                  \
        for (i = n / 2; i-- > 0;)                                                                  \
            name##_sift(a, i, n);                                                                  \
        while (n > 1) {                                                                            \
            T x = a[0];                                                                            \
            a[0] = a[--n];                                                                         \
            a[n] = x;                                                                              \
            name##_sift(a, 0, n);                                                                  \
        }                                                                                          \
    }                                                                                              \
    static void name##_swap(T *a, size_t i, size_t j)                                              \
    {                                                                                              \
        T x = a[i];                                                                                \
        a[i] = a[j];                                                                               \
        a[j] = x;                                                                                  \
    }                                                                                              \
    /* Hoare's partition around the median of a[0], a[n/2], a[n-1] (n > BT_TSORT_SMALL):           \
     * a[0..j] are not after it, a[j+1..n) not before it, and both are shorter than n */           \
    static size_t name##_part(T *a, size_t n)                                                      \
    {                                                                                              \
        size_t m = n / 2, i = 0, j = n - 1;                                                        \
        T p;                                                                                       \
        if (less(&a[m], &a[0]))                                                                    \
            name##_swap(a, m, 0);                                                                  \
        if (less(&a[n - 1], &a[0]))                                                                \
            name##_swap(a, n - 1, 0);                                                              \
        if (less(&a[n - 1], &a[m]))                                                                \
            name##_swap(a, n - 1, m);                                                              \
        p = a[m];                                                                                  \
        for (;;) {                                                                                 \
            while (less(&a[i], &p))                                                                \
                i++;                                                                               \
            while (less(&p, &a[j]))                                                                \
                j--;                                                                               \
            if (i >= j)                                                                            \
                return j;                                                                          \
            name##_swap(a, i, j);                                                                  \
            i++;                                                                                   \
            j--;                                                                                   \
        }                                                                                          \
    }                                                                                              \
    static void name(T *a, size_t n)                                                               \
    {                                                                                              \
        /* the larger side is looped on, the smaller recursed into: depth log2(n) */               \
        unsigned depth = 0;                                                                        \
        size_t k;                                                                                  \
        for (k = n; k > 1; k >>= 1)                                                                \
            depth += 2;                                                                            \
        while (n > BT_TSORT_SMALL) {                                                               \
            size_t j;                                                                              \
            if (depth-- == 0) {                                                                    \
                name##_heap(a, n);                                                                 \
                return;                                                                            \
            }                                                                                      \
            j = name##_part(a, n) + 1;                                                             \
            if (j < n - j) {                                                                       \
                name(a, j);                                                                        \
                a += j;                                                                            \
                n -= j;                                                                            \
            } else {                                                                               \
                name(a + j, n - j);                                                                \
                n = j;                                                                             \
            }                                                                                      \
        }                                                                                          \
        name##_ins(a, n);                                                                          \
    }

#endif
