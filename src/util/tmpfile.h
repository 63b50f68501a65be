/*
 * tmpfile.h - an unlinked temporary file ($TMPDIR) with a write buffer of a given size
 * that the caller owns: glibc sizes a buffer it allocates itself by the file's block
 * size (4 KiB) whatever setvbuf is told, so large sequential writers (the hunt's spill,
 * the external sorter's runs) bring their own.
 */
#ifndef BT_TMPFILE_H
#define BT_TMPFILE_H

#include <stdio.h>

/* Where temporary files go: $TMPDIR, else /tmp (for messages that name it). */
const char *bt_temp_dir(void);

/* A new temporary file whose stdio buffer is *buf (size bytes, malloc'd here; the
 * caller frees it after fclose), or NULL with *buf NULL when either cannot be made. */
FILE *bt_temp_file(size_t size, char **buf);

#endif
