/* tmpfile.c - temporary files with a write buffer of their own (tmpfile.h). */
#include <stdlib.h>

#include "util/tmpfile.h"

FILE *bt_temp_file(size_t size, char **buf)
{
    FILE *f;
    if (!(*buf = malloc(size)))
        return NULL;
    if (!(f = tmpfile()) || setvbuf(f, *buf, _IOFBF, size) != 0) {
        if (f)
            fclose(f);
        free(*buf);
        *buf = NULL;
        return NULL;
    }
    return f;
}
