/*
 * priv.c: User and Group: names resolved once in the master, privileges
 * dropped in each worker (and the status process) before it serves.
 *
 * A process that drops privileges gets the user's primary group (or
 * Group) and exactly the user's supplementary groups, as login and
 * Apache give them (initgroups()); a user known only by number, with
 * no entry in the user database, gets Group and no other.  Never the
 * groups of the root master that forked it.
 */
#define _DEFAULT_SOURCE		/* setgroups(), initgroups(): not POSIX */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "num.h"

static int	priv_number(const char *, const char *, unsigned long *,
		    char *, size_t);
static int	priv_user(struct config *, char *, size_t);

/*
 * Read "#number", the numeric form of User and Group.  Return 0, or -1
 * with err naming the directive.
 */
static int
priv_number(const char *name, const char *value, unsigned long *id,
    char *err, size_t errlen)
{
	long long v;

	/*
	 * Digits only: no sign, not even "-0".  (uid_t)-1 means "no
	 * change" to setuid() and friends.
	 */
	if (!isdigit((unsigned char)value[1]) ||
	    num_parse(value + 1, 0, 0xfffffffeLL, &v) != NUM_OK ||
	    (long long)(uid_t)v != v) {
		snprintf(err, errlen, "%s: bad value \"%s\"", name, value);
		return -1;
	}
	*id = (unsigned long)v;
	return 0;
}

/*
 * Return what of User and Group a server that is not root cannot apply
 * and so ignores ("User", "Group" or "User and Group"), or NULL.
 */
const char *
priv_ignored(const struct config *cf)
{
	if (geteuid() == 0)
		return NULL;
	if (cf->cf_user[0] != '\0')
		return cf->cf_group[0] != '\0' ? "User and Group" : "User";
	return cf->cf_group[0] != '\0' ? "Group" : NULL;
}

/*
 * The user of User: its uid, and when the user database knows it, its
 * login group and the name whose groups workers take.  Return 0, or -1
 * with err.
 */
static int
priv_user(struct config *cf, char *err, size_t errlen)
{
	struct passwd *pw;
	unsigned long id;

	if (cf->cf_user[0] == '#') {
		if (priv_number("User", cf->cf_user, &id, err, errlen) == -1)
			return -1;
		pw = getpwuid((uid_t)id);
		cf->cf_uid = (uid_t)id;
	} else if ((pw = getpwnam(cf->cf_user)) == NULL) {
		snprintf(err, errlen, "User: no such user \"%s\"", cf->cf_user);
		return -1;
	}
	cf->cf_has_user = 1;
	if (pw == NULL)
		return 0;
	if (snprintf(cf->cf_groups_of, sizeof(cf->cf_groups_of), "%s",
	    pw->pw_name) >= (int)sizeof(cf->cf_groups_of)) {
		snprintf(err, errlen, "User: the name of %s is too long",
		    cf->cf_user);
		return -1;
	}
	cf->cf_uid = pw->pw_uid;
	cf->cf_gid = pw->pw_gid;
	cf->cf_has_group = 1;
	return 0;
}

/*
 * Turn User and Group ("name" or "#number") into ids, so that a typo is
 * a startup error rather than a worker that cannot start.  Without
 * Group, the user's login group is used; a User number that the user
 * database does not know has none, and needs Group.  Return 0, or -1
 * with err.
 */
int
priv_resolve(struct config *cf, char *err, size_t errlen)
{
	struct group *gr;
	unsigned long id;

	cf->cf_has_user = cf->cf_has_group = 0;
	cf->cf_groups_of[0] = '\0';
	if (cf->cf_user[0] != '\0' && priv_user(cf, err, errlen) == -1)
		return -1;
	if (cf->cf_group[0] == '#') {
		if (priv_number("Group", cf->cf_group, &id, err, errlen) == -1)
			return -1;
		cf->cf_gid = (gid_t)id;
		cf->cf_has_group = 1;
	} else if (cf->cf_group[0] != '\0') {
		if ((gr = getgrnam(cf->cf_group)) == NULL) {
			snprintf(err, errlen, "Group: no such group \"%s\"",
			    cf->cf_group);
			return -1;
		}
		cf->cf_gid = gr->gr_gid;
		cf->cf_has_group = 1;
	}
	if (cf->cf_has_user && !cf->cf_has_group) {
		snprintf(err, errlen, "User: %s is not in the user database, "
		    "so it has no group: set Group too", cf->cf_user);
		return -1;
	}
	return 0;
}

/*
 * In a worker started as root: set the supplementary groups (the
 * user's, or just the gid), then the gid, then the uid, and prove that
 * root cannot be regained.  A server not started as root keeps its
 * ids, as Apache does.  Return 0, or -1 with err naming the call that
 * failed.
 */
int
priv_drop(const struct config *cf, char *err, size_t errlen)
{
	if (geteuid() != 0 || (!cf->cf_has_user && !cf->cf_has_group))
		return 0;
	if (cf->cf_has_group) {
		if (cf->cf_groups_of[0] != '\0' ?
		    initgroups(cf->cf_groups_of, cf->cf_gid) == -1 :
		    setgroups(1, &cf->cf_gid) == -1) {
			snprintf(err, errlen, "%s: %s", cf->cf_groups_of[0] !=
			    '\0' ? "initgroups" : "setgroups", strerror(errno));
			return -1;
		}
		if (setgid(cf->cf_gid) == -1) {
			snprintf(err, errlen, "setgid %ld: %s",
			    (long)cf->cf_gid, strerror(errno));
			return -1;
		}
	}
	if (cf->cf_has_user) {
		if (setuid(cf->cf_uid) == -1) {
			snprintf(err, errlen, "setuid %ld: %s",
			    (long)cf->cf_uid, strerror(errno));
			return -1;
		}
		if (cf->cf_uid != 0 && setuid(0) == 0) {
			snprintf(err, errlen, "could regain root after setuid");
			return -1;
		}
	}
	return 0;
}
