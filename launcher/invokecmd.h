/* invokecmd.h — `fnlauncher invoke` (SPEC.md section 2). */
#ifndef FN_INVOKECMD_H
#define FN_INVOKECMD_H

/* Run `fnlauncher invoke ARGS` (ARGV[0] is "invoke"); DEFAULT_FILE is the
 * manifest without -c. Returns the exit code: 0 for a 2xx/3xx status,
 * 1 otherwise, 2 on a usage error. */
int invokecmd_main(int argc, char **argv, const char *default_file);

#endif
