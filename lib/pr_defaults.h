/*
 * pr_defaults.h - defaults the three programs must agree on.
 *
 * The client finds the daemon through PR_DEFAULT_SOCKET unless told
 * otherwise, so the value lives here once.
 */
#ifndef PR_DEFAULTS_H
#define PR_DEFAULTS_H

/* Index file when neither -d nor $PRSEARCH_DB is given. */
#define PR_DEFAULT_DB "prsearch.db"
#define PR_ENV_DB "PRSEARCH_DB"

/* Daemon socket when neither -s nor $PRSEARCH_SOCKET is given. */
#define PR_DEFAULT_SOCKET "/run/prsearch/prsearchd.sock"
#define PR_ENV_SOCKET "PRSEARCH_SOCKET"

#endif
