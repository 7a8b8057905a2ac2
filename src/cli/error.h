#ifndef CLI_ERROR_H
#define CLI_ERROR_H

/* Exit statuses: one constant per row of SPEC.md's exit-code table. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_REFUSED 3
#define CLI_EXIT_UNREACHABLE 4
#define CLI_EXIT_LOCKED 5
#define CLI_EXIT_NEEDS_RESOLVE 6
#define CLI_EXIT_INTERRUPTED 130

/* The exit status for a library error code. */
int cli_exit_for(int code, int connect_phase);

#endif
