//! The stage database's one schema version and the chain of migrations that reaches it.
//!
//! `PRAGMA user_version` holds the version a file is at. Opening a file runs every migration
//! past it, in order, each in one transaction with its version bump, so a data directory written
//! by any earlier local stage opens by itself, and a half-applied migration never exists. A
//! change to the data adds a migration at the end of [`MIGRATIONS`]; released ones never change.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

/// One step of the chain: what it is for, and its SQL.
struct Migration {
    what: &'static str,
    sql: &'static str,
}

/// The chain. Index `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        what: "the first layout: the single photo table, the user pool and the processing queue",
        // The tables as the first local stages wrote them, without a version: `IF NOT EXISTS`
        // lets a file they wrote pass through unchanged and reach version 1.
        sql: "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    body   TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    sub           TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    confirmed     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    username   TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    code       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (username, purpose)
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    digest     TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    next_at_ms INTEGER NOT NULL,
    last_error TEXT
);
",
    },
    Migration {
        what: "SQLite as the source of truth: a photo's status, the usage counters as columns, \
               and the index of PENDING photos",
        // The conditions of the writes read these columns; recovery at start reads the index.
        sql: "
ALTER TABLE items ADD COLUMN status TEXT;
ALTER TABLE items ADD COLUMN used_bytes INTEGER;
ALTER TABLE items ADD COLUMN photo_count INTEGER;
UPDATE items SET status = json_extract(body, '$.Photo.status') WHERE sk >= 'PHOTO#' AND sk < 'PHOTO#~';
UPDATE items SET used_bytes = json_extract(body, '$.Usage.used_bytes'),
                 photo_count = json_extract(body, '$.Usage.photo_count')
           WHERE sk = 'USAGE';
CREATE INDEX items_pending ON items (pk, sk) WHERE status = 'PENDING';
",
    },
    Migration {
        what: "usernames compared without regard to case: each user's name lower-cased, with its \
               refresh tokens and codes",
        // A name whose lower-case form another user already has keeps its spelling (`OR
        // IGNORE`); its tokens and codes stay with it. Codes left without a user are dropped.
        sql: "
UPDATE OR IGNORE users SET username = lower(username) WHERE username != lower(username);
UPDATE refresh_tokens SET username = lower(username)
  WHERE username NOT IN (SELECT username FROM users);
UPDATE OR IGNORE codes SET username = lower(username)
  WHERE username NOT IN (SELECT username FROM users);
DELETE FROM codes WHERE username NOT IN (SELECT username FROM users);
",
    },
    Migration {
        what: "attempt limits: wrong tries of each code, and each user's failed sign-ins and \
               lockout",
        sql: "
ALTER TABLE codes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
",
    },
    Migration {
        what: "codes kept as digests: the codes table holds a SHA-256 of each code, never the code",
        // A code mailed before cannot be turned into its digest here (SQLite has no SHA-256):
        // it is dropped, and a new one is asked for as after an expiry.
        sql: "
DELETE FROM codes;
ALTER TABLE codes RENAME COLUMN code TO digest;
",
    },
    Migration {
        what: "the timeline: each photo's place by date taken, its index, and the photos of each \
               month",
        // `tlsk` as `photo_domain::keys::timeline_sk` writes it: when the shutter fired on the
        // camera's clock (else the upload's start), plus the milliseconds from year 1 to 1970.
        sql: "
ALTER TABLE items ADD COLUMN tlsk TEXT;
ALTER TABLE items ADD COLUMN timeline_ms INTEGER;
UPDATE items SET timeline_ms = CASE
    WHEN json_extract(body, '$.Photo.taken_at') IS NOT NULL
    THEN json_extract(body, '$.Photo.taken_at')
         + coalesce(json_extract(body, '$.Photo.taken_offset_minutes'), 0) * 60000
    ELSE json_extract(body, '$.Photo.created_at') END
  WHERE sk >= 'PHOTO#' AND sk < 'PHOTO#~';
UPDATE items SET tlsk = 'TAKEN#' || printf('%015d', max(0, timeline_ms + 62135596800000))
                        || '#' || substr(sk, 7)
  WHERE timeline_ms IS NOT NULL;
CREATE INDEX items_timeline ON items (pk, tlsk) WHERE tlsk IS NOT NULL;
CREATE TABLE timeline_months (
    pk     TEXT NOT NULL,
    month  TEXT NOT NULL,
    photos INTEGER NOT NULL,
    PRIMARY KEY (pk, month)
) WITHOUT ROWID;
INSERT INTO timeline_months (pk, month, photos)
  SELECT pk, strftime('%Y-%m', timeline_ms / 1000.0, 'unixepoch'), count(*)
    FROM items WHERE timeline_ms IS NOT NULL GROUP BY 1, 2;
ALTER TABLE items DROP COLUMN timeline_ms;
",
    },
];

/// The version this build writes: the length of the chain.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings `conn`'s file to [`SCHEMA_VERSION`]; the versions it applied, oldest first.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Vec<i64>> {
    let mut applied = Vec::new();
    loop {
        // The write lock first, so two processes cannot apply the same step.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                format!(
                    "the database is at schema version {version}, newer than this deployer's \
                     {SCHEMA_VERSION}: it was written by a later version (upgrade the deployer)"
                )
                .into(),
            ));
        }
        let Some(step) = MIGRATIONS.get(version as usize) else {
            return Ok(applied);
        };
        tx.execute_batch(step.sql).map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(
                format!("migrating to version {} ({}): {e}", version + 1, step.what).into(),
            )
        })?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        applied.push(version + 1);
    }
}

/// Sets the pragmas every connection of the stage uses.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL: readers never wait for the writer, and the writer holds its lock only for its own
    // transaction. `synchronous = NORMAL` is durable across a process crash, which is what a
    // local stage needs.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(())
}

/// Opens (creating when missing) the database file and migrates it to [`SCHEMA_VERSION`].
pub fn open_database(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_file_gets_the_whole_chain_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            migrate(&mut conn).unwrap(),
            (1..=SCHEMA_VERSION).collect::<Vec<_>>()
        );
        assert_eq!(version(&conn), SCHEMA_VERSION);
        assert!(migrate(&mut conn).unwrap().is_empty(), "nothing twice");
    }

    #[test]
    fn a_first_layout_file_is_brought_forward_with_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 0;
             INSERT INTO items (pk, sk, body) VALUES
               ('USER#a', 'PHOTO#1', '{\"Photo\":{\"status\":\"PENDING\"}}'),
               ('USER#a', 'PHOTO#2', '{\"Photo\":{\"status\":\"READY\"}}'),
               ('USER#a', 'USAGE', '{\"Usage\":{\"used_bytes\":70,\"photo_count\":2}}');",
        )
        .unwrap();
        assert_eq!(
            migrate(&mut conn).unwrap(),
            (1..=SCHEMA_VERSION).collect::<Vec<_>>()
        );
        let pending: Vec<String> = conn
            .prepare("SELECT sk FROM items INDEXED BY items_pending WHERE status = 'PENDING'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(pending, vec!["PHOTO#1".to_owned()]);
        let usage: (i64, i64) = conn
            .query_row(
                "SELECT used_bytes, photo_count FROM items WHERE sk = 'USAGE'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(usage, (70, 2));
    }

    #[test]
    fn usernames_are_lower_cased_with_their_tokens_and_codes() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.execute_batch(MIGRATIONS[1].sql).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO users VALUES ('Ann@X.com', 's1', 'Ann@X.com', 'h', 1, 0),
                                      ('bob@x.com', 's2', 'bob@x.com', 'h', 1, 0),
                                      ('BOB@x.com', 's3', 'BOB@x.com', 'h', 1, 0);
             INSERT INTO refresh_tokens VALUES ('d1', 'Ann@X.com', 9), ('d2', 'BOB@x.com', 9);
             INSERT INTO codes VALUES ('Ann@X.com', 'reset', 'c', 9);",
        )
        .unwrap();
        // This step alone: a later one drops mailed codes.
        conn.execute_batch(MIGRATIONS[2].sql).unwrap();
        let rows = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            rows("SELECT username FROM users ORDER BY sub"),
            ["ann@x.com", "bob@x.com", "BOB@x.com"]
        );
        assert_eq!(
            rows("SELECT username FROM refresh_tokens ORDER BY digest"),
            ["ann@x.com", "BOB@x.com"]
        );
        assert_eq!(rows("SELECT username FROM codes"), ["ann@x.com"]);
    }

    #[test]
    fn photos_stored_before_the_timeline_get_the_place_and_counts_the_stage_writes() {
        use photo_domain::memory::Item;
        use photo_domain::{ContentType, FileName, Photo, PhotoId, Sha256, Timestamp, UserId};
        let mut conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..5] {
            conn.execute_batch(step.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        let owner = UserId::parse("alice").unwrap();
        // Uploaded 2026-09-21; taken 2019-03-31T23:30Z at UTC+2 (April where it was), in 1965,
        // and a photo whose file said nothing.
        let uploaded = Timestamp::from_millis(1_790_000_000_000);
        let taken = [
            (Some(1_554_075_000_000), Some(120)),
            (Some(-147_355_200_000), None),
            (None, None),
        ];
        let mut photos = Vec::new();
        for (n, (at, offset)) in taken.into_iter().enumerate() {
            let id = format!("01ARZ3NDEKTSV4RRFFQ69G5FA{n}");
            let mut photo = Photo::pending(
                PhotoId::parse(&id).unwrap(),
                owner.clone(),
                FileName::parse("a.jpg").unwrap(),
                ContentType::Jpeg,
                1,
                Sha256::from_bytes([n as u8; 32]),
                uploaded,
            );
            photo.taken_at = at.map(Timestamp::from_millis);
            photo.taken_offset_minutes = offset;
            let body = serde_json::to_string(&Item::Photo(photo.clone())).unwrap();
            conn.execute(
                "INSERT INTO items (pk, sk, body, status) VALUES (?1, ?2, ?3, 'PENDING')",
                rusqlite::params![
                    photo_domain::keys::user_pk(&owner),
                    photo_domain::keys::photo_sk(&photo.id),
                    body
                ],
            )
            .unwrap();
            photos.push(photo);
        }
        migrate(&mut conn).unwrap();
        for photo in &photos {
            let tlsk: String = conn
                .query_row(
                    "SELECT tlsk FROM items WHERE sk = ?1",
                    [photo_domain::keys::photo_sk(&photo.id)],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(tlsk, photo_domain::keys::timeline_sk(photo));
        }
        let months: Vec<(String, i64)> = conn
            .prepare("SELECT month, photos FROM timeline_months ORDER BY month DESC")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut expected: Vec<(String, i64)> =
            photos.iter().map(|p| (p.timeline_month(), 1)).collect();
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(months, expected);
        assert_eq!(expected[1].0, "2019-04");
    }

    #[test]
    fn a_file_from_a_later_version_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer than this deployer"), "{err}");
        assert_eq!(version(&conn), SCHEMA_VERSION + 1);
    }
}
