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

/* The analytics file of prsearchd (when its `analytics_db` is empty) and
 * of `prsearch --stats` (when neither --analytics nor -d is given). Unset:
 * beside the index. */
#define PR_ENV_ANALYTICS "PRSEARCH_ANALYTICS"
/* Where the packaged service (prsearchd.service: StateDirectory=prsearchd,
 * PRSEARCH_ANALYTICS) records them; `prsearch --stats` reads it when
 * nothing names a file or an index and there is none beside ./prsearch.db. */
#define PR_SERVICE_ANALYTICS "/var/lib/prsearchd/analytics.db"

#endif
