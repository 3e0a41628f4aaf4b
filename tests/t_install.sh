#!/usr/bin/env bash
# tests/t_install.sh - packaging (issue 8): `make install DESTDIR=...` from
# the build tree puts every file in place, and each one works: the
# programs run from DESTDIR, the extension loads, the man pages format
# without warnings and document every option of --help, the default
# configuration lists every key of daemon/config.c at its default and is
# accepted by prsearchd, the cron line parses and its command runs quietly,
# the systemd units verify, sysusers.d/tmpfiles.d make the user and folder
# the units and the cron job agree on, the nginx example passes `nginx -t`
# and serves /api/search from a real daemon; a second install keeps edited
# configuration files; `make uninstall` removes it all.
# Optional tools (sqlite3, systemd-analyze, nginx, curl) skip visibly;
# PR_NGINX=/path/to/nginx uses an nginx that is not on PATH.
source "$(dirname "$0")/lib.sh"

if [[ ! -f "$PR_BUILDDIR/Makefile" ]]; then
    skip "make install" "no Makefile in $PR_BUILDDIR (not a configured build tree)"
    done_testing; exit
fi
# A make of our own, not a sub-make of `make check` (its jobserver, -s...).
pmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" --no-print-directory \
    -C "$PR_BUILDDIR" "$@"; }

root=$T_TMP/root
if ! dirs=$(pmake -s print-install-dirs 2>"$T_TMP/dirs.err"); then
    not_ok "make print-install-dirs"; diag "$(head -c 600 "$T_TMP/dirs.err")"
    done_testing; exit
fi
dirs=$(grep -E "^[a-z_]+='" <<<"$dirs")
eval "$dirs"   # version bindir sbindir pkglibdir mandir docdir ... (Makefile.am)

if pmake install DESTDIR="$root" >"$T_TMP/install.log" 2>&1; then
    ok "make install DESTDIR=..."
else
    not_ok "make install DESTDIR=..."; diag "$(tail -n 15 "$T_TMP/install.log")"
    done_testing; exit
fi

# --- every file in place -----------------------------------------------
expect=(
    "$bindir/prsearch" "$bindir/prsearch-index" "$sbindir/prsearchd"
    "$pkglibdir/prsearch_french.so"
    "$mandir/man1/prsearch.1" "$mandir/man1/prsearch-index.1" "$mandir/man8/prsearchd.8"
    "$prsearchconfdir/prsearchd.conf" "$crondir/prsearch"
    "$examplesdir/nginx-prsearch.conf" "$docdir/README.md"
)
[[ -n "$systemdsystemunitdir" ]] &&
    expect+=("$systemdsystemunitdir/prsearchd.service" "$systemdsystemunitdir/prsearchd.socket")
[[ -n "$sysusersdir" ]] && expect+=("$sysusersdir/prsearch.conf")
[[ -n "$tmpfilesdir" ]] && expect+=("$tmpfilesdir/prsearch.conf")
for f in "${expect[@]}"; do
    check "installed: $f" test -s "$root$f"
done
[[ -n "$systemdsystemunitdir" ]] ||
    skip "systemd units installed" "configured --without-systemdsystemunitdir"
for f in "$bindir/prsearch" "$bindir/prsearch-index" "$sbindir/prsearchd"; do
    check "executable: $f" test -x "$root$f"
done
bad=$(find "$root" -type f ! -perm -0444 -o -type f -perm -0002 | sed "s|^$root||")
check_eq "every installed file readable by all, none writable by all" "$bad" ""

# --- programs ------------------------------------------------------------
for p in "$bindir/prsearch" "$bindir/prsearch-index" "$sbindir/prsearchd"; do
    name=${p##*/}
    check_eq "$name --version runs from DESTDIR" "$("$root$p" --version 2>&1)" "$name $version"
done
# Installed programs must not lean on the build tree (libtool wrapper
# scripts, an RPATH into .libs).
leak=""
for f in "$root$bindir"/* "$root$sbindir"/* "$root$pkglibdir"/*.so; do
    head -c 4 "$f" | grep -q ELF || leak+=" ${f#"$root"}(not ELF)"
    if command -v readelf >/dev/null &&
        readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -qF "$PR_BUILDDIR"; then
        leak+=" ${f#"$root"}(rpath)"
    fi
done
check_eq "installed programs are binaries that do not lean on the build tree" "$leak" ""

if command -v sqlite3 >/dev/null; then
    out=$(sqlite3 -batch -bail "$T_TMP/ext.db" ".load $root$pkglibdir/prsearch_french.so" \
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='french');" \
        "INSERT INTO t VALUES ('l’État recrute des développeuses');" \
        "SELECT count(*) FROM t WHERE t MATCH 'etat recrutement';" 2>&1)
    check_eq "installed extension loads into sqlite3, tokenizer 'french' works" "$out" "1"
else
    skip "installed extension loads into sqlite3" "no sqlite3 shell"
fi

# --- man pages -------------------------------------------------------------
# render FILE: the page as plain text, hyphens as ASCII.
render() {
    LC_ALL=C.UTF-8 groff -mandoc -Tutf8 -P-cbou "$1" 2>/dev/null |
        sed -e 's/\xe2\x88\x92/-/g' -e 's/\xe2\x80\x90/-/g'
}
if command -v groff >/dev/null; then
    for page in "$mandir/man1/prsearch.1:$bindir/prsearch" \
                "$mandir/man1/prsearch-index.1:$bindir/prsearch-index" \
                "$mandir/man8/prsearchd.8:$sbindir/prsearchd"; do
        man=$root${page%%:*} prog=$root${page#*:} name=${page##*/}
        warn=$(LC_ALL=C.UTF-8 groff -mandoc -Tutf8 -ww -z "$man" 2>&1)
        check_eq "man page of $name formats without warnings" "$warn" ""
        text=$(render "$man")
        check_match "man page of $name: NAME, SYNOPSIS, EXIT STATUS, SEE ALSO" "$text" \
            $'NAME\n.*SYNOPSIS\n.*EXIT STATUS\n.*SEE ALSO\n'
        check_match "man page of $name says version $version" "$text" "prsearch $version"
        # Every option of --help is documented.
        missing=""
        for o in $("$prog" --help | sed -nE 's/^ +((-[a-zA-Z]), )?(--[a-z-]+).*/\2 \3/p'); do
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$text" || missing+=" $o"
        done
        check_eq "man page of $name documents every option of --help" "$missing" ""
    done
    if command -v man >/dev/null; then
        out=$(MANPATH="$root$mandir" MANWIDTH=80 LC_ALL=C.UTF-8 man prsearchd 2>&1 | head -n 3)
        check_contains "man finds prsearchd(8) under the installed MANPATH" "$out" "PRSEARCHD(8)"
    else
        skip "man finds the installed pages" "no man (apt-get install man-db)"
    fi
else
    skip "man pages format" "no groff (apt-get install groff-base)"
fi

# --- default configuration ---------------------------------------------
conf=$root$prsearchconfdir/prsearchd.conf
src_keys=$(grep -oE '^\s*\{"[a-z_]+", K_[A-Z]+' "$PR_SRCDIR/daemon/config.c" |
    grep -oE '"[a-z_]+"' | tr -d '"' | sort)
conf_keys=$(sed -nE 's/^# ([a-z_]+) =( .*)?$/\1/p' "$conf" | sort)
check_eq "prsearchd.conf lists every key of daemon/config.c, once" \
    "$(tr '\n' ' ' <<<"$conf_keys")" "$(tr '\n' ' ' <<<"$src_keys")"
# The defaults written in the file are those of pr_daemon_config_init().
wrong=""
while read -r key value; do
    [[ $value == *'<<'* ]] && value=$((value))   # cache_bytes = 8 << 20
    got=$(sed -nE "s/^# $key = (.*)\$/\\1/p" "$conf")
    [[ "$got" == "$value" || ( $value == 1 && $got == yes ) || ( $value == 0 && $got == no ) ]] ||
        wrong+=" $key=$got(want $value)"
done < <(sed -nE 's/^\s*cfg->([a-z_]+) = ([0-9]+( << [0-9]+)?);.*/\1 \2/p
                 s/^\s*cfg->([a-z_]+) = strdup\(""\);.*/\1/p' \
    "$PR_SRCDIR/daemon/config.c"
    sed -nE 's/.*w\[PR_NCOLS\] = \{([0-9, ]+)\}.*/weights \1/p' "$PR_SRCDIR/daemon/config.c" |
        tr -d ' ' | sed 's/^weights/weights /')
check_eq "prsearchd.conf shows the defaults of daemon/config.c" "$wrong" ""

# Every setting uncommented as shown: the installed daemon accepts it.
sed -E 's/^# ([a-z_]+ =( .*)?)$/\1/' "$conf" >"$T_TMP/all.conf"
"$root$bindir/prsearch-index" -q -d "$T_TMP/site.db" "$PR_SRCDIR/data" 2>"$T_TMP/index.err"
sock=$T_TMP/d.sock
"$root$sbindir/prsearchd" -c "$T_TMP/all.conf" -d "$T_TMP/site.db" -s "$sock" \
    2>"$T_TMP/prsearchd.log" &
dpid=$!
on_exit "kill $dpid; wait $dpid"
for _ in $(seq 100); do [[ -S $sock ]] && break; kill -0 $dpid 2>/dev/null || break; sleep 0.05; done
check_exit "installed prsearchd runs with every setting of prsearchd.conf uncommented" 0 \
    "$root$bindir/prsearch" -s "$sock" recrutement
[[ -S $sock ]] || diag "$(head -c 600 "$T_TMP/prsearchd.log")"

# --- cron ----------------------------------------------------------------
cron=$root$crondir/prsearch
jobs=$(grep -vE '^\s*(#|$)|^[A-Z_]+=' "$cron")
check_eq "cron.d/prsearch: one job" "$(grep -c . <<<"$jobs")" "1"
field='(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*'
check_match "cron.d/prsearch: five time fields, a user, a command" "$jobs" \
    "^$field $field $field $field $field [a-z_][a-z0-9_-]* [^ ].*"
read -r -a w <<<"$jobs"
check_eq "cron.d/prsearch: every 5 minutes" "${w[*]:0:5}" "*/5 * * * *"
svc=$root$systemdsystemunitdir/prsearchd.service
svc_user=""
[[ -n "$systemdsystemunitdir" ]] && svc_user=$(sed -n 's/^User=//p' "$svc")
if [[ -n "$svc_user" ]]; then
    check_eq "cron.d/prsearch: runs as prsearchd.service's User= (the daemon opens its files)" \
        "${w[5]}" "$svc_user"
fi
cmd="${w[*]:6}"
check_match "cron.d/prsearch: flock -n, then the installed prsearch-index -q" "$cmd" \
    "^flock -n [^ ]+ $bindir/prsearch-index -q -d [^ ]+ "
grep -vE '^\s*(#|$)|^[A-Z_]+=|^[*0-9]' "$cron" >"$T_TMP/cron.junk"
check "cron.d/prsearch: no line cron would not understand" test ! -s "$T_TMP/cron.junk"
# The command as cron runs it, on this tree's samples: silent and 0.
if command -v flock >/dev/null; then
    run=${cmd//"$bindir/"/"$root$bindir/"}
    run=${run//\/var\/lib\/prsearch\/prsearch.db/$T_TMP/cron.db}
    run=${run//\/run\/lock\/prsearch-index.lock/$T_TMP/cron.lock}
    run=${run//\/srv\/site/$PR_SRCDIR/data}
    out=$(sh -c "$run" 2>&1); st=$?
    check_eq "the cron command runs, prints nothing and exits 0 on good pages" "$st:$out" "0:"
    out=$(sh -c "$run" 2>&1); st=$?
    check_eq "and again (nothing changed)" "$st:$out" "0:"
else
    skip "the cron command runs" "no flock (util-linux)"
fi

# --- systemd units, user, index folder ------------------------------------
if [[ -n "$systemdsystemunitdir" ]]; then
    skt=$root$systemdsystemunitdir/prsearchd.socket
    exec_start=$(grep '^ExecStart=' "$svc")
    check_match "prsearchd.service runs the installed daemon" "$exec_start" \
        "^ExecStart=$sbindir/prsearchd( |\$)"
    if [[ $exec_start == *" -c "* ]]; then
        check_match "prsearchd.service reads the installed configuration" "$exec_start" \
            " -c $prsearchconfdir/prsearchd.conf( |\$)"
    fi
    default_sock=$("$root$sbindir/prsearchd" --help | grep -oE '/[^ )]*\.sock' | head -n 1)
    check_eq "prsearchd.socket listens on the daemon's default socket" \
        "$(sed -n 's/^ListenStream=//p' "$skt")" "$default_sock"
    svc_db=$(sed -n 's/^Environment=PRSEARCH_DB=//p' "$svc")
    check_eq "the cron job writes the index prsearchd.service reads (PRSEARCH_DB)" \
        "$(grep -oE ' -d [^ ]+' <<<"$cmd" | cut -c5-)" "$svc_db"
    # The daemon may not write the index's folder; its analytics go to its
    # StateDirectory, where `prsearch --stats` looks by default.
    check_eq "prsearchd.service makes no folder writable but its own (no ReadWritePaths=)" \
        "$(grep -c '^ReadWritePaths=' "$svc")" 0
    svc_adb=$(sed -n 's/^Environment=PRSEARCH_ANALYTICS=//p' "$svc")
    check_eq "prsearchd.service records analytics in its StateDirectory" \
        "${svc_adb%/*}" "/var/lib/$(sed -n 's/^StateDirectory=//p' "$svc")"
    check_contains "prsearch --stats reads the service's analytics file by default" \
        "$("$root$bindir/prsearch" --stats --help | tr '\n' ' ')" "$svc_adb"
    if command -v systemd-analyze >/dev/null; then
        # Verify copies whose ExecStart points into DESTDIR, so the binary
        # check applies to what was installed; MANPATH for Documentation=.
        mkdir -p "$T_TMP/units"
        for u in "$svc" "$skt"; do
            sed "s|$sbindir/|$root$sbindir/|g" "$u" >"$T_TMP/units/${u##*/}"
        done
        out=$(cd "$T_TMP/units" && MANPATH="$root$mandir" \
            systemd-analyze verify prsearchd.socket prsearchd.service 2>&1); st=$?
        check_eq "systemd-analyze verify: no error, no warning" "$st:$out" "0:"
    else
        skip "systemd-analyze verify" "no systemd-analyze"
    fi
fi
# sysusers.d and tmpfiles.d, applied to an empty root: they make the
# service's user and the folder of the index the cron job writes.
if [[ -n "$sysusersdir" && -n "$tmpfilesdir" ]] && [[ $(id -u) == 0 ]] &&
    command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    sr=$T_TMP/sysroot
    mkdir -p "$sr/etc"
    check "systemd-sysusers applies sysusers.d/prsearch.conf" \
        systemd-sysusers --root="$sr" "$root$sysusersdir/prsearch.conf"
    user=$(cut -d: -f1 "$sr/etc/passwd" | head -n 1)
    [[ -n "$svc_user" ]] && check_eq "sysusers.d makes prsearchd.service's User=" "$user" "$svc_user"
    check "systemd-tmpfiles applies tmpfiles.d/prsearch.conf" \
        systemd-tmpfiles --root="$sr" --create "$root$tmpfilesdir/prsearch.conf"
    dir=$(awk '$1 == "d" { print $2 }' "$root$tmpfilesdir/prsearch.conf")
    uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$sr/etc/passwd")
    check_eq "tmpfiles.d makes $dir, owned by $user, setgid, group-writable" \
        "$(stat -c '%u %A' "$sr$dir" 2>&1)" "$uid drwxrwsr-x"
    if [[ -n "$systemdsystemunitdir" ]]; then
        check_eq "that folder holds the index of prsearchd.service" "${svc_db%/*}" "$dir"
    fi
else
    skip "sysusers.d and tmpfiles.d entries apply" \
        "not installed, not root, or no systemd-sysusers/systemd-tmpfiles"
fi

# --- nginx example -------------------------------------------------------
nginx=${PR_NGINX:-$(command -v nginx || true)}
[[ -z "$nginx" && -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx
if [[ -z "$nginx" ]]; then
    skip "nginx -t accepts the nginx example" "no nginx (set PR_NGINX=/path/to/nginx)"
else
    ng=$T_TMP/nginx
    mkdir -p "$ng/site"
    echo '<!doctype html><title>site</title>' >"$ng/site/index.html"
    port=$(free_port)
    # The example, pointed at this test's daemon, cache, port and site.
    sed -e "s|unix:/run/prsearch/prsearchd.sock|unix:$sock|" \
        -e "s|/var/cache/nginx/prsearch|$ng/cache|" \
        -e "s|root /srv/site/_site;|root $ng/site;|" \
        -e "s|listen 80;|listen 127.0.0.1:$port;|" -e '/listen \[::\]:80;/d' \
        "$root$examplesdir/nginx-prsearch.conf" >"$ng/prsearch.conf"
    user=""
    [[ $(id -u) == 0 ]] && user="user root;"
    cat >"$ng/nginx.conf" <<EOF
# wrapper of the nginx example for tests/t_install.sh
$user
pid $ng/nginx.pid;
error_log $ng/error.log;
daemon on;
events { worker_connections 64; }
http {
    access_log off;
    include $ng/prsearch.conf;
}
EOF
    out=$("$nginx" -t -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" 2>&1); st=$?
    check "nginx -t accepts the nginx example" test "$st" = 0
    [[ $st == 0 ]] || diag "$out"
    if [[ $st == 0 ]] && command -v curl >/dev/null && [[ -S $sock ]] &&
        "$nginx" -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" 2>"$ng/start.err"; then
        on_exit "kill \$(cat $ng/nginx.pid)"
        url=http://127.0.0.1:$port
        for _ in $(seq 50); do curl -s -o /dev/null "$url/" && break; sleep 0.1; done
        h1=$(curl -s -D - -o "$ng/r1.json" "$url/api/search?q=recrutement+eig&limit=3")
        check_match "nginx: /api/search answers 200 from the daemon" "$h1" "^HTTP/1.1 200"
        check_contains "nginx: /api/search is the daemon's /search JSON" \
            "$(cat "$ng/r1.json")" '"query":"recrutement eig"'
        check_match "nginx: /api/search sends Cache-Control max-age" "$h1" \
            $'[Cc]ache-[Cc]ontrol: public, max-age=[0-9]+\r'
        h2=$(curl -s -D - -o /dev/null "$url/api/search?q=recrutement+eig&limit=3")
        check_match "nginx: the same search again comes from the cache" "$h2" \
            $'X-Cache-Status: HIT\r'
        s=$(curl -s -o "$ng/s.json" -w '%{http_code}' "$url/api/suggest?q=recru")
        check_eq "nginx: /api/suggest answers 200" "$s" "200"
        check_contains "nginx: /api/suggest is the daemon's /suggest JSON" \
            "$(cat "$ng/s.json")" '"suggestions":'
        h=$(curl -s -D - "$url/api/health")
        check_match "nginx: /api/health answers status ok, not cached" "$h" \
            $'^HTTP/1.1 200.*no-store.*"status":"ok"'
        check_eq "nginx: another /api/ path is 404" \
            "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/search/x")" "404"
        check_eq "nginx: POST /api/search is refused" \
            "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/api/search?q=x")" "403"
    else
        skip "nginx serves /api/search from prsearchd" \
            "nginx -t failed, no curl, no daemon, or nginx did not start: $(head -c 200 "$ng/start.err" 2>/dev/null)"
    fi
fi

# --- a second install keeps what the administrator edited -------------------
kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
for f in "$prsearchconfdir/prsearchd.conf" "$crondir/prsearch"; do
    echo "# edited by the administrator" >>"$root$f"
done
if pmake install DESTDIR="$root" >"$T_TMP/install2.log" 2>&1; then
    for f in "$prsearchconfdir/prsearchd.conf" "$crondir/prsearch"; do
        check "make install again keeps the edited $f" \
            grep -q '^# edited by the administrator' "$root$f"
        check "and puts the new version beside it as ${f##*/}.dist" \
            bash -c '[[ -s $1 ]] && ! grep -q "^# edited by" "$1"' _ "$root$f.dist"
    done
    check_contains "and says so" "$(cat "$T_TMP/install2.log")" \
        "keeping the edited $root$prsearchconfdir/prsearchd.conf"
else
    not_ok "make install DESTDIR=... a second time"; diag "$(tail -n 15 "$T_TMP/install2.log")"
fi

# --- uninstall -------------------------------------------------------------
if pmake uninstall DESTDIR="$root" >"$T_TMP/uninstall.log" 2>&1; then
    left=$(find "$root" -type f | sed "s|^$root||")
    check_eq "make uninstall removes every installed file" "$left" ""
else
    not_ok "make uninstall DESTDIR=..."; diag "$(tail -n 10 "$T_TMP/uninstall.log")"
fi

done_testing
