//! Bodies as Go marshals them: an unset `uuid.UUID` is the zero UUID, and a nil slice or map
//! is `null`. Use with `#[serde(default, deserialize_with = "...")]`.

use serde::{Deserialize, Deserializer};
use uuid::Uuid;

/// An optional id where the zero UUID (Go's unset `uuid.UUID`) means absent.
pub fn nil_uuid_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
    Ok(Option::<Uuid>::deserialize(d)?.filter(|id| !id.is_nil()))
}

/// A list or map where `null` (Go's nil slice or map) means empty.
pub fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(default, deserialize_with = "nil_uuid_as_none")]
        id: Option<Uuid>,
        #[serde(default, deserialize_with = "null_as_empty")]
        list: Vec<String>,
    }

    #[test]
    fn zero_uuid_and_null_list() {
        let b: Body =
            serde_json::from_str(r#"{"id":"00000000-0000-0000-0000-000000000000","list":null}"#)
                .unwrap();
        assert_eq!(b.id, None);
        assert!(b.list.is_empty());
        let b: Body = serde_json::from_str(r#"{"id":null}"#).unwrap();
        assert_eq!(b.id, None);
        let b: Body = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(b.id, None);
        let id = Uuid::new_v4();
        let b: Body = serde_json::from_str(&format!(r#"{{"id":"{id}","list":["a"]}}"#)).unwrap();
        assert_eq!(b.id, Some(id));
        assert_eq!(b.list, vec!["a".to_owned()]);
    }
}
