/* config.c - the configuration file (config.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "term.h"

static const char *const keys[] = {"store", "region", "profile", "color", "timezone", "output"};
enum { NKEYS = sizeof keys / sizeof keys[0] };
static char *values[NKEYS];
static int loaded, load_rc;

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* One "key = value" line (line is modified): 0, or -1 after saying why. */
static int parse_line(const char *path, int lineno, char *line)
{
    char *k, *v, *eq;
    size_t i, n;
    line = trim(line);
    if (!*line || *line == '#' || *line == ';' || *line == '[')
        return 0;
    if (!(eq = strchr(line, '='))) {
        cli_err("%s:%d: expected key = value", path, lineno);
        return -1;
    }
    *eq = 0;
    k = trim(line);
    v = trim(eq + 1);
    n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = 0;
        v++;
    } else if ((eq = strstr(v, " #"))) { /* a comment after an unquoted value */
        *eq = 0;
        v = trim(v);
    }
    for (i = 0; i < NKEYS; i++)
        if (strcmp(k, keys[i]) == 0) {
            free(values[i]);
            if (!(values[i] = strdup(v)))
                return -1;
            return 0;
        }
    cli_warn("%s:%d: unknown setting '%s' (known: store, region, profile, color, timezone, "
             "output)",
             path, lineno, k);
    return 0;
}

static char *default_path(void)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *p = NULL;
    FILE *f;
    if (x && *x) {
        if (asprintf(&p, "%s/buildtrail/config.toml", x) < 0)
            return NULL;
    } else if (home && *home) {
        if (asprintf(&p, "%s/.config/buildtrail/config.toml", home) < 0)
            return NULL;
    } else {
        return NULL;
    }
    if (!(f = fopen(p, "r")))
        strcpy(p + strlen(p) - 4, "ini");
    else
        fclose(f);
    return p;
}

/* What the environment does not already say, the file does. */
static int apply(const char *path)
{
    const char *c = cli_config_get("color");
    if (cli_config_get("store") && !getenv("BUILDTRAIL_STORE"))
        setenv("BUILDTRAIL_STORE", cli_config_get("store"), 1);
    if (cli_config_get("region") && !getenv("AWS_REGION") && !getenv("AWS_DEFAULT_REGION"))
        setenv("AWS_REGION", cli_config_get("region"), 1);
    if (cli_config_get("profile") && !getenv("AWS_PROFILE"))
        setenv("AWS_PROFILE", cli_config_get("profile"), 1);
    if (cli_config_get("timezone") && !getenv("TZ")) {
        setenv("TZ", cli_config_get("timezone"), 1);
        tzset();
    }
    if (c && cli_color_config(c)) {
        cli_err("%s: color = '%s': expected auto, always or never", path, c);
        return -1;
    }
    return 0;
}

int cli_config_load(void)
{
    const char *env = getenv("BUILDTRAIL_CONFIG");
    char *path, line[4096];
    FILE *f;
    int lineno = 0;
    if (loaded)
        return load_rc;
    loaded = 1;
    path = env && *env ? strdup(env) : default_path();
    if (!path)
        return 0;
    if (!(f = fopen(path, "r"))) {
        if (env && *env) { /* named explicitly: it must be there */
            cli_err("BUILDTRAIL_CONFIG '%s': cannot be read", path);
            load_rc = -1;
        }
        free(path);
        return load_rc;
    }
    while (!load_rc && fgets(line, sizeof line, f))
        load_rc = parse_line(path, ++lineno, line);
    fclose(f);
    if (!load_rc)
        load_rc = apply(path);
    free(path);
    return load_rc;
}

const char *cli_config_get(const char *key)
{
    size_t i;
    for (i = 0; i < NKEYS; i++)
        if (strcmp(key, keys[i]) == 0)
            return values[i];
    return NULL;
}

const char *cli_config_output(void)
{
    return cli_config_get("output");
}
