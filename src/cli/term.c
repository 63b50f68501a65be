/* term.c - the terminal for the people's views: width, colour, pager, wrapping (term.h). */
#include "term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

cli_color_mode cli_color = CLI_COLOR_AUTO;
static cli_color_mode color_config = CLI_COLOR_AUTO;

static int parse_mode(const char *v, cli_color_mode *m)
{
    if (strcmp(v, "auto") == 0)
        *m = CLI_COLOR_AUTO;
    else if (strcmp(v, "always") == 0 || strcmp(v, "on") == 0) /* on/off: the AWS CLI's words */
        *m = CLI_COLOR_ALWAYS;
    else if (strcmp(v, "never") == 0 || strcmp(v, "off") == 0)
        *m = CLI_COLOR_NEVER;
    else
        return -1;
    return 0;
}

int cli_color_config(const char *v)
{
    return parse_mode(v, &color_config);
}

int cli_color_set(const char *v)
{
    return parse_mode(v, &cli_color);
}

int cli_use_color(void)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (cli_color != CLI_COLOR_AUTO)
        return cli_color == CLI_COLOR_ALWAYS;
    if (nc && *nc)
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    if (color_config != CLI_COLOR_AUTO)
        return color_config == CLI_COLOR_ALWAYS;
    return isatty(STDOUT_FILENO);
}

int cli_term_width(void)
{
    const char *c = getenv("COLUMNS");
    struct winsize ws;
    if (c && *c) {
        char *end;
        long n = strtol(c, &end, 10);
        if (!*end && n > 0 && n < 100000)
            return (int)n;
    }
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

int cli_term_height(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        return ws.ws_row;
    return 0;
}

/* Length in bytes of the character or escape sequence at s (n > 0), and its width. */
static size_t char_at(const char *s, size_t n, int *w)
{
    mbstate_t st;
    wchar_t wc;
    size_t k;
    if (s[0] == '\033' && n > 1 && s[1] == '[') {
        for (k = 2; k < n && !(s[k] >= 0x40 && s[k] <= 0x7e); k++)
            ;
        *w = 0;
        return k < n ? k + 1 : n;
    }
    memset(&st, 0, sizeof st);
    k = mbrtowc(&wc, s, n, &st);
    if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
        *w = 1; /* not decodable: one byte, one column */
        return 1;
    }
    *w = wcwidth(wc);
    if (*w < 0)
        *w = 1;
    return k;
}

int cli_text_width(const char *s, size_t n)
{
    int total = 0, w;
    size_t i = 0;
    while (i < n) {
        i += char_at(s + i, n - i, &w);
        total += w;
    }
    return total;
}

static void newline(FILE *f, int hang, int *col)
{
    fprintf(f, "\n%*s", hang, "");
    *col = hang;
}

void cli_wrap_line(FILE *f, const char *s, size_t n, int width, int hang)
{
    size_t i = 0;
    int col = 0, words = 0;
    if (width > 0 && hang > width / 2)
        hang = width / 2 < 4 ? width / 2 : 4;
    while (i < n) {
        size_t sp = i, we, k;
        int spw, ww = 0, w;
        if (s[i] == '\n') {
            newline(f, hang, &col);
            words = 0;
            i++;
            continue;
        }
        while (i < n && s[i] == ' ')
            i++;
        spw = (int)(i - sp);
        for (we = i; we < n && s[we] != ' ' && s[we] != '\n';)
            we += char_at(s + we, n - we, &w), ww += w;
        if (width > 0 && words && col + spw + ww > width) {
            newline(f, hang, &col);
            spw = 0;
        } else {
            fwrite(s + sp, 1, (size_t)spw, f);
        }
        col += spw;
        /* the word; split (not cut) when it is wider than what is left of a line */
        for (k = i; k < we;) {
            size_t len = char_at(s + k, we - k, &w);
            if (width > 0 && w > 0 && col + w > width && col > hang)
                newline(f, hang, &col);
            fwrite(s + k, 1, len, f);
            col += w;
            k += len;
        }
        if (we > i)
            words++;
        i = we;
    }
    fputc('\n', f);
}

void cli_pager_begin(cli_pager *p, int enabled)
{
    memset(p, 0, sizeof *p);
    p->f = stdout;
    if (!enabled || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
        return;
    p->f = open_memstream(&p->buf, &p->len);
    if (!p->f)
        p->f = stdout;
}

int cli_pager_end(cli_pager *p)
{
    const char *pager = getenv("PAGER");
    size_t i, lines = 0;
    int rows = cli_term_height(), rc = 0;
    FILE *to;
    if (p->f == stdout)
        return fflush(stdout) == 0 ? 0 : -1;
    if (fclose(p->f) != 0) {
        free(p->buf);
        return -1;
    }
    for (i = 0; i < p->len; i++)
        lines += p->buf[i] == '\n';
    if (!pager)
        pager = "less -FRX";
    to = NULL;
    if (*pager && strcmp(pager, "cat") != 0 && rows > 0 && lines >= (size_t)rows) {
        fflush(stdout);
        to = popen(pager, "w");
    }
    if (to) {
        void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* quitting the pager early is fine */
        fwrite(p->buf, 1, p->len, to);
        pclose(to);
        signal(SIGPIPE, old);
    } else if (fwrite(p->buf, 1, p->len, stdout) != p->len || fflush(stdout) != 0) {
        rc = -1;
    }
    free(p->buf);
    p->buf = NULL;
    return rc;
}

void cli_human_bytes(char *out, size_t n, double b)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}
