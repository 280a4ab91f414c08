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

/// What [`upload`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The stored file: the new one, or the one already holding these bytes.
    pub file: File,
    /// Whether this uploader had not uploaded these bytes before (Coder's 201 vs 200).
    pub new_for_uploader: bool,
}

const INSERT_UPLOADER: &str = "INSERT INTO file_uploaders (file_id, user_id, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (file_id, user_id) DO NOTHING";
const IS_UPLOADER: &str = "SELECT COUNT(*) FROM file_uploaders WHERE file_id = $1 AND user_id = $2";

/// Stores the content unless a file with the same hash exists, and records `new.created_by`
/// as one of its uploaders, in one transaction. Each uploader owns the file they uploaded
/// (rbac.md §2), so the same bytes from two users are one row with two uploaders.
pub async fn upload(db: impl Into<Db<'_>>, new: &NewFile<'_>) -> Result<Upload, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    let upload = on_conn!(tx, |c| {
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
        let file = file.ok_or(NOT_FOUND)?;
        let added = sqlx::query(INSERT_UPLOADER)
            .bind(file.id)
            .bind(new.created_by)
            .bind(new.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected();
        Upload { file, new_for_uploader: added > 0 }
    });
    tx.commit().await?;
    Ok(upload)
}

/// Whether `user` uploaded the file's bytes (and so owns the file).
pub async fn is_uploader(
    db: impl Into<Db<'_>>,
    file: FileId,
    user: UserId,
) -> Result<bool, StoreError> {
    let mut conn = db.into().conn().await?;
    let n: i64 = on_conn!(conn, |c| sqlx::query_scalar(IS_UPLOADER)
        .bind(file)
        .bind(user)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}
