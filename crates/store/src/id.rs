//! Typed ids. Each wraps a `uuid::Uuid` and is stored as `TEXT` in the lowercase hyphenated
//! form (`550e8400-e29b-41d4-a716-446655440000`) on both backends: the same bytes on SQLite and
//! PostgreSQL, readable in a shell, and comparable with the `String`s that dynamic queries bind
//! (`Uuid::to_string()` is that same form).
//!
//! The sqlx impls are generic over the backend, delegating to `String` / `&str`, so one
//! `#[derive(FromRow)]` struct decodes from both `SqliteRow` and `PgRow`.

use std::fmt;
use std::str::FromStr;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) id, as Coder makes them.
            pub fn new_v4() -> Self {
                $name(Uuid::new_v4())
            }
            /// The uuid inside.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                $name(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
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
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <String as Encode<'q, DB>>::encode(self.0.hyphenated().to_string(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&'r str as Decode<'r, DB>>::decode(value)?;
                Ok($name(Uuid::parse_str(text)?))
            }
        }
    )+};
}

typed_id! {
    /// A user.
    UserId;
    /// An organization. Its Everyone group has the same id ([`GroupId::everyone`]).
    OrgId;
    /// A group (or, by the Everyone convention, an org id).
    GroupId;
    /// A custom role.
    CustomRoleId;
    /// An uploaded file.
    FileId;
    /// A provisioner job.
    JobId;
    /// A resource a provisioner job planned.
    JobResourceId;
    /// A template.
    TemplateId;
    /// A template version.
    TemplateVersionId;
    /// A workspace.
    WorkspaceId;
    /// A workspace build.
    WorkspaceBuildId;
    /// An audit log entry.
    AuditLogId;
    /// Any resource an audit row is about (its type is in `resource_type`).
    ResourceId;
}

impl GroupId {
    /// The org's implicit Everyone group, whose id is the org's id (Coder's convention; the
    /// engine's group-ACL rule relies on it).
    pub const fn everyone(org: OrgId) -> GroupId {
        GroupId(org.0)
    }

    /// Whether this id is the Everyone group of `org`.
    pub fn is_everyone_of(self, org: OrgId) -> bool {
        self.0 == org.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_hyphenated_and_parses_back() {
        let id: UserId = "550E8400-E29B-41D4-A716-446655440000".parse().unwrap();
        assert_eq!(id.to_string(), "550e8400-e29b-41d4-a716-446655440000");
        assert_eq!(id.to_string(), id.uuid().to_string());
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
    }
}
