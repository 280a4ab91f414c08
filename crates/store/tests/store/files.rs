use atrium_store::files::{self, NewFile};
use atrium_store::{DbTime, FileId, StoreError};

use crate::{fixtures, store_test};

store_test! {
    async fn files_are_stored_once_per_hash(db) {
        let u = fixtures::user(&db.store, "u").await;
        let data: Vec<u8> = vec![0x1f, 0x8b, 0x00, 0xff, 0xfe, 0x00];
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let new = NewFile { id: FileId::new_v4(), hash, created_by: u.id, created_at: DbTime::now(), mimetype: "application/x-tar", data: &data };
        let first = files::insert_or_get(&db.store, &new).await.unwrap();
        assert_eq!((first.id, first.data.as_slice(), first.mimetype.as_str()), (new.id, data.as_slice(), "application/x-tar"));
        // The same content again yields the first file.
        let again = files::insert_or_get(&db.store, &NewFile { id: FileId::new_v4(), ..new.clone() }).await.unwrap();
        assert_eq!(again, first);
        assert_eq!(files::get(&db.store, first.id).await.unwrap(), first);
        assert_eq!(files::get_by_hash(&db.store, hash).await.unwrap(), first);
        // Empty content is a file too.
        let empty = files::insert_or_get(&db.store, &NewFile { id: FileId::new_v4(), hash: "e3b0", data: &[], ..new }).await.unwrap();
        assert!(empty.data.is_empty());
        assert!(matches!(files::get(&db.store, FileId::new_v4()).await, Err(StoreError::NotFound { entity: "file" })));
    }
}

store_test! {
    async fn each_uploader_of_the_same_bytes_is_recorded(db) {
        let a = fixtures::user(&db.store, "a").await;
        let b = fixtures::user(&db.store, "b").await;
        let data = b"tar bytes".to_vec();
        let hash = "5d1e0f0a6b2c4e8f9a7b3c1d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f";
        let new = |by| NewFile { id: FileId::new_v4(), hash, created_by: by, created_at: DbTime::now(), mimetype: "application/x-tar", data: &data };
        let first = files::upload(&db.store, &new(a.id)).await.unwrap();
        assert!(first.new_for_uploader);
        assert_eq!(first.file.created_by, a.id);
        let again = files::upload(&db.store, &new(a.id)).await.unwrap();
        assert_eq!(again, files::Upload { file: first.file.clone(), new_for_uploader: false });
        assert!(!files::is_uploader(&db.store, first.file.id, b.id).await.unwrap());
        // Another user's upload of the same bytes is the same file, now theirs too.
        let theirs = files::upload(&db.store, &new(b.id)).await.unwrap();
        assert_eq!((theirs.file.id, theirs.new_for_uploader), (first.file.id, true));
        assert_eq!(theirs.file.created_by, a.id);
        assert!(files::is_uploader(&db.store, first.file.id, a.id).await.unwrap());
        assert!(files::is_uploader(&db.store, first.file.id, b.id).await.unwrap());
        assert!(!files::is_uploader(&db.store, FileId::new_v4(), a.id).await.unwrap());
    }
}
