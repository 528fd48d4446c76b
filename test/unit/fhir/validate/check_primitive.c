/*
 * Table tests for every primitive format (R4 datatypes.html), valid and
 * invalid edge cases, plus the xhtml narrative checker.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/validate/fhir_validate.h"

struct pcase {
    enum fhir_model_prim prim;
    const char *text;
    enum fhir_prim_fault want;
};

#define OK    FHIR_PRIM_OK
#define BAD   FHIR_PRIM_BAD_FORMAT
#define DATE  FHIR_PRIM_BAD_DATE
#define NOTZ  FHIR_PRIM_NO_TIMEZONE
#define RANGE FHIR_PRIM_OUT_OF_RANGE
#define EMPTY FHIR_PRIM_EMPTY

static const struct pcase cases[] = {
    /* date: YYYY, YYYY-MM, YYYY-MM-DD, no time, real dates */
    {FHIR_PRIM_DATE, "2015", OK},
    {FHIR_PRIM_DATE, "2015-02", OK},
    {FHIR_PRIM_DATE, "2015-02-07", OK},
    {FHIR_PRIM_DATE, "2016-02-29", OK}, /* leap year */
    {FHIR_PRIM_DATE, "2000-02-29", OK}, /* divisible by 400 */
    {FHIR_PRIM_DATE, "2015-02-29", DATE},
    {FHIR_PRIM_DATE, "1900-02-29", DATE}, /* divisible by 100 */
    {FHIR_PRIM_DATE, "2015-04-31", DATE},
    {FHIR_PRIM_DATE, "2015-12-31", OK},
    {FHIR_PRIM_DATE, "0001-01-01", OK},
    {FHIR_PRIM_DATE, "0000", BAD},
    {FHIR_PRIM_DATE, "2015-13", BAD},
    {FHIR_PRIM_DATE, "2015-00", BAD},
    {FHIR_PRIM_DATE, "2015-01-00", BAD},
    {FHIR_PRIM_DATE, "2015-01-32", BAD},
    {FHIR_PRIM_DATE, "2015-1-5", BAD},
    {FHIR_PRIM_DATE, "15", BAD},
    {FHIR_PRIM_DATE, "20150207", BAD},
    {FHIR_PRIM_DATE, "2015-02-07T10:00:00Z", BAD}, /* a date has no time */
    {FHIR_PRIM_DATE, "2015-02-07 ", BAD},
    {FHIR_PRIM_DATE, "", EMPTY},
    /* dateTime: partial dates, or a full time with a zone */
    {FHIR_PRIM_DATETIME, "2015", OK},
    {FHIR_PRIM_DATETIME, "2015-02", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17Z", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17-05:00", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17.239+02:00", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17.2+14:00", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17+13:59", OK},
    {FHIR_PRIM_DATETIME, "2015-12-31T23:59:60Z", OK}, /* leap second */
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17", NOTZ},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17.5", NOTZ},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28Z", BAD}, /* seconds are required */
    {FHIR_PRIM_DATETIME, "2015-02-07T24:00:00Z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:60:00Z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:61Z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17+14:01", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17+15:00", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17+0500", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17.Z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02T13:28:17Z", BAD}, /* a time needs a full date */
    {FHIR_PRIM_DATETIME, "2015-02-07 13:28:17Z", BAD},
    {FHIR_PRIM_DATETIME, "2015-02-29T13:28:17Z", DATE},
    {FHIR_PRIM_DATETIME, "2016-02-29T13:28:17Z", OK},
    {FHIR_PRIM_DATETIME, "2015-02-07T13:28:17ZZ", BAD},
    /* instant: always to the second with a zone */
    {FHIR_PRIM_INSTANT, "2015-02-07T13:28:17.239+02:00", OK},
    {FHIR_PRIM_INSTANT, "2015-02-07T13:28:17Z", OK},
    {FHIR_PRIM_INSTANT, "2015-02-07T13:28:17", NOTZ},
    {FHIR_PRIM_INSTANT, "2015-02-07", BAD},
    {FHIR_PRIM_INSTANT, "2015", BAD},
    {FHIR_PRIM_INSTANT, "2015-02-07T13:28Z", BAD},
    /* time: hh:mm:ss, no zone */
    {FHIR_PRIM_TIME, "00:00:00", OK},
    {FHIR_PRIM_TIME, "23:59:59.999", OK},
    {FHIR_PRIM_TIME, "24:00:00", BAD},
    {FHIR_PRIM_TIME, "12:00", BAD},
    {FHIR_PRIM_TIME, "12:00:00Z", BAD},
    {FHIR_PRIM_TIME, "1:00:00", BAD},
    {FHIR_PRIM_TIME, "12:00:00.", BAD},
    /* decimal (text of the JSON number) */
    {FHIR_PRIM_DECIMAL, "0", OK},
    {FHIR_PRIM_DECIMAL, "-0.5", OK},
    {FHIR_PRIM_DECIMAL, "1.50", OK},
    {FHIR_PRIM_DECIMAL, "6.02e23", OK},
    {FHIR_PRIM_DECIMAL, "1E-5", OK},
    {FHIR_PRIM_DECIMAL, "01.5", BAD},
    {FHIR_PRIM_DECIMAL, "1.", BAD},
    {FHIR_PRIM_DECIMAL, ".5", BAD},
    {FHIR_PRIM_DECIMAL, "+1", BAD},
    {FHIR_PRIM_DECIMAL, "1e", BAD},
    {FHIR_PRIM_DECIMAL, "1,5", BAD},
    {FHIR_PRIM_DECIMAL, "NaN", BAD},
    /* integer family (32-bit) */
    {FHIR_PRIM_INTEGER, "0", OK},
    {FHIR_PRIM_INTEGER, "-2147483648", OK},
    {FHIR_PRIM_INTEGER, "2147483647", OK},
    {FHIR_PRIM_INTEGER, "2147483648", RANGE},
    {FHIR_PRIM_INTEGER, "-2147483649", RANGE},
    {FHIR_PRIM_INTEGER, "99999999999999999999999", RANGE},
    {FHIR_PRIM_INTEGER, "1.0", BAD},
    {FHIR_PRIM_INTEGER, "1e3", BAD},
    {FHIR_PRIM_INTEGER, "007", BAD},
    {FHIR_PRIM_INTEGER, "-", BAD},
    {FHIR_PRIM_POSITIVEINT, "1", OK},
    {FHIR_PRIM_POSITIVEINT, "0", RANGE},
    {FHIR_PRIM_POSITIVEINT, "-1", BAD},
    {FHIR_PRIM_POSITIVEINT, "2147483648", RANGE},
    {FHIR_PRIM_UNSIGNEDINT, "0", OK},
    {FHIR_PRIM_UNSIGNEDINT, "2147483647", OK},
    {FHIR_PRIM_UNSIGNEDINT, "-1", BAD},
    {FHIR_PRIM_UNSIGNEDINT, "4294967295", RANGE},
    {FHIR_PRIM_BOOLEAN, "true", OK},
    {FHIR_PRIM_BOOLEAN, "false", OK},
    {FHIR_PRIM_BOOLEAN, "True", BAD},
    {FHIR_PRIM_BOOLEAN, "1", BAD},
    /* id */
    {FHIR_PRIM_ID, "example", OK},
    {FHIR_PRIM_ID, "a.b-C9", OK},
    {FHIR_PRIM_ID, "1234567890123456789012345678901234567890123456789012345678901234", OK},
    {FHIR_PRIM_ID, "12345678901234567890123456789012345678901234567890123456789012345", BAD},
    {FHIR_PRIM_ID, "a b", BAD},
    {FHIR_PRIM_ID, "a_b", BAD},
    {FHIR_PRIM_ID, "a/b", BAD},
    {FHIR_PRIM_ID, "", EMPTY},
    /* code */
    {FHIR_PRIM_CODE, "final", OK},
    {FHIR_PRIM_CODE, "a b c", OK},
    {FHIR_PRIM_CODE, " final", BAD},
    {FHIR_PRIM_CODE, "final ", BAD},
    {FHIR_PRIM_CODE, "a  b", BAD},
    {FHIR_PRIM_CODE, "a\tb", OK},
    {FHIR_PRIM_CODE, "a\n\nb", BAD},
    {FHIR_PRIM_CODE, "", EMPTY},
    /* uri / url / canonical */
    {FHIR_PRIM_URI, "http://hl7.org/fhir", OK},
    {FHIR_PRIM_URI, "urn:oid:1.2.3", OK},
    {FHIR_PRIM_URI, "#local", OK},
    {FHIR_PRIM_URI, "http://a b", BAD},
    {FHIR_PRIM_URI, "http://a\tb", BAD},
    {FHIR_PRIM_URL, "mailto:x@example.org", OK},
    {FHIR_PRIM_URL, "http://x/ y", BAD},
    {FHIR_PRIM_CANONICAL, "http://hl7.org/fhir/ValueSet/x|4.0.1", OK},
    {FHIR_PRIM_CANONICAL, "", EMPTY},
    /* oid */
    {FHIR_PRIM_OID, "urn:oid:2.16.840.1.113883", OK},
    {FHIR_PRIM_OID, "urn:oid:1.0", OK},
    {FHIR_PRIM_OID, "urn:oid:3.1", BAD},
    {FHIR_PRIM_OID, "urn:oid:1", BAD},
    {FHIR_PRIM_OID, "urn:oid:1.01", BAD},
    {FHIR_PRIM_OID, "urn:oid:1..2", BAD},
    {FHIR_PRIM_OID, "urn:oid:1.2.", BAD},
    {FHIR_PRIM_OID, "2.16.840", BAD},
    /* uuid */
    {FHIR_PRIM_UUID, "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", OK},
    {FHIR_PRIM_UUID, "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", BAD},
    {FHIR_PRIM_UUID, "c757873d-ec9a-4326-a141-556f43239520", BAD},
    {FHIR_PRIM_UUID, "urn:uuid:c757873d-ec9a-4326-a141-556f4323952", BAD},
    {FHIR_PRIM_UUID, "urn:uuid:c757873dxec9a-4326-a141-556f43239520", BAD},
    /* base64Binary */
    {FHIR_PRIM_BASE64BINARY, "AAAA", OK},
    {FHIR_PRIM_BASE64BINARY, "YWJjZA==", OK},
    {FHIR_PRIM_BASE64BINARY, "YWJjZGU=", OK},
    {FHIR_PRIM_BASE64BINARY, "a+/b", OK},
    {FHIR_PRIM_BASE64BINARY, "YWJj\nZGVm", OK},
    {FHIR_PRIM_BASE64BINARY, "YWJjZ", BAD},
    {FHIR_PRIM_BASE64BINARY, "YW=j", BAD},
    {FHIR_PRIM_BASE64BINARY, "Y===", BAD},
    {FHIR_PRIM_BASE64BINARY, "YWJj!A==", BAD},
    {FHIR_PRIM_BASE64BINARY, "", EMPTY},
    /* string / markdown */
    {FHIR_PRIM_STRING, "x", OK},
    {FHIR_PRIM_STRING, " ", OK},
    {FHIR_PRIM_STRING, "\xe4\xb8\xad\xe6\x96\x87", OK},
    {FHIR_PRIM_STRING, "", EMPTY},
    {FHIR_PRIM_MARKDOWN, "# title", OK},
    {FHIR_PRIM_MARKDOWN, "", EMPTY},
};

START_TEST(primitive_table)
{
    const struct pcase *pc = &cases[_i];
    enum fhir_prim_fault got = fhir_validate_primitive(pc->prim, pc->text, strlen(pc->text));

    ck_assert_msg(got == pc->want, "%s \"%s\": got %d (%s), want %d",
                  fhir_model_prim_name(pc->prim), pc->text, got, fhir_prim_fault_text(got),
                  pc->want);
}
END_TEST

START_TEST(string_length_limit)
{
    size_t n = 1024u * 1024u;
    char *s = malloc(2 * n + 8);

    memset(s, 'a', n);
    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_STRING, s, n), FHIR_PRIM_OK);
    s[n] = 'a';
    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_STRING, s, n + 1), FHIR_PRIM_TOO_LONG);
    /* the limit counts characters, not bytes: 600k two-byte characters fit */
    for (size_t i = 0; i < 600000; i++) {
        s[2 * i] = (char)0xC3;
        s[2 * i + 1] = (char)0xA9;
    }
    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_STRING, s, 1200000), FHIR_PRIM_OK);
    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_MARKDOWN, s, 1200000), FHIR_PRIM_OK);
    free(s);
}
END_TEST

START_TEST(fault_texts_are_distinct)
{
    for (int i = FHIR_PRIM_OK; i <= FHIR_PRIM_TOO_LONG; i++)
        for (int j = i + 1; j <= FHIR_PRIM_TOO_LONG; j++)
            ck_assert_str_ne(fhir_prim_fault_text(i), fhir_prim_fault_text(j));
    ck_assert_str_eq(fhir_prim_fault_text((enum fhir_prim_fault)77), "is invalid");
}
END_TEST

struct xcase {
    const char *text;
    enum fhir_xhtml_fault want;
};

#define NS "<div xmlns=\"http://www.w3.org/1999/xhtml\">"

static const struct xcase xcases[] = {
    {NS "hello</div>", FHIR_XHTML_OK},
    {NS "<p>a<br/>b</p><table><tr><td colspan=\"2\">x</td></tr></table></div>", FHIR_XHTML_OK},
    {NS "<a href=\"http://x\" name=\"n\">link</a></div>", FHIR_XHTML_OK},
    {NS "<img src=\"#pic\" alt=\"\"/></div>", FHIR_XHTML_OK}, /* an image is content */
    {NS "<span xml:lang=\"en\" style=\"color:red\" class=\"c\">x</span></div>", FHIR_XHTML_OK},
    {NS "a &lt; b &amp; &#233; &#x4e2d;</div>", FHIR_XHTML_OK},
    {NS "<!-- comment -->x<![CDATA[ y ]]></div>", FHIR_XHTML_OK},
    {"<?xml version=\"1.0\"?>" NS "x</div>", FHIR_XHTML_OK},
    {"<div xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:x=\"urn:x\">x</div>", FHIR_XHTML_OK},
    {"", FHIR_XHTML_EMPTY},
    {NS "  \n </div>", FHIR_XHTML_EMPTY},
    {NS "<p> </p></div>", FHIR_XHTML_EMPTY},
    {NS "<p>a<ul><li>b</li></ul></p></div>", FHIR_XHTML_IN_PARAGRAPH},
    {NS "x", FHIR_XHTML_NOT_WELL_FORMED},
    {NS "<p>x</div>", FHIR_XHTML_NOT_WELL_FORMED},
    {NS "x</div><div/>", FHIR_XHTML_NOT_WELL_FORMED},
    {NS "a &nbsp; b</div>", FHIR_XHTML_NOT_WELL_FORMED}, /* HTML entities are not XML */
    {NS "a & b</div>", FHIR_XHTML_NOT_WELL_FORMED},
    {"plain text", FHIR_XHTML_NOT_WELL_FORMED},
    {"<div>x</div>", FHIR_XHTML_ROOT},
    {"<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>", FHIR_XHTML_ROOT},
    {"<div xmlns=\"http://hl7.org/fhir\">x</div>", FHIR_XHTML_ROOT},
    {"<!DOCTYPE div [<!ENTITY a \"aaaa\">]>" NS "&a;</div>", FHIR_XHTML_DOCTYPE},
    {"<!DOCTYPE div SYSTEM \"file:///etc/passwd\">" NS "x</div>", FHIR_XHTML_DOCTYPE},
    {NS "<script>alert(1)</script></div>", FHIR_XHTML_SCRIPT},
    {NS "<p onclick=\"alert(1)\">x</p></div>", FHIR_XHTML_SCRIPT},
    {NS "<p ONLOAD=\"x\">x</p></div>", FHIR_XHTML_SCRIPT},
    {NS "<a href=\" JavaScript:alert(1)\">x</a></div>", FHIR_XHTML_SCRIPT},
    {NS "<img src=\"javascript:x\" alt=\"a\"/></div>", FHIR_XHTML_SCRIPT},
    {NS "<form>x</form></div>", FHIR_XHTML_ELEMENT},
    {NS "<iframe src=\"http://x\">x</iframe></div>", FHIR_XHTML_ELEMENT},
    {NS "<object>x</object></div>", FHIR_XHTML_ELEMENT},
    {NS "<body>x</body></div>", FHIR_XHTML_ELEMENT},
    {NS "<link href=\"x\"/>x</div>", FHIR_XHTML_ELEMENT},
    /* HTML 4.0 section 9.4 (ins, del) is excluded by txt-1; chapter 15 is not */
    {NS "<ins>x</ins></div>", FHIR_XHTML_ELEMENT},
    {NS "<p>a <u>b</u> <s>c</s> <strike>d</strike></p><center>e</center></div>", FHIR_XHTML_OK},
    {NS "<font color=\"red\" face=\"Arial\" size=\"2\">x</font><basefont size=\"3\"/></div>",
     FHIR_XHTML_OK},
    {NS "<dir><li>a</li></dir><menu><li>b</li></menu></div>", FHIR_XHTML_OK},
    {NS "<a href=\"x\" target=\"_top\">x</a></div>", FHIR_XHTML_ATTRIBUTE},
    {NS "<svg xmlns=\"http://www.w3.org/2000/svg\">x</svg></div>", FHIR_XHTML_ELEMENT},
    {NS "<p xlink:href=\"x\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">x</p></div>",
     FHIR_XHTML_ATTRIBUTE},
    {NS "<p data-x=\"1\">x</p></div>", FHIR_XHTML_ATTRIBUTE},
    {NS "caf\xc3\xa9 \xe4\xb8\xad</div>", FHIR_XHTML_OK},
    {NS "bad \xc3 utf-8</div>", FHIR_XHTML_NOT_WELL_FORMED},
    {"\xff\xfe<\x00d\x00", FHIR_XHTML_NOT_WELL_FORMED},
    {"\x4c\x6f\xa7\x94", FHIR_XHTML_NOT_WELL_FORMED},
};

START_TEST(xhtml_table)
{
    const struct xcase *xc = &xcases[_i];
    enum fhir_xhtml_fault got = fhir_validate_xhtml(xc->text, strlen(xc->text));

    ck_assert_msg(got == xc->want, "case %d: got %d (%s), want %d", _i, got,
                  fhir_xhtml_fault_text(got), xc->want);
}
END_TEST

/* base64Binary's vector loop against the rule, byte by byte: every byte
 * value at every position of an 80-byte run (past the 64-byte block, into
 * the 16-byte tail) — valid only when the byte is in the alphabet, or is the
 * final '=' (79 data + 1 pad). */
START_TEST(base64_every_byte_at_every_position)
{
    char s[80];

    for (int b = 0; b < 256; b++) {
        bool data = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
                    b == '+' || b == '/';

        for (size_t k = 0; k < sizeof(s); k++) {
            enum fhir_prim_fault want =
                data || (b == '=' && k == sizeof(s) - 1) ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT;

            memset(s, 'A', sizeof(s));
            s[k] = (char)b;
            ck_assert_msg(fhir_validate_primitive(FHIR_PRIM_BASE64BINARY, s, sizeof(s)) == want,
                          "byte 0x%02x at %zu", b, k);
        }
    }
    /* whitespace is skipped wherever it is: 80 data bytes with one or two
     * spaces (or a tab) anywhere stay valid, 79 do not */
    for (size_t k = 0; k < 81; k++) {
        char w[82];

        memset(w, 'A', sizeof(w));
        w[k] = ' ';
        ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_BASE64BINARY, w, 81), FHIR_PRIM_OK);
        w[(k + 17) % 82] = k % 3 == 0 ? '\t' : ' ';
        ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_BASE64BINARY, w, 82), FHIR_PRIM_OK);
        if ((k + 17) % 82 < 81)
            ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_BASE64BINARY, w, 81),
                             FHIR_PRIM_BAD_FORMAT);
    }
}
END_TEST

/* id, code and uri's vector blocks against the rules, byte by byte: every
 * byte value at every position of a 40-byte value (two blocks and a tail). */
START_TEST(id_code_uri_every_byte_at_every_position)
{
    char s[40];

    for (int b = 0; b < 256; b++) {
        bool id_char = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
                       b == '-' || b == '.';
        bool space = b == ' ' || b == '\t' || b == '\n' || b == '\r';

        for (size_t k = 0; k < sizeof(s); k++) {
            memset(s, 'a', sizeof(s));
            s[k] = (char)b;
            ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_ID, s, sizeof(s)),
                             id_char ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT);
            ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_URI, s, sizeof(s)),
                             space ? FHIR_PRIM_BAD_FORMAT : FHIR_PRIM_OK);
            ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_CODE, s, sizeof(s)),
                             space && (k == 0 || k == sizeof(s) - 1) ? FHIR_PRIM_BAD_FORMAT
                                                                     : FHIR_PRIM_OK);
            if (k + 1 < sizeof(s)) {
                s[k + 1] = (char)b;
                ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_CODE, s, sizeof(s)),
                                 space ? FHIR_PRIM_BAD_FORMAT : FHIR_PRIM_OK);
            }
        }
    }
}
END_TEST

/* uuid, byte by byte: every byte value at every position of a valid one. */
START_TEST(uuid_every_byte_at_every_position)
{
    static const char good[] = "urn:uuid:c757873d-ec9a-4326-a141-556f43239520";
    char u[sizeof(good)];

    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_UUID, good, 45), FHIR_PRIM_OK);
    for (int b = 0; b < 256; b++) {
        bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');

        for (size_t k = 0; k < 45; k++) {
            bool dash = k == 17 || k == 22 || k == 27 || k == 32;
            bool ok = k < 9 ? b == good[k] : dash ? b == '-' : hex;

            memcpy(u, good, sizeof(good));
            u[k] = (char)b;
            ck_assert_msg(fhir_validate_primitive(FHIR_PRIM_UUID, u, 45) ==
                              (ok ? FHIR_PRIM_OK : FHIR_PRIM_BAD_FORMAT),
                          "byte 0x%02x at %zu", b, k);
        }
    }
    ck_assert_int_eq(fhir_validate_primitive(FHIR_PRIM_UUID, good, 44), FHIR_PRIM_BAD_FORMAT);
}
END_TEST

/* Entity expansion bombs must not expand: the declaration is refused, and
 * an undeclared reference is simply not well-formed. */
START_TEST(xhtml_entity_bomb_is_refused_quickly)
{
    const char *bomb = "<!DOCTYPE d [<!ENTITY a \"xxxxxxxxxx\"><!ENTITY b \"&a;&a;&a;&a;&a;\">"
                       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;\">]>" NS "&c;&c;&c;</div>";

    ck_assert_int_eq(fhir_validate_xhtml(bomb, strlen(bomb)), FHIR_XHTML_DOCTYPE);
    ck_assert_int_eq(fhir_validate_xhtml(NS "&c;</div>", strlen(NS "&c;</div>")),
                     FHIR_XHTML_NOT_WELL_FORMED);
    /* NUL bytes (UCS-4 detection) */
    ck_assert_int_eq(fhir_validate_xhtml("\0\0\0<div/>", 9), FHIR_XHTML_NOT_WELL_FORMED);
    for (int i = FHIR_XHTML_OK; i <= FHIR_XHTML_NOMEM; i++)
        ck_assert_ptr_nonnull(fhir_xhtml_fault_text(i));
}
END_TEST

Suite *fhir_validate_primitive_suite(void)
{
    Suite *s = suite_create("fhir_validate_primitive");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, primitive_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, string_length_limit);
    tcase_add_test(tc, fault_texts_are_distinct);
    tcase_add_loop_test(tc, xhtml_table, 0, (int)(sizeof(xcases) / sizeof(xcases[0])));
    tcase_add_test(tc, xhtml_entity_bomb_is_refused_quickly);
    tcase_add_test(tc, base64_every_byte_at_every_position);
    tcase_add_test(tc, id_code_uri_every_byte_at_every_position);
    tcase_add_test(tc, uuid_every_byte_at_every_position);
    suite_add_tcase(s, tc);
    return s;
}
