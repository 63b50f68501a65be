/* fuzz_ini.c - libFuzzer target for the AWS config/credentials INI parser: any input
 * must parse or fail cleanly; on success every section and entry is walked. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aws/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_ini *ini = NULL;
    size_t i, j, k, total = 0;
    if (bt_ini_parse((const char *)data, size, &ini, NULL) != 0)
        return 0;
    for (i = 0; i < ini->n; i++) {
        const bt_ini_section *s = &ini->sections[i];
        total += strlen(s->name);
        for (j = 0; j < s->n; j++) {
            total += strlen(s->entries[j].key) + strlen(s->entries[j].value);
            for (k = 0; k < s->entries[j].nsub; k++)
                total += strlen(s->entries[j].sub[k].value);
            (void)bt_ini_get(s, s->entries[j].key);
        }
        (void)bt_ini_section_get(ini, s->name);
    }
    (void)total;
    bt_ini_free(ini);
    return 0;
}
