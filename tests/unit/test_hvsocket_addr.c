/* Unit tests of HvSocket addressing (include/openwhp/hvsocket.h): struct sizes/offsets, the
 * well-known GUID values (format/parse round trips against the literal strings), the AF_VSOCK
 * port <-> service GUID mapping, and rejection of malformed GUID strings. No KVM needed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openwhp/hvsocket.h>

#include "check.h"

/* Static initializers must compile from the _INIT macros. */
static const GUID g_parent_static = HV_GUID_PARENT_INIT;

static void lower(const char *in, char *out)
{
    for (; *in; in++, out++)
        *out = (*in >= 'A' && *in <= 'F') ? (char)(*in - 'A' + 'a') : *in;
    *out = '\0';
}

static void upper(const char *in, char *out)
{
    for (; *in; in++, out++)
        *out = (*in >= 'a' && *in <= 'f') ? (char)(*in - 'a' + 'A') : *in;
    *out = '\0';
}

/* g must format to the lowercase form of `lit` and parse back (plain/braced, both cases). */
static void check_guid(const char *name, const GUID *g, const char *lit)
{
    char want[37], up[37], buf[37], braced[40];
    GUID p;
    int bad = failed;
    lower(lit, want);
    upper(lit, up);
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(OpenWhpGuidFormat(g, buf), 36);
    CHECK(buf[36] == '\0');
    CHECK(strcmp(buf, want) == 0);

    memset(&p, 0x5A, sizeof p);
    CHECK(OpenWhpGuidParse(lit, &p));
    CHECK(OpenWhpGuidEqual(&p, g));
    CHECK(memcmp(&p, g, sizeof p) == 0);
    memset(&p, 0x5A, sizeof p);
    CHECK(OpenWhpGuidParse(want, &p) && OpenWhpGuidEqual(&p, g));
    memset(&p, 0x5A, sizeof p);
    CHECK(OpenWhpGuidParse(up, &p) && OpenWhpGuidEqual(&p, g));
    snprintf(braced, sizeof braced, "{%s}", lit);
    memset(&p, 0x5A, sizeof p);
    CHECK(OpenWhpGuidParse(braced, &p) && OpenWhpGuidEqual(&p, g));
    snprintf(braced, sizeof braced, "{%s}", buf);
    memset(&p, 0x5A, sizeof p);
    CHECK(OpenWhpGuidParse(braced, &p) && OpenWhpGuidEqual(&p, g));
    if (failed != bad)
        printf("  (while checking %s)\n", name);
}

static void test_layout(void)
{
    CHECK_EQ(AF_HYPERV, 34);
    CHECK_EQ(HV_PROTOCOL_RAW, 1);
    CHECK_EQ(HVSOCKET_CONNECT_TIMEOUT, 0x01);
    CHECK_EQ(HVSOCKET_CONNECT_TIMEOUT_MAX, 300000);
    CHECK_EQ(HVSOCKET_CONTAINER_PASSTHRU, 0x02);
    CHECK_EQ(HVSOCKET_CONNECTED_SUSPEND, 0x04);
    CHECK_EQ(HVSOCKET_HIGH_VTL, 0x08);
    CHECK_EQ(HVSOCKET_ADDRESS_FLAG_PASSTHRU, 0x1);

    CHECK_EQ(sizeof(GUID), 16);
    CHECK_EQ(sizeof(SOCKADDR_HV), 36);
    CHECK_EQ(offsetof(SOCKADDR_HV, Family), 0);
    CHECK_EQ(sizeof(((SOCKADDR_HV *)0)->Family), 2);
    CHECK_EQ(offsetof(SOCKADDR_HV, Reserved), 2);
    CHECK_EQ(offsetof(SOCKADDR_HV, VmId), 4);
    CHECK_EQ(offsetof(SOCKADDR_HV, ServiceId), 20);
    CHECK_EQ(_Alignof(SOCKADDR_HV), 4);

    CHECK_EQ(sizeof(HVSOCKET_ADDRESS_INFO), 52);
    CHECK_EQ(offsetof(HVSOCKET_ADDRESS_INFO, SystemId), 0);
    CHECK_EQ(offsetof(HVSOCKET_ADDRESS_INFO, VirtualMachineId), 16);
    CHECK_EQ(offsetof(HVSOCKET_ADDRESS_INFO, SiloId), 32);
    CHECK_EQ(offsetof(HVSOCKET_ADDRESS_INFO, Flags), 48);
    CHECK_EQ(sizeof(((HVSOCKET_ADDRESS_INFO *)0)->Flags), 4);

    /* The GUID macros are lvalues usable in assignments and with &. */
    SOCKADDR_HV a;
    memset(&a, 0xEE, sizeof a);
    a.Family = AF_HYPERV;
    a.Reserved = 0;
    a.VmId = HV_GUID_PARENT;
    OpenWhpVsockPortToServiceId(5000, &a.ServiceId);
    CHECK(OpenWhpGuidEqual(&a.VmId, &HV_GUID_PARENT));
    CHECK(OpenWhpGuidEqual(&a.VmId, &g_parent_static));
    const uint8_t *raw = (const uint8_t *)&a;
    CHECK_EQ((uint32_t)raw[0] | (uint32_t)raw[1] << 8, 34);
    /* x86 little-endian byte form: Data1 = A42E7CDA -> DA 7C 2E A4 at offset 4 */
    CHECK_EQ(raw[4], 0xDA);
    CHECK_EQ(raw[7], 0xA4);
    CHECK_EQ((uint32_t)raw[20] | (uint32_t)raw[21] << 8 | (uint32_t)raw[22] << 16 | (uint32_t)raw[23] << 24, 5000);
}

static void test_guids(void)
{
    check_guid("HV_GUID_ZERO", &HV_GUID_ZERO, "00000000-0000-0000-0000-000000000000");
    check_guid("HV_GUID_WILDCARD", &HV_GUID_WILDCARD, "00000000-0000-0000-0000-000000000000");
    check_guid("HV_GUID_BROADCAST", &HV_GUID_BROADCAST, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF");
    check_guid("HV_GUID_CHILDREN", &HV_GUID_CHILDREN, "90DB8B89-0D35-4F79-8CE9-49EA0AC8B7CD");
    check_guid("HV_GUID_LOOPBACK", &HV_GUID_LOOPBACK, "E0E16197-DD56-4A10-9195-5EE7A155A838");
    check_guid("HV_GUID_PARENT", &HV_GUID_PARENT, "A42E7CDA-D03F-480C-9CC2-A4DE20ABB878");
    check_guid("HV_GUID_SILOHOST", &HV_GUID_SILOHOST, "36BD0C5C-7276-4223-88BA-7D03B654C568");
    check_guid("HV_GUID_VSOCK_TEMPLATE", &HV_GUID_VSOCK_TEMPLATE,
               "00000000-FACB-11E6-BD58-64006A7986D3");
    check_guid("g_parent_static", &g_parent_static, "a42e7cda-d03f-480c-9cc2-a4de20abb878");

    CHECK(OpenWhpGuidEqual(&HV_GUID_ZERO, &HV_GUID_WILDCARD));
    CHECK(!OpenWhpGuidEqual(&HV_GUID_ZERO, &HV_GUID_BROADCAST));
    CHECK(!OpenWhpGuidEqual(&HV_GUID_PARENT, &HV_GUID_CHILDREN));
    CHECK(!OpenWhpGuidEqual(&HV_GUID_LOOPBACK, &HV_GUID_SILOHOST));
    /* Equality sees every field, including the last Data4 byte. */
    GUID g = HV_GUID_LOOPBACK;
    g.Data4[7] ^= 1;
    CHECK(!OpenWhpGuidEqual(&g, &HV_GUID_LOOPBACK));
    g = HV_GUID_LOOPBACK;
    g.Data3 ^= 0x100;
    CHECK(!OpenWhpGuidEqual(&g, &HV_GUID_LOOPBACK));

    /* Mixed case parses. */
    GUID p;
    CHECK(OpenWhpGuidParse("a42E7cdA-d03F-480c-9Cc2-A4de20aBB878", &p) &&
          OpenWhpGuidEqual(&p, &HV_GUID_PARENT));
}

static void test_vsock(void)
{
    static const uint32_t ports[] = {0, 1, 22, 1024, 5000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE,
                                     0xFFFFFFFF};
    char buf[37];
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        GUID g;
        uint32_t port = 0xDEADBEEF ^ ports[i] ^ 1;
        memset(&g, 0xA5, sizeof g);
        OpenWhpVsockPortToServiceId(ports[i], &g);
        CHECK_EQ(g.Data1, ports[i]);
        CHECK(OpenWhpServiceIdToVsockPort(&g, &port));
        CHECK_EQ(port, ports[i]);
        CHECK(OpenWhpServiceIdToVsockPort(&g, NULL));
    }

    GUID g;
    OpenWhpVsockPortToServiceId(0, &g);
    CHECK(OpenWhpGuidEqual(&g, &HV_GUID_VSOCK_TEMPLATE));
    OpenWhpVsockPortToServiceId(0xFFFFFFFF, &g);
    OpenWhpGuidFormat(&g, buf);
    CHECK(strcmp(buf, "ffffffff-facb-11e6-bd58-64006a7986d3") == 0);
    OpenWhpVsockPortToServiceId(0x1234ABCD, &g);
    OpenWhpGuidFormat(&g, buf);
    CHECK(strcmp(buf, "1234abcd-facb-11e6-bd58-64006a7986d3") == 0);
    /* Byte form: port little-endian in bytes 0..3, template in 4..15. */
    const uint8_t *raw = (const uint8_t *)&g;
    CHECK_EQ(raw[0], 0xCD);
    CHECK_EQ(raw[3], 0x12);
    CHECK_EQ(raw[4], 0xCB);
    CHECK_EQ(raw[5], 0xFA);
    CHECK_EQ(raw[15], 0xD3);

    /* A parsed template-form string is a vsock port. */
    uint32_t port = 0;
    CHECK(OpenWhpGuidParse("{00001388-FACB-11E6-BD58-64006A7986D3}", &g));
    CHECK(OpenWhpServiceIdToVsockPort(&g, &port));
    CHECK_EQ(port, 5000);

    /* Non-template GUIDs are not vsock ports and leave *port alone. */
    const GUID *others[] = {&HV_GUID_ZERO, &HV_GUID_BROADCAST, &HV_GUID_CHILDREN,
                            &HV_GUID_LOOPBACK, &HV_GUID_PARENT, &HV_GUID_SILOHOST};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        port = 0x12345678;
        CHECK(!OpenWhpServiceIdToVsockPort(others[i], &port));
        CHECK_EQ(port, 0x12345678);
    }
    /* Any single-field (and single-byte) difference outside Data1 disqualifies. */
    OpenWhpVsockPortToServiceId(77, &g);
    GUID t = g;
    t.Data2 ^= 1;
    CHECK(!OpenWhpServiceIdToVsockPort(&t, &port));
    t = g;
    t.Data3 ^= 0x8000;
    CHECK(!OpenWhpServiceIdToVsockPort(&t, &port));
    for (int i = 0; i < 8; i++) {
        t = g;
        t.Data4[i] ^= 0x10;
        CHECK(!OpenWhpServiceIdToVsockPort(&t, &port));
    }
    CHECK_EQ(port, 0x12345678);
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "",
        "{}",
        "a42e7cda-d03f-480c-9cc2-a4de20abb87",      /* 35 chars */
        "a42e7cda-d03f-480c-9cc2-a4de20abb8788",    /* 37 chars */
        "a42e7cda-d03f-480c-9cc2-a4de20abb878 ",    /* trailing space */
        " a42e7cda-d03f-480c-9cc2-a4de20abb878",    /* leading space */
        "a42e7cdad03f480c9cc2a4de20abb878",         /* no dashes */
        "a42e7cda-d03f-480c-9cc2-a4de20abb87g",     /* bad hex */
        "g42e7cda-d03f-480c-9cc2-a4de20abb878",     /* bad hex first */
        "a42e7cda-d03f-480c-9cc2-a4de20abb8 8",     /* space inside */
        "a42e7cda-d03f-480c-9cc2-a4de20abbx78",     /* x inside */
        "0x2e7cda-d03f-480c-9cc2-a4de20abb878",     /* 0x prefix */
        "+42e7cda-d03f-480c-9cc2-a4de20abb878",     /* sign */
        "a42e7cd-ad03f-480c-9cc2-a4de20abb878",     /* dash moved left */
        "a42e7cdad-03f-480c-9cc2-a4de20abb878",     /* dash moved right */
        "a42e7cda-d03f4-80c-9cc2-a4de20abb878",     /* second dash moved */
        "a42e7cda-d03f-480c9-cc2-a4de20abb878",     /* third dash moved */
        "a42e7cda-d03f-480c-9cc2a-4de20abb878",     /* fourth dash moved */
        "a42e7cda-d03f-480c-9cc2-a4de-0abb878",     /* extra dash in last group */
        "a42e7cda:d03f:480c:9cc2:a4de20abb878",     /* wrong separator */
        "a42e7cda-d03f-480c-9cc2-a4de20abb878-",    /* trailing dash */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb878",    /* unbalanced { */
        "a42e7cda-d03f-480c-9cc2-a4de20abb878}",    /* unbalanced } */
        "}a42e7cda-d03f-480c-9cc2-a4de20abb878{",   /* reversed braces */
        "(a42e7cda-d03f-480c-9cc2-a4de20abb878)",   /* wrong brackets */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb878}}",  /* extra } */
        "{{a42e7cda-d03f-480c-9cc2-a4de20abb878}}", /* double braces */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb87}",    /* short inside braces */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb8788}",  /* long inside braces */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb8}8",    /* brace misplaced */
        "{a42e7cdad03f-480c-9cc2-a4de20abb878-}",   /* dash misplaced in braces */
        "{a42e7cda-d03f-480c-9cc2-a4de20abb87z}",   /* bad hex in braces */
        "{ a42e7cda-d03f-480c-9cc2-a4de20abb878 }", /* spaces in braces */
        "a42e7cda-d03f-480c-9cc2-a4de20abb878a42e7cda-d03f-480c-9cc2-a4de20abb878",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        GUID g;
        memset(&g, 0x5A, sizeof g);
        GUID before = g;
        BOOL ok = OpenWhpGuidParse(bad[i], &g);
        CHECK(!ok);
        CHECK(memcmp(&g, &before, sizeof g) == 0);
        if (ok)
            printf("  (accepted \"%s\")\n", bad[i]);
    }
    /* An embedded NUL shortens the string. */
    char s[40] = "a42e7cda-d03f-480c-9cc2-a4de20abb878";
    s[20] = '\0';
    GUID g;
    CHECK(!OpenWhpGuidParse(s, &g));
    CHECK(!OpenWhpGuidParse(NULL, &g));
    CHECK(!OpenWhpGuidParse("a42e7cda-d03f-480c-9cc2-a4de20abb878", NULL));
}

/* Format/parse round trip over assorted bit patterns. */
static void test_roundtrip(void)
{
    uint32_t x = 0x9E3779B9;
    int ok = 1;
    for (int n = 0; n < 1000; n++) {
        GUID g, p;
        uint8_t *b = (uint8_t *)&g;
        for (int i = 0; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b[i] = (uint8_t)x;
        }
        char buf[37], up[37];
        if (OpenWhpGuidFormat(&g, buf) != 36 || !OpenWhpGuidParse(buf, &p) ||
            !OpenWhpGuidEqual(&p, &g))
            ok = 0;
        upper(buf, up);
        if (!OpenWhpGuidParse(up, &p) || !OpenWhpGuidEqual(&p, &g))
            ok = 0;
        for (int i = 0; i < 36; i++)
            if (buf[i] >= 'A' && buf[i] <= 'Z')
                ok = 0;
    }
    CHECK(ok);
}

int main(void)
{
    test_layout();
    test_guids();
    test_vsock();
    test_parse_bad();
    test_roundtrip();
    return check_report();
}
