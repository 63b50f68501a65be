/*
 * conf_json.c - runs the JSON parser over JSONTestSuite/test_parsing: every y_ file
 * must parse, every n_ file must fail, every i_ file must not crash (the sanitizer
 * build checks that) and its outcome is printed against the documented choice
 * (docs/json.md). Accepted documents are also written, re-parsed and compared.
 * argv[1] is the shared conformance directory; exits 77 when it is missing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

/* The documented decision for each implementation-defined file: 1 accept, 0 reject. */
static const struct {
    const char *name;
    int accept;
    const char *why;
} g_i_choices[] = {
    {"i_number_double_huge_neg_exp.json", 1, "underflows to 0, literal kept"},
    {"i_number_huge_exp.json", 1, "overflows to inf, literal kept"},
    {"i_number_neg_int_huge_exp.json", 1, "overflows to -inf, literal kept"},
    {"i_number_pos_double_huge_exp.json", 1, "overflows to inf, literal kept"},
    {"i_number_real_neg_overflow.json", 1, "overflows to -inf, literal kept"},
    {"i_number_real_pos_overflow.json", 1, "overflows to inf, literal kept"},
    {"i_number_real_underflow.json", 1, "underflows to 0, literal kept"},
    {"i_number_too_big_neg_int.json", 1, "big integer: double approximates, literal exact"},
    {"i_number_too_big_pos_int.json", 1, "big integer: double approximates, literal exact"},
    {"i_number_very_big_negative_int.json", 1, "big integer: double approximates, literal exact"},
    {"i_object_key_lone_2nd_surrogate.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_1st_surrogate_but_2nd_missing.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_UTF-16LE_with_BOM.json", 0, "not UTF-8"},
    {"i_string_UTF-8_invalid_sequence.json", 0, "invalid UTF-8"},
    {"i_string_UTF8_surrogate_U+D800.json", 0, "surrogate encoded in UTF-8"},
    {"i_string_incomplete_surrogate_and_escape_valid.json", 1, "lone surrogate -> U+FFFD"},
    {"i_string_incomplete_surrogate_pair.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_incomplete_surrogates_escape_valid.json", 1, "lone surrogates -> U+FFFD"},
    {"i_string_invalid_lonely_surrogate.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_invalid_surrogate.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_invalid_utf-8.json", 0, "invalid UTF-8"},
    {"i_string_inverted_surrogates_U+1D11E.json", 1, "inverted pair -> two U+FFFD"},
    {"i_string_iso_latin_1.json", 0, "invalid UTF-8"},
    {"i_string_lone_second_surrogate.json", 1, "lone surrogate escape -> U+FFFD"},
    {"i_string_lone_utf8_continuation_byte.json", 0, "invalid UTF-8"},
    {"i_string_not_in_unicode_range.json", 0, "invalid UTF-8 (above U+10FFFF)"},
    {"i_string_overlong_sequence_2_bytes.json", 0, "overlong UTF-8"},
    {"i_string_overlong_sequence_6_bytes.json", 0, "invalid UTF-8"},
    {"i_string_overlong_sequence_6_bytes_null.json", 0, "invalid UTF-8"},
    {"i_string_truncated-utf-8.json", 0, "truncated UTF-8"},
    {"i_string_utf16BE_no_BOM.json", 0, "not UTF-8 (NUL bytes outside strings)"},
    {"i_string_utf16LE_no_BOM.json", 0, "not UTF-8 (NUL bytes outside strings)"},
    {"i_structure_500_nested_arrays.json", 1, "500 levels <= default cap 512"},
    {"i_structure_UTF-8_BOM_empty_object.json", 0, "byte order mark rejected"},
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes v, re-parses the output and checks equality; 1 on success. */
static int round_trip(bt_arena *a, const bt_json *v, unsigned indent, unsigned flags)
{
    bt_buf out = BT_BUF_INIT;
    bt_json_write_opts wo = {indent, flags};
    bt_json *v2 = NULL;
    int ok = 0;
    if (bt_json_write(&out, v, &wo) == 0 &&
        bt_json_parse(a, out.data, out.len, NULL, &v2, NULL) == 0)
        ok = bt_json_equal(v, v2);
    bt_buf_dispose(&out);
    return ok;
}

int main(int argc, char **argv)
{
    char dir[4096], path[8192];
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t nnames = 0, capn = 0, i, k;
    int pass = 0, fail = 0;
    int y_ok = 0, y_all = 0, n_ok = 0, n_all = 0, i_acc = 0, i_rej = 0, i_all = 0;
    bt_arena *arena = NULL;

    if (argc < 2) {
        printf("SKIP: usage: conf_json CONFORMANCE_DIR\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "%s/JSONTestSuite/test_parsing", argv[1]);
    d = opendir(dir);
    if (!d) {
        printf("SKIP: %s not found (the shared conformance suites are not beside the "
               "source tree)\n",
               dir);
        return 77;
    }
    while ((de = readdir(d))) {
        if (strlen(de->d_name) < 6 || strcmp(de->d_name + strlen(de->d_name) - 5, ".json"))
            continue;
        if (nnames == capn) {
            capn = capn ? capn * 2 : 256;
            names = realloc(names, capn * sizeof *names);
            if (!names)
                return 2;
        }
        names[nnames++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nnames, sizeof *names, cmp_str);
    arena = bt_arena_new(0, 0);

    for (i = 0; i < nnames; i++) {
        const char *nm = names[i];
        bt_buf data = BT_BUF_INIT;
        bt_error err = BT_ERROR_INIT;
        bt_json *v = NULL;
        int rc;

        snprintf(path, sizeof path, "%s/%s", dir, nm);
        if (bt_buf_read_file(&data, path, &err)) {
            printf("FAIL %s: cannot read: %s\n", nm, err.msg);
            fail++;
            continue;
        }
        bt_arena_reset(arena);
        rc = bt_json_parse(arena, data.data ? data.data : "", data.len, NULL, &v, &err);
        if (nm[0] == 'y') {
            y_all++;
            if (rc == 0 && round_trip(arena, v, 0, 0) && round_trip(arena, v, 2, BT_JSON_W_ASCII) &&
                round_trip(arena, v, 0, BT_JSON_W_PYNUM | BT_JSON_W_SORT) && v->src >= data.data &&
                v->src + v->src_len <= data.data + data.len) {
                y_ok++;
                pass++;
            } else {
                printf("FAIL %s: %s\n", nm, rc ? err.msg : "round trip or src mismatch");
                fail++;
            }
        } else if (nm[0] == 'n') {
            n_all++;
            if (rc != 0 && strncmp(err.msg, "invalid JSON at byte ", 21) == 0 &&
                !strchr(err.msg, '\n')) {
                n_ok++;
                pass++;
            } else {
                printf("FAIL %s: %s\n", nm, rc ? err.msg : "accepted");
                fail++;
            }
        } else if (nm[0] == 'i') {
            int want = -1;
            const char *why = "no documented choice";
            i_all++;
            for (k = 0; k < sizeof g_i_choices / sizeof g_i_choices[0]; k++)
                if (strcmp(g_i_choices[k].name, nm) == 0) {
                    want = g_i_choices[k].accept;
                    why = g_i_choices[k].why;
                }
            if (rc == 0)
                i_acc++;
            else
                i_rej++;
            printf("i  %-52s %s (%s)%s%s\n", nm, rc == 0 ? "accepted" : "rejected", why,
                   rc ? ": " : "", rc ? err.msg : "");
            if (want == (rc == 0) && (rc != 0 || round_trip(arena, v, 0, 0))) {
                pass++;
            } else {
                printf("FAIL %s: outcome differs from the documented choice\n", nm);
                fail++;
            }
        }
        bt_buf_dispose(&data);
    }
    printf("y_: %d/%d parsed\n", y_ok, y_all);
    printf("n_: %d/%d rejected\n", n_ok, n_all);
    printf("i_: %d files, %d accepted, %d rejected, none crashed\n", i_all, i_acc, i_rej);
    printf("%d passed, %d failed\n", pass, fail);
    for (i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    bt_arena_free(arena);
    return fail ? 1 : 0;
}
