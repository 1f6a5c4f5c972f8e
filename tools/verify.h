/* verify: compare two directory trees by size and MD5 after a migration. */
#ifndef BFS_TOOLS_VERIFY_H
#define BFS_TOOLS_VERIFY_H

#include <stdbool.h>

/* Exit status when the trees differ (missing, extra or different items). Not in
 * tools/exitcodes.h yet: the lead adds CLI_EXIT_DIFFER = 8 there and in the usage text. */
#include "tools/exitcodes.h"

#define VERIFY_EXIT_DIFFER CLI_EXIT_DIFFER

enum verify_format { VERIFY_TEXT = 0, VERIFY_JSON };

/* Options of one verify run; strings borrowed. */
struct verify_opts {
    const char *src, *dst;
    const char *src_name, *dst_name; /* shown in the JSON output instead (URLs); may be NULL */
    bool deep; /* read and hash both sides always (default: stored user.bridgefs.md5 per side
                * where present, else read) */
    enum verify_format format;
    int jobs; /* hashing workers, >= 1 */
};

/* Walks both trees and prints one line (text) or one JSON object per problem, then totals,
 * on stdout. Returns 0 when the trees match, VERIFY_EXIT_DIFFER (8) when an item is missing,
 * extra or different, 7 when the only problems are unreadable items, 2/3/4/1 for bad input
 * (usage, not found, access, other), 128+signal when interrupted. */
int verify_run(const struct verify_opts *o);

#endif
