//! Column value types shared by the query modules: closed sets of words stored as `TEXT`
//! (each backed by a named `CHECK` constraint in the migrations), JSON stored as `TEXT`, and ACL
//! action sets stored as `INTEGER` bitmasks.

use std::fmt;

use atrium_engine::ActionSet;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::id::{GroupId, UserId};

/// Declares an enum stored as one of a fixed set of words.
macro_rules! text_enum {
    ($($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? })+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored word (also Coder's wire value).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a stored word.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: Database> Type<DB> for $name
        where
            String: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $name
        where
            &'static str: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&'static str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let s = <&'r str as Decode<'r, DB>>::decode(value)?;
                $name::parse(s).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " `{}` in the database"), s).into()
                })
            }
        }
    )+};
}

text_enum! {
    /// A user's status (Coder's `user_status`).
    UserStatus { Active = "active", Dormant = "dormant", Suspended = "suspended" }

    /// How a user or an API key logs in (Coder's `login_type`).
    LoginType {
        Password = "password",
        Github = "github",
        Oidc = "oidc",
        Token = "token",
        None = "none",
    }

    /// Where a group's membership comes from.
    GroupSource { User = "user", Oidc = "oidc" }

    /// What a provisioner job does.
    JobKind {
        TemplateVersionImport = "template_version_import",
        WorkspaceBuild = "workspace_build",
        TemplateVersionDryRun = "template_version_dry_run",
    }

    /// A provisioner log line's level.
    LogLevel { Trace = "trace", Debug = "debug", Info = "info", Warn = "warn", Error = "error" }

    /// What a workspace build does.
    BuildTransition { Start = "start", Stop = "stop", Delete = "delete" }

    /// Why a workspace build was started.
    BuildReason {
        Initiator = "initiator",
        Autostart = "autostart",
        Autostop = "autostop",
        Dormancy = "dormancy",
        Suspended = "suspended",
    }
}

/// A JSON value stored as `TEXT` on both backends (not `JSONB`: one portable schema, and no
/// query probes JSON; see the crate docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T, DB: Database> Type<DB> for JsonText<T>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, T: Serialize, DB: Database> Encode<'q, DB> for JsonText<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, DB>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r, T: DeserializeOwned, DB: Database> Decode<'r, DB> for JsonText<T>
where
    &'r str: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(JsonText(serde_json::from_str(<&'r str as Decode<'r, DB>>::decode(value)?)?))
    }
}

/// An object's ACL: per user and per group (the Everyone group's id is the org id), the actions
/// granted. Entries with an empty set are never stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acl {
    /// Sorted by user id.
    pub users: Vec<(UserId, ActionSet)>,
    /// Sorted by group id.
    pub groups: Vec<(GroupId, ActionSet)>,
}

/// The `INTEGER` column value of an ACL action set: [`ActionSet::bits`] (17 bits, so it fits an
/// `i32` on both backends; `authz_sql` tests it with `actions & mask <> 0`).
pub fn acl_bits(set: ActionSet) -> i32 {
    // INVARIANT(action-set-17-bits): `ActionSet` keeps only 16 action bits and the wildcard bit.
    i32::try_from(set.bits()).unwrap_or(i32::MAX)
}

/// The action set of an ACL column value; unknown bits are dropped.
pub fn acl_set(bits: i32) -> ActionSet {
    ActionSet::from_bits(u32::try_from(bits).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_engine::{Action, Wild};

    #[test]
    fn acl_bits_round_trip() {
        let set: ActionSet =
            [Wild::Any, Wild::Is(Action::Read), Wild::Is(Action::Stop)].into_iter().collect();
        assert_eq!(acl_set(acl_bits(set)), set);
        assert_eq!(acl_set(acl_bits(ActionSet::EMPTY)), ActionSet::EMPTY);
    }

    #[test]
    fn words_round_trip() {
        for s in UserStatus::ALL {
            assert_eq!(UserStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(LoginType::parse("oidc"), Some(LoginType::Oidc));
        assert_eq!(BuildReason::parse("nope"), None);
    }
}
