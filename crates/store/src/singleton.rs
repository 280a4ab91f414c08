//! Duties one replica at a time should do (sweeps, purges). Every replica runs the loop; each
//! pass takes a transaction-scoped advisory lock with a fixed id on PostgreSQL and skips the
//! pass when another replica holds it (the lock ends with the transaction, so a pooled
//! connection never keeps it). SQLite serves one server process, whose write transactions are
//! already serialized: the lock is always granted.

use crate::db::{Tx, TxConn};
use crate::error::StoreError;

/// A singleton duty, with its fixed lock id (next to the migration and owner-set locks in
/// [`crate::dialect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    DormancySweep,
    StaleJobSweep,
    Purge,
}

impl Duty {
    const fn lock_id(self) -> i64 {
        match self {
            Duty::DormancySweep => 7235353718220399991,
            Duty::StaleJobSweep => 7235353718220399992,
            Duty::Purge => 7235353718220399993,
        }
    }
}

/// Takes `duty`'s lock for the rest of the transaction: `false` when another replica holds it
/// (skip this pass; that replica is doing it).
pub async fn try_lock(tx: &mut Tx<'_>, duty: Duty) -> Result<bool, StoreError> {
    match &mut tx.conn {
        TxConn::Sqlite(_) => Ok(true),
        TxConn::Pg(t) => Ok(sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(duty.lock_id())
            .fetch_one(&mut **t)
            .await?),
    }
}
