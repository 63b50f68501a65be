/* tmpfile.c - temporary files with a write buffer of their own (tmpfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/tmpfile.h"

const char *bt_temp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* A new file in bt_temp_dir(), unlinked at once: it goes when it is closed, or when the
 * process dies. (tmpfile(3) ignores $TMPDIR in glibc.) */
static FILE *unlinked_temp(void)
{
    const char *dir = bt_temp_dir();
    char *path;
    size_t n;
    int fd;
    FILE *f;
    n = strlen(dir) + sizeof "/buildtrail-XXXXXX";
    if (!(path = malloc(n)))
        return NULL;
    snprintf(path, n, "%s/buildtrail-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    free(path);
    if (fd < 0)
        return NULL;
    if (!(f = fdopen(fd, "w+")))
        close(fd);
    return f;
}

FILE *bt_temp_file(size_t size, char **buf)
{
    FILE *f;
    if (!(*buf = malloc(size)))
        return NULL;
    if (!(f = unlinked_temp()) || setvbuf(f, *buf, _IOFBF, size) != 0) {
        if (f)
            fclose(f);
        free(*buf);
        *buf = NULL;
        return NULL;
    }
    return f;
}
