//! Store rows → wire types.

use atrium_store::DbTime;
use time::OffsetDateTime;

/// A stored time as an `OffsetDateTime` (UTC).
pub fn time(t: DbTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.unix_micros()) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An `OffsetDateTime` as a stored time.
pub fn db_time(t: OffsetDateTime) -> DbTime {
    let micros = t.unix_timestamp_nanos() / 1_000;
    DbTime::from_unix_micros(i64::try_from(micros).unwrap_or(i64::MAX))
}
