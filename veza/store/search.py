"""Ranked text search, shared by tracks and products: whole words (websearch syntax) and
word prefixes against a `search_vector` first, then trigram-similar text for typos.

`hits_cte` gives the CTEs ending in `hits (id, tier, score)`; the caller joins them to
its table. The search text is always `$1` and the cap `$2`: only ever bound parameters.
"""

from __future__ import annotations


def hits_cte(table: str, *, similarity: str, trigram_match: str, where: str = "true") -> str:
    """`table` is aliased `t`; `similarity` and `trigram_match` are SQL over `t` and `$1`."""
    return f"""
        WITH q AS (
            SELECT websearch_to_tsquery('simple', $1) AS words,
                   to_tsquery('simple', coalesce(nullif(array_to_string(ARRAY(
                       SELECT quote_literal(w) || ':*' FROM regexp_split_to_table(lower($1), '[^[:alnum:]]+') w
                       WHERE w <> '' LIMIT 8), ' & '), ''), 'zzzznomatch')) AS prefixes
        ), fulltext AS (
            SELECT t.id, 1 AS tier,
                   ts_rank_cd(t.search_vector, q.words) * 2 + ts_rank_cd(t.search_vector, q.prefixes) AS score
            FROM {table} t, q
            WHERE ({where}) AND (t.search_vector @@ q.words OR t.search_vector @@ q.prefixes)
            ORDER BY score DESC LIMIT $2
        ), fuzzy AS (
            SELECT t.id, 2 AS tier, {similarity} AS score
            FROM {table} t
            WHERE ({where}) AND ({trigram_match}) AND t.id NOT IN (SELECT id FROM fulltext)
            ORDER BY score DESC LIMIT $2
        ), hits AS (SELECT * FROM fulltext UNION ALL SELECT * FROM fuzzy)"""
