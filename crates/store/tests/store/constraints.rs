//! The schema follows the naming rules that let both backends report the same constraint name
//! (crates/store/src/error.rs): checked from each backend's catalog.

use atrium_store::Pool;
use atrium_store::error::sqlite_constraint_name;
use sqlx::error::ErrorKind;

use crate::store_test;

/// The name SQLite's message for a unique violation on `table(cols)` maps to.
fn mapped(table: &str, cols: &[String]) -> String {
    let detail: Vec<String> = cols.iter().map(|c| format!("{table}.{c}")).collect();
    sqlite_constraint_name(
        &ErrorKind::UniqueViolation,
        &format!("UNIQUE constraint failed: {}", detail.join(", ")),
    )
}

store_test! {
    async fn constraint_names_follow_the_mapping_rules(db) {
        let mut checked = 0;
        match db.store.pool() {
            Pool::Sqlite(p) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                ).fetch_all(p).await.unwrap();
                for t in tables {
                    let indexes: Vec<(String, i64, String)> = sqlx::query_as(
                        "SELECT name, \"unique\", origin FROM pragma_index_list($1)",
                    ).bind(&t).fetch_all(p).await.unwrap();
                    for (index, unique, origin) in indexes {
                        if unique == 0 || origin == "u" {
                            // UNIQUE table constraints: PostgreSQL's half checks their names.
                            continue;
                        }
                        let cols: Vec<(i64, Option<String>)> = sqlx::query_as(
                            "SELECT cid, name FROM pragma_index_info($1) ORDER BY seqno",
                        ).bind(&index).fetch_all(p).await.unwrap();
                        if cols.iter().any(|(cid, _)| *cid < 0) {
                            continue; // expression index: SQLite reports its name
                        }
                        let cols: Vec<String> = cols.into_iter().map(|(_, n)| n.unwrap()).collect();
                        let want = if origin == "pk" { format!("{t}_pkey") } else { index.clone() };
                        assert_eq!(mapped(&t, &cols), want, "{t}({cols:?})");
                        checked += 1;
                    }
                }
            }
            Pool::Pg(p) => {
                // (table, constraint, type, columns in key order)
                let rows: Vec<(String, String, String, Vec<String>)> = sqlx::query_as(
                    "SELECT cl.relname::text, co.conname::text, co.contype::text, \
                     ARRAY(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(n, i) \
                           JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n \
                           ORDER BY k.i) \
                     FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid \
                     JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
                     WHERE ns.nspname = 'public' AND co.contype IN ('p', 'u', 'f')",
                ).fetch_all(p).await.unwrap();
                for (t, name, kind, cols) in rows {
                    match kind.as_str() {
                        "p" => assert_eq!(name, format!("{t}_pkey")),
                        "u" => assert_eq!(name, format!("{t}_{}_key", cols.join("_"))),
                        _ => assert!(name.ends_with("_fkey"), "{name}"),
                    }
                    if kind != "f" {
                        assert_eq!(mapped(&t, &cols), name, "{t}({cols:?})");
                    }
                    checked += 1;
                }
                // Unique indexes that back no constraint, over plain columns, need an entry in
                // SQLITE_COLUMN_CONSTRAINTS.
                let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(
                    "SELECT t.relname::text, i.relname::text, \
                     ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, o) \
                           JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n ORDER BY k.o) \
                     FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
                     WHERE ns.nspname = 'public' AND ix.indisunique AND ix.indexprs IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)",
                ).fetch_all(p).await.unwrap();
                for (t, index, cols) in rows {
                    assert_eq!(mapped(&t, &cols), index, "{t}({cols:?})");
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "checked only {checked}");
    }
}
