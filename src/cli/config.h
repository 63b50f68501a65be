/* config.h - the configuration file (config.c): defaults for options, below flags and
 * the environment: flag > environment > config file > built-in default.
 *
 * Where: $BUILDTRAIL_CONFIG, else $XDG_CONFIG_HOME/buildtrail/config.toml, else
 * ~/.config/buildtrail/config.toml (config.ini is read when there is no .toml).
 * Form: "key = value" lines (TOML or INI: values may be quoted, [sections] and lines
 * starting with # or ; are ignored). Keys: store, region, profile, color, timezone,
 * output (search, builds and info). */
#ifndef BT_CLI_CONFIG_H
#define BT_CLI_CONFIG_H

/* Reads the file once (later calls return what the first did) and applies what it can
 * (store, region, profile, timezone into the environment when unset there; color).
 * 0, or -1 after saying what is wrong with it. No file is not an error. */
int cli_config_load(void);
/* The value of key, or NULL. */
const char *cli_config_get(const char *key);
/* The default --output of a command that takes search's or builds' formats: the
 * config's output, or NULL. */
const char *cli_config_output(void);

#endif
