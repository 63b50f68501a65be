/* test_aws_ini.c - the INI dialect of the AWS config files (botocore's reading of
 * RawConfigParser + nesting), profile mapping across the two files, [services]
 * sections and the configured-endpoint precedence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_int.h"
#include "aws/ini.h"
#include "tharness.h"

static bt_ini *parse(const char *text, int want_rc)
{
    bt_ini *ini = NULL;
    bt_error err = BT_ERROR_INIT;
    int rc = bt_ini_parse(text, strlen(text), &ini, &err);
    CHECK_INT(rc, want_rc);
    if (rc && !want_rc)
        fprintf(stderr, "  parse error: %s\n", err.msg);
    return ini;
}

static void test_basic(void)
{
    bt_ini *ini = parse("\xEF\xBB\xBF# comment\r\n; another\n[default]\r\n"
                        "Region = us-east-1 \n"
                        "output: json\n"
                        "  # indented comment\n"
                        "empty =\n"
                        "url = http://x:80/a=b\n"
                        "\n[profile dev]\n  key = value\n",
                        0);
    const bt_ini_section *d, *p;
    if (!ini)
        return;
    d = bt_ini_section_get(ini, "default");
    p = bt_ini_section_get(ini, "profile dev");
    CHECK(d != NULL);
    CHECK(p != NULL);
    CHECK_STR(bt_ini_get(d, "region"), "us-east-1"); /* keys lowercased, values trimmed */
    CHECK_STR(bt_ini_get(d, "output"), "json");      /* ':' delimiter */
    CHECK_STR(bt_ini_get(d, "empty"), "");
    CHECK_STR(bt_ini_get(d, "url"), "http://x:80/a=b"); /* first delimiter wins */
    CHECK_STR(bt_ini_get(p, "key"), "value");           /* indented first key */
    CHECK(bt_ini_get(d, "missing") == NULL);
    bt_ini_free(ini);
}

static void test_continuation_and_nesting(void)
{
    bt_ini *ini = parse("[s]\n"
                        "multi = one\n"
                        "   two\n"
                        "\n"
                        "   three\n"
                        "s3 =\n"
                        "  max_concurrent_requests = 20\n"
                        "  addressing_style=path\n"
                        "after = x\n",
                        0);
    const bt_ini_section *s;
    if (!ini)
        return;
    s = bt_ini_section_get(ini, "s");
    CHECK_STR(bt_ini_get(s, "multi"), "one\ntwo\n\nthree");
    CHECK_STR(bt_ini_get_sub(s, "s3", "max_concurrent_requests"), "20");
    CHECK_STR(bt_ini_get_sub(s, "s3", "addressing_style"), "path");
    CHECK(bt_ini_get_sub(s, "s3", "nope") == NULL);
    CHECK_STR(bt_ini_get(s, "after"), "x");
    bt_ini_free(ini);
}

static void test_duplicates_merge(void)
{
    bt_ini *ini = parse("[a]\nk = 1\nj = 2\n[b]\n[a]\nk = 3\n", 0);
    const bt_ini_section *a;
    if (!ini)
        return;
    a = bt_ini_section_get(ini, "a");
    CHECK_INT(ini->n, 2);
    CHECK_STR(bt_ini_get(a, "k"), "3");
    CHECK_STR(bt_ini_get(a, "j"), "2");
    bt_ini_free(ini);
}

static void test_errors(void)
{
    bt_ini *ini;
    bt_error err = BT_ERROR_INIT;
    CHECK(parse("key = outside\n", BT_EPARSE) == NULL);
    CHECK(parse("[s]\nno delimiter here\n", BT_EPARSE) == NULL);
    CHECK(parse("[s]\n= value\n", BT_EPARSE) == NULL);
    CHECK(parse("[unclosed\nk=v\n", BT_EPARSE) == NULL);
    CHECK(parse("[]\n", BT_EPARSE) == NULL);
    CHECK(parse("[s]\nn =\n  not nested\n", BT_EPARSE) == NULL);
    CHECK_INT(bt_ini_parse("[s]\nk=v\0x\n", 9, &ini, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "line 2") != NULL);
    ini = parse("", 0);
    CHECK(ini != NULL && ini->n == 0);
    bt_ini_free(ini);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static bt_aws_profiles *load(void)
{
    bt_aws_profiles *p = NULL;
    bt_error err = BT_ERROR_INIT;
    char cfg[256], cred[256];
    snprintf(cfg, sizeof cfg, "%s/config", tmpdir);
    snprintf(cred, sizeof cred, "%s/credentials", tmpdir);
    setenv("AWS_CONFIG_FILE", cfg, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    CHECK_INT(bt_aws_profiles_load(&p, &err), 0);
    return p;
}

static void test_profiles(void)
{
    bt_aws_profiles *p;
    bt_aws_settings s;
    char buf[256];

    snprintf(tmpdir, sizeof tmpdir, "/tmp/bt_ini_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        CHECK(0);
        return;
    }
    write_file("config", "[default]\nregion = eu-west-1\n"
                         "[profile dev]\nregion = us-west-2\nrole_arn = cfg-role\n"
                         "[profile  \"two words\"]\nregion = ap-south-1\n"
                         "[dev2]\nregion = nope\n"
                         "[profile svc]\nservices = local\nendpoint_url = http://global\n"
                         "[services local]\ncloudtrail =\n  endpoint_url = http://ct\n");
    write_file("credentials", "[dev]\nrole_arn = cred-role\naws_access_key_id = AKID\n"
                              "[only-creds]\naws_access_key_id = X\n");
    p = load();
    if (!p)
        return;
    CHECK_STR(bt_aws_profile_get(p, "default", "region"), "eu-west-1");
    CHECK_STR(bt_aws_profile_get(p, "dev", "region"), "us-west-2");
    CHECK_STR(bt_aws_profile_get(p, "dev", "role_arn"), "cred-role"); /* credentials win */
    CHECK_STR(bt_aws_profile_get(p, "two words", "region"), "ap-south-1");
    CHECK(bt_aws_profile_get(p, "dev2", "region") == NULL); /* bare [x] is not a profile */
    CHECK(bt_aws_profile_exists(p, "only-creds"));
    CHECK(!bt_aws_profile_exists(p, "dev2"));
    CHECK(bt_aws_profile_creds(p, "dev") != NULL);

    memset(&s, 0, sizeof s);
    s.profile = "svc";
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
    CHECK_STR(bt_aws_configured_endpoint(&s, p, "cloudtrail", buf, sizeof buf), "http://ct");
    CHECK_STR(bt_aws_configured_endpoint(&s, p, "codebuild", buf, sizeof buf), "http://global");
    setenv("AWS_ENDPOINT_URL", "http://env", 1);
    CHECK_STR(bt_aws_configured_endpoint(&s, p, "cloudtrail", buf, sizeof buf), "http://env");
    setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", "http://env-ct", 1);
    CHECK_STR(bt_aws_configured_endpoint(&s, p, "cloudtrail", buf, sizeof buf), "http://env-ct");
    CHECK_STR(bt_aws_configured_endpoint(&s, p, "sts", buf, sizeof buf), "http://env");
    s.ignore_configured_endpoints = 1;
    CHECK(bt_aws_configured_endpoint(&s, p, "cloudtrail", buf, sizeof buf) == NULL);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
    bt_aws_profiles_free(p);

    /* a malformed file is a configuration error naming the file and line */
    write_file("config", "[default]\nregion\n");
    {
        bt_aws_profiles *bad = NULL;
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_aws_profiles_load(&bad, &err), BT_ECONFIG);
        CHECK(strstr(err.msg, "line 2") != NULL);
        CHECK(strstr(err.msg, "/config") != NULL);
    }
    /* missing files are empty */
    unlink(strcat(strcpy((char[256]){0}, tmpdir), "/config"));
    unlink(strcat(strcpy((char[256]){0}, tmpdir), "/credentials"));
    p = load();
    CHECK(p != NULL && !bt_aws_profile_exists(p, "default"));
    bt_aws_profiles_free(p);
    rmdir(tmpdir);
}

BT_TEST_MAIN(test_basic, test_continuation_and_nesting, test_duplicates_merge, test_errors,
             test_profiles)
