/* test_units.c — units.c: durations, sizes, numbers, modes, names,
 * methods, env names, CIDRs and listen addresses; good and bad inputs. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"
#include "units.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct num_case {
	const char *in;
	int rc;
	uint64_t want;
};

static const struct num_case durations[] = {
	{ "0", 0, 0 },
	{ "10", 0, 10000 },
	{ "10s", 0, 10000 },
	{ "250ms", 0, 250 },
	{ "0ms", 0, 0 },
	{ "2m", 0, 120000 },
	{ "1h", 0, 3600000 },
	{ "007s", 0, 7000 },
	{ "18446744073709551615ms", 0, UINT64_MAX },
	{ "18446744073709551616ms", -1, 0 },     /* overflow in the digits */
	{ "18446744073709551615s", -1, 0 },      /* overflow in the unit */
	{ "5124095576030432h", -1, 0 },
	{ "", -1, 0 },
	{ "-1", -1, 0 },
	{ "-1s", -1, 0 },
	{ "+1s", -1, 0 },
	{ " 1s", -1, 0 },
	{ "1s ", -1, 0 },
	{ "1 s", -1, 0 },
	{ "1.5s", -1, 0 },
	{ "1,5s", -1, 0 },
	{ "1d", -1, 0 },
	{ "1S", -1, 0 },
	{ "1sec", -1, 0 },
	{ "1mss", -1, 0 },
	{ "s", -1, 0 },
	{ "ms", -1, 0 },
	{ "0x10", -1, 0 },
	{ "1e3", -1, 0 },
};

START_TEST(test_duration)
{
	const struct num_case *c = &durations[_i];
	const char *err = NULL;
	uint64_t v = 12345;
	int rc = units_duration_ms(c->in, &v, &err);

	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->in, rc);
	if (rc == 0)
		ck_assert_uint_eq(v, c->want);
	else
		ck_assert_ptr_nonnull(err);
}
END_TEST

static const struct num_case sizes[] = {
	{ "0", 0, 0 },
	{ "512", 0, 512 },
	{ "64K", 0, 65536 },
	{ "8M", 0, 8388608 },
	{ "1G", 0, 1073741824 },
	{ "17179869183G", 0, 17179869183ull << 30 },
	{ "17179869184G", -1, 0 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", -1, 0 },
	{ "", -1, 0 },
	{ "-1", -1, 0 },
	{ "-1K", -1, 0 },
	{ "1k", -1, 0 },
	{ "1KB", -1, 0 },
	{ "1KiB", -1, 0 },
	{ "1T", -1, 0 },
	{ "1.5M", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "M", -1, 0 },
	{ "unlimited", -1, 0 },
};

START_TEST(test_size)
{
	const struct num_case *c = &sizes[_i];
	const char *err = NULL;
	uint64_t v = 12345;
	int rc = units_size(c->in, &v, &err);

	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->in, rc);
	if (rc == 0)
		ck_assert_uint_eq(v, c->want);
	else
		ck_assert_ptr_nonnull(err);
}
END_TEST

static const struct num_case uints[] = {   /* range 1..4096 */
	{ "1", 0, 1 },
	{ "64", 0, 64 },
	{ "4096", 0, 4096 },
	{ "0064", 0, 64 },
	{ "0", -1, 0 },
	{ "4097", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1K", -1, 0 },
	{ "1.0", -1, 0 },
	{ "", -1, 0 },
	{ "abc", -1, 0 },
};

START_TEST(test_uint)
{
	const struct num_case *c = &uints[_i];
	const char *err = NULL;
	uint64_t v = 12345;
	int rc = units_uint(c->in, 1, 4096, &v, &err);

	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->in, rc);
	if (rc == 0)
		ck_assert_uint_eq(v, c->want);
	else
		ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_uint_full_range)
{
	uint64_t v;

	ck_assert_int_eq(units_uint("18446744073709551615", 0, UINT64_MAX, &v,
	    NULL), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(units_uint("0", 0, 0, &v, NULL), 0);
	ck_assert_uint_eq(v, 0);
}
END_TEST

static const struct num_case modes[] = {
	{ "0660", 0, 0660 },
	{ "660", 0, 0660 },
	{ "022", 0, 022 },
	{ "0022", 0, 022 },
	{ "0", 0, 0 },
	{ "0777", 0, 0777 },
	{ "00000777", 0, 0777 },
	{ "1000", -1, 0 },
	{ "4755", -1, 0 },
	{ "0778", -1, 0 },
	{ "18", -1, 0 },
	{ "0o660", -1, 0 },
	{ "-660", -1, 0 },
	{ " 660", -1, 0 },
	{ "660 ", -1, 0 },
	{ "", -1, 0 },
	{ "rw-r--r--", -1, 0 },
};

START_TEST(test_mode)
{
	const struct num_case *c = &modes[_i];
	const char *err = NULL;
	mode_t v = 0123;
	int rc = units_mode(c->in, &v, &err);

	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->in, rc);
	if (rc == 0)
		ck_assert_uint_eq(v, c->want);
	else
		ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_null_err_is_fine)
{
	uint64_t v;
	mode_t m;
	int fam;
	unsigned char a[16];
	unsigned p;

	ck_assert_int_eq(units_duration_ms("x", &v, NULL), -1);
	ck_assert_int_eq(units_size("x", &v, NULL), -1);
	ck_assert_int_eq(units_uint("x", 0, 1, &v, NULL), -1);
	ck_assert_int_eq(units_mode("x", &m, NULL), -1);
	ck_assert_int_eq(units_cidr("x", &fam, a, &p, NULL), -1);
	ck_assert_int_eq(units_listen("x", NULL), -1);
	ck_assert_int_eq(units_duration_ms(NULL, &v, NULL), -1);
}
END_TEST

struct name_case {
	const char *in;
	bool ok;
};

#define N64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"
static const struct name_case names[] = {
	{ "hello", true },
	{ "a", true },
	{ "0", true },
	{ "hello-world_2.0", true },
	{ "Z.z-z_z", true },
	{ N64, true },
	{ N64 "x", false },
	{ "", false },
	{ ".hidden", false },
	{ "-x", false },
	{ "_x", false },
	{ ".", false },
	{ "..", false },
	{ "a/b", false },
	{ "a b", false },
	{ "a\tb", false },
	{ "caf\xc3\xa9", false },
	{ "a:b", false },
	{ "a%2f", false },
};

START_TEST(test_name)
{
	ck_assert_int_eq(strlen(N64), 64);
	ck_assert_msg(units_valid_name(names[_i].in) == names[_i].ok,
	    "\"%s\"", names[_i].in);
}
END_TEST

static const struct name_case methods[] = {
	{ "GET", true },
	{ "OPTIONS", true },
	{ "PROPFIND", true },
	{ "A", true },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", true },   /* 32 */
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", false }, /* 33 */
	{ "", false },
	{ "get", false },
	{ "Get", false },
	{ "M-SEARCH", false },
	{ "GET ", false },
	{ "G1", false },
};

START_TEST(test_method)
{
	ck_assert_msg(units_valid_method(methods[_i].in) == methods[_i].ok,
	    "\"%s\"", methods[_i].in);
}
END_TEST

static const struct name_case env_names[] = {
	{ "PATH", true },
	{ "_", true },
	{ "_x1", true },
	{ "http_x_foo", true },
	{ "A1B2", true },
	{ "", false },
	{ "1A", false },
	{ "A-B", false },
	{ "A=B", false },
	{ "A B", false },
	{ "A.B", false },
};

START_TEST(test_env_name)
{
	ck_assert_msg(units_valid_env_name(env_names[_i].in) ==
	    env_names[_i].ok, "\"%s\"", env_names[_i].in);
}
END_TEST

START_TEST(test_env_name_length)
{
	char s[300];

	memset(s, 'A', sizeof(s));
	s[255] = '\0';
	ck_assert(units_valid_env_name(s));
	s[255] = 'A';
	s[256] = '\0';
	ck_assert(!units_valid_env_name(s));
}
END_TEST

struct cidr_case {
	const char *in;
	int rc;
	int family;
	const char *addr;  /* the network, as inet_ntop prints it */
	unsigned prefix;
};

static const struct cidr_case cidrs[] = {
	{ "127.0.0.1", 0, AF_INET, "127.0.0.1", 32 },
	{ "127.0.0.0/8", 0, AF_INET, "127.0.0.0", 8 },
	{ "10.1.2.3/8", 0, AF_INET, "10.0.0.0", 8 },
	{ "192.168.77.200/20", 0, AF_INET, "192.168.64.0", 20 },
	{ "1.2.3.4/0", 0, AF_INET, "0.0.0.0", 0 },
	{ "1.2.3.4/32", 0, AF_INET, "1.2.3.4", 32 },
	{ "1.2.3.4/31", 0, AF_INET, "1.2.3.4", 31 },
	{ "1.2.3.5/31", 0, AF_INET, "1.2.3.4", 31 },
	{ "::1", 0, AF_INET6, "::1", 128 },
	{ "::1/128", 0, AF_INET6, "::1", 128 },
	{ "fd00::/8", 0, AF_INET6, "fd00::", 8 },
	{ "fdab:cdef::1/12", 0, AF_INET6, "fda0::", 12 },
	{ "2001:db8::ffff/127", 0, AF_INET6, "2001:db8::fffe", 127 },
	{ "::/0", 0, AF_INET6, "::", 0 },
	{ "::ffff:10.0.0.1/104", 0, AF_INET6, "::ffff:10.0.0.0", 104 },
	{ "1.2.3.4/33", -1, 0, NULL, 0 },
	{ "::1/129", -1, 0, NULL, 0 },
	{ "1.2.3.4/", -1, 0, NULL, 0 },
	{ "1.2.3.4/-1", -1, 0, NULL, 0 },
	{ "1.2.3.4/+8", -1, 0, NULL, 0 },
	{ "1.2.3.4/8/8", -1, 0, NULL, 0 },
	{ "1.2.3.4/0008", -1, 0, NULL, 0 },
	{ "1.2.3.4/ 8", -1, 0, NULL, 0 },
	{ "/8", -1, 0, NULL, 0 },
	{ "", -1, 0, NULL, 0 },
	{ "localhost", -1, 0, NULL, 0 },
	{ "1.2.3", -1, 0, NULL, 0 },
	{ "256.1.1.1", -1, 0, NULL, 0 },
	{ "1.2.3.4 ", -1, 0, NULL, 0 },
	{ " 1.2.3.4", -1, 0, NULL, 0 },
	{ "fe80::1%eth0", -1, 0, NULL, 0 },
	{ "1::2::3", -1, 0, NULL, 0 },
	{ "[::1]", -1, 0, NULL, 0 },
	{ "::1:", -1, 0, NULL, 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255:1", -1, 0, NULL, 0 },
};

START_TEST(test_cidr)
{
	const struct cidr_case *c = &cidrs[_i];
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	const char *err = NULL;
	unsigned prefix = 999;
	int family = -1, rc;

	rc = units_cidr(c->in, &family, addr, &prefix, &err);
	ck_assert_msg(rc == c->rc, "\"%s\": rc %d", c->in, rc);
	if (rc < 0) {
		ck_assert_ptr_nonnull(err);
		return;
	}
	ck_assert_int_eq(family, c->family);
	ck_assert_uint_eq(prefix, c->prefix);
	ck_assert_ptr_nonnull(inet_ntop(family, addr, text, sizeof(text)));
	ck_assert_str_eq(text, c->addr);
	if (family == AF_INET)  /* the rest of the 16 bytes is zero */
		ck_assert(memcmp(addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0",
		    12) == 0);
}
END_TEST

static const struct name_case listens[] = {
	{ "unix:/run/fn.sock", true },
	{ "127.0.0.1:9000", true },
	{ "localhost:1", true },
	{ "*:65535", true },
	{ "[::1]:9000", true },
	{ "[fd00::12:34]:80", true },
	{ "unix:run/fn.sock", false },
	{ "unix:", false },
	{ "/run/fn.sock", false },
	{ "127.0.0.1", false },
	{ "127.0.0.1:", false },
	{ "127.0.0.1:0", false },
	{ "127.0.0.1:65536", false },
	{ "127.0.0.1:-1", false },
	{ "127.0.0.1:http", false },
	{ ":9000", false },
	{ "::1:9000", false },
	{ "[::1]9000", false },
	{ "[::1]:", false },
	{ "[1.2.3.4]:80", false },
	{ "[::1:80", false },
	{ "a b:80", false },
	{ "", false },
};

START_TEST(test_listen)
{
	const char *err = NULL;
	int rc = units_listen(listens[_i].in, &err);

	ck_assert_msg((rc == 0) == listens[_i].ok, "\"%s\"", listens[_i].in);
	if (rc < 0)
		ck_assert(err != NULL && strncmp(err, "must ", 5) == 0);
}
END_TEST

START_TEST(test_listen_unix_path_length)
{
	char s[200];

	memcpy(s, "unix:/", 6);
	memset(s + 6, 'a', sizeof(s) - 6);
	s[5 + 107] = '\0';     /* a 107-byte path fits sun_path with its NUL */
	ck_assert_int_eq(units_listen(s, NULL), 0);
	s[5 + 107] = 'a';
	s[5 + 108] = '\0';
	ck_assert_int_eq(units_listen(s, NULL), -1);
}
END_TEST

Suite *
suite_units(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("parsers");

	tcase_add_loop_test(tc, test_duration, 0, NELEM(durations));
	tcase_add_loop_test(tc, test_size, 0, NELEM(sizes));
	tcase_add_loop_test(tc, test_uint, 0, NELEM(uints));
	tcase_add_test(tc, test_uint_full_range);
	tcase_add_loop_test(tc, test_mode, 0, NELEM(modes));
	tcase_add_test(tc, test_null_err_is_fine);
	tcase_add_loop_test(tc, test_name, 0, NELEM(names));
	tcase_add_loop_test(tc, test_method, 0, NELEM(methods));
	tcase_add_loop_test(tc, test_env_name, 0, NELEM(env_names));
	tcase_add_test(tc, test_env_name_length);
	tcase_add_loop_test(tc, test_cidr, 0, NELEM(cidrs));
	tcase_add_loop_test(tc, test_listen, 0, NELEM(listens));
	tcase_add_test(tc, test_listen_unix_path_length);
	suite_add_tcase(s, tc);
	return s;
}
