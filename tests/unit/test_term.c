/* test_term.c - the CLI's terminal helpers (src/cli/term.c): visible width, wrapping
 * with a hanging indent that never cuts, colour decisions. term.c is compiled in here
 * (it is part of the CLI, not the library). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli/term.c"
#include "tharness.h"

static char *wrapped(const char *s, int width, int hang)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    cli_wrap_line(f, s, strlen(s), width, hang);
    fclose(f);
    return out;
}

static void test_width(void)
{
    CHECK(cli_text_width("abc", 3) == 3);
    CHECK(cli_text_width("\033[31mab\033[0m", 11) == 2);
    CHECK(cli_text_width("caf\xc3\xa9", 5) == 4);
}

static void test_wrap(void)
{
    char *s = wrapped("  12:00  ssm GetParameters  AccessDenied: User: x is not authorized", 30, 9);
    CHECK_STR(
        s,
        "  12:00  ssm GetParameters\n         AccessDenied: User: x\n         is not authorized\n");
    free(s);
    /* a word longer than a line is split, every character kept */
    s = wrapped("id arn:aws:iam::123456789012:role/a-very-long-role-name", 20, 2);
    CHECK_STR(s, "id\n  arn:aws:iam::12345\n  6789012:role/a-ver\n  y-long-role-name\n");
    free(s);
    /* width 0: as it is */
    s = wrapped("a  b", 0, 2);
    CHECK_STR(s, "a  b\n");
    free(s);
    /* embedded newlines continue at the hang */
    s = wrapped("k: v1\nv2", 40, 4);
    CHECK_STR(s, "k: v1\n    v2\n");
    free(s);
}

static void test_color(void)
{
    CHECK(cli_color_set("sometimes") == -1);
    CHECK(cli_color_set("always") == 0 && cli_use_color() == 1);
    CHECK(cli_color_set("never") == 0 && cli_use_color() == 0);
    CHECK(cli_color_set("on") == 0 && cli_use_color() == 1);
    CHECK(cli_color_set("off") == 0 && cli_use_color() == 0);
    CHECK(cli_color_set("auto") == 0);
    setenv("NO_COLOR", "1", 1);
    CHECK(cli_use_color() == 0);
    unsetenv("NO_COLOR");
    setenv("TERM", "dumb", 1);
    CHECK(cli_use_color() == 0);
}

static void test_setup(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
}

BT_TEST_MAIN(test_setup, test_width, test_wrap, test_color)
