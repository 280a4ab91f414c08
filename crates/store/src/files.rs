//! Content-addressed uploads (template sources): one row per sha256 of the content.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{FileId, UserId};
use crate::time::DbTime;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "file" };

/// A file row, with its content.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct File {
    pub id: FileId,
    /// Lowercase hex sha256 of `data`.
    pub hash: String,
    pub created_by: UserId,
    pub created_at: DbTime,
    pub mimetype: String,
    pub data: Vec<u8>,
}

/// What [`insert_or_get`] writes when the content is new.
#[derive(Clone, Debug)]
pub struct NewFile<'a> {
    pub id: FileId,
    /// Lowercase hex sha256 of `data`, computed by the caller (the server hashes uploads as
    /// they stream in).
    pub hash: &'a str,
    pub created_by: UserId,
    pub created_at: DbTime,
    pub mimetype: &'a str,
    pub data: &'a [u8],
}

macro_rules! cols {
    () => {
        "id, hash, created_by, created_at, mimetype, data"
    };
}

const INSERT: &str = "INSERT INTO files (id, hash, created_by, created_at, mimetype, data) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING";
const GET: &str = concat!("SELECT ", cols!(), " FROM files WHERE id = $1");
const GET_BY_HASH: &str = concat!("SELECT ", cols!(), " FROM files WHERE hash = $1");

/// Stores the content unless a file with the same hash exists, and returns the stored file
/// either way (so the same upload twice yields the first file's id).
pub async fn insert_or_get(db: impl Into<Db<'_>>, new: &NewFile<'_>) -> Result<File, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        sqlx::query(INSERT)
            .bind(new.id)
            .bind(new.hash)
            .bind(new.created_by)
            .bind(new.created_at)
            .bind(new.mimetype)
            .bind(new.data)
            .execute(&mut *c)
            .await?;
        let file: Option<File> =
            sqlx::query_as(GET_BY_HASH).bind(new.hash).fetch_optional(&mut *c).await?;
        file.ok_or(NOT_FOUND)
    })
}

/// A file by id.
pub async fn get(db: impl Into<Db<'_>>, id: FileId) -> Result<File, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// A file by content hash.
pub async fn get_by_hash(db: impl Into<Db<'_>>, hash: &str) -> Result<File, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_HASH).bind(hash).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}
