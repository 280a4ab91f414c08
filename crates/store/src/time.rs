//! [`DbTime`]: the one timestamp type of the schema.
//!
//! Stored as `BIGINT` unix microseconds, UTC, on both backends: an integer orders correctly
//! (SQLite text timestamps with a variable number of fraction digits do not: `…:49.5Z` sorts
//! before `…:49Z`), compares exactly, and is the same value on SQLite and PostgreSQL. Values are
//! truncated to the microsecond when made, like Coder's `dbtime.Now()`, so a time written and read
//! back is equal to the one in memory.

use std::ops::{Add, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A UTC instant with microsecond precision, stored as unix microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DbTime(i64);

impl DbTime {
    /// The unix epoch.
    pub const EPOCH: DbTime = DbTime(0);

    /// Now, truncated to the microsecond.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// From unix microseconds.
    pub const fn from_unix_micros(micros: i64) -> Self {
        DbTime(micros)
    }

    /// Unix microseconds, as stored.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Whole unix seconds (rounded toward negative infinity).
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// From a `SystemTime`, truncated to the microsecond; saturates far outside ±292,000 years.
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => DbTime(i64::try_from(after.as_micros()).unwrap_or(i64::MAX)),
            Err(before) => {
                // Truncate toward the past so ordering is kept: -1.5 µs becomes -2 µs.
                let d = before.duration();
                let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
                let partial = d.subsec_nanos() % 1_000 != 0;
                DbTime(micros.saturating_neg().saturating_sub(i64::from(partial)))
            }
        }
    }

    /// As a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_micros(self.0.unsigned_abs());
        if self.0 >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
    }
}

impl Add<Duration> for DbTime {
    type Output = DbTime;
    /// Adds a duration, truncated to the microsecond (saturating).
    fn add(self, d: Duration) -> DbTime {
        DbTime(self.0.saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)))
    }
}

impl Sub<Duration> for DbTime {
    type Output = DbTime;
    /// Subtracts a duration, truncated to the microsecond (saturating).
    fn sub(self, d: Duration) -> DbTime {
        DbTime(self.0.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)))
    }
}

impl From<SystemTime> for DbTime {
    fn from(t: SystemTime) -> Self {
        Self::from_system_time(t)
    }
}

impl From<DbTime> for SystemTime {
    fn from(t: DbTime) -> Self {
        t.to_system_time()
    }
}

// Generic over the backend: a `DbTime` is an `i64` wherever `i64` is supported.
impl<DB: Database> Type<DB> for DbTime
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for DbTime
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode(self.0, buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for DbTime
where
    i64: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbTime(<i64 as Decode<'r, DB>>::decode(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_is_truncated_to_micros() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let db = DbTime::from_system_time(t);
        assert_eq!(db.unix_micros(), 1_700_000_000_123_456);
        assert_eq!(db.to_system_time(), UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_000));
        assert_eq!(DbTime::from_system_time(db.to_system_time()), db);
    }

    #[test]
    fn times_before_the_epoch_truncate_toward_the_past() {
        let t = UNIX_EPOCH - Duration::from_nanos(1_500);
        assert_eq!(DbTime::from_system_time(t).unix_micros(), -2);
        assert_eq!(
            DbTime::from_unix_micros(-2).to_system_time(),
            UNIX_EPOCH - Duration::from_micros(2)
        );
        assert_eq!(DbTime::from_unix_micros(-1).unix_seconds(), -1);
    }

    #[test]
    fn arithmetic_and_order() {
        let a = DbTime::from_unix_micros(10);
        assert!(a < a + Duration::from_micros(1));
        assert_eq!(a + Duration::from_secs(1) - Duration::from_secs(1), a);
    }
}
