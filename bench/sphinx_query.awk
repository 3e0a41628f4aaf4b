# bench/sphinx_query.awk - translate bench/queries.txt lines (CLASS<TAB>QUERY
# in prsearch's query language, SPEC 5) into SphinxQL for searchd, so both
# engines answer the same questions:
#   words, "phrases", -exclusions, OR, prefix*  -> MATCH('...') ( OR -> | )
#   tag:X, category:X, collection:X             -> (@taxonomy "X") in MATCH
#   year:Y, after:D, before:D                   -> date_ts ranges in WHERE
# Ranking: the same field weights as prsearch (title 10, headings 5,
# chapeau 4, body 1, taxonomy 3), ties by date, newest first; top 10.
# Output: CLASS<TAB>SQL. Needs only POSIX awk (no mktime).
function days_from_civil(y, m, d,    era, yoe, doy, doe) {
    y -= (m <= 2)
    era = int((y >= 0 ? y : y - 399) / 400)
    yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}
function epoch(date,    p) { split(date, p, "-"); return days_from_civil(p[1] + 0, p[2] + 0, p[3] + 0) * 86400 }
function sq(s) { gsub(/\\/, "\\\\", s); gsub(/'/, "\\'", s); return s }
BEGIN { FS = "\t" }
/^#/ || NF < 2 { next }
{
    cls = $1; q = $2; match_s = ""; filt = ""; where = ""
    # Tokens: key:"quoted", key:word, -"phrase", "phrase", word.
    while (length(q) > 0) {
        sub(/^ +/, "", q)
        if (q == "") break
        if (match(q, /^-?[a-z]*:?"[^"]*"/) || match(q, /^[^ ]+/)) {
            tok = substr(q, 1, RLENGTH); q = substr(q, RLENGTH + 1)
        }
        if (match(tok, /^(tag|category|collection|year|after|before):/)) {
            key = substr(tok, 1, RLENGTH - 1); val = substr(tok, RLENGTH + 1)
            gsub(/"/, "", val)
            if (key == "year") {
                where = where " AND date_ts >= " epoch(val "-01-01") " AND date_ts < " epoch((val + 1) "-01-01")
            } else if (key == "after") {
                where = where " AND date_ts >= " epoch(val)
            } else if (key == "before") {
                where = where " AND date_ts < " (epoch(val) + 86400)
            } else {
                filt = filt "(@taxonomy \"" val "\") "
            }
        } else if (tok == "OR") {
            match_s = match_s "| "
        } else {
            match_s = match_s tok " "
        }
    }
    m = filt (match_s != "" ? (filt != "" ? "@* " : "") match_s : "")
    sub(/ +$/, "", m)
    cond = (m != "" ? "MATCH('" sq(m) "')" : "")
    if (where != "") cond = (cond != "" ? cond where : substr(where, 6))
    printf "%s\tSELECT id, WEIGHT() AS w FROM docs%s ORDER BY w DESC, date_ts DESC LIMIT 10" \
        " OPTION field_weights=(title=10, headings=5, chapeau=4, body=1, taxonomy=3)\n",
        cls, (cond != "" ? " WHERE " cond : "")
}
