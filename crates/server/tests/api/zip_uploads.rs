//! `POST /files` with a zip body, as Coder takes it: `application/zip` (or Windows'
//! `application/x-zip-compressed`) is stored as its tar form, so a version imports from it
//! like from a tar; a broken zip is a 400 in Coder's words.

use std::io::Write;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

/// A zip of `files` (deflated), with a directory entry.
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o640);
    out.add_directory("modules/", options).unwrap();
    for (name, body) in files {
        out.start_file(*name, options).unwrap();
        out.write_all(body.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

async fn upload_as(by: &Client, content_type: &str, bytes: Vec<u8>) -> Reply {
    by.send_raw(
        by.request(Method::POST, "/api/v2/files").header(CONTENT_TYPE, content_type).body(bytes),
    )
    .await
}

both_backends!(zip_uploads_are_stored_as_tar_and_import, |s: TestServer| async move {
    let main_tf = format!("resource \"terraform_data\" \"x\" {{}}\n# {}\n", unique("z"));
    let archive = zip_of(&[
        ("main.tf", &main_tf),
        ("README.md", "# Zipped\n"),
        ("modules/m.tf", "# nested\n"),
    ]);
    let r = upload_as(&s.owner, "application/zip", archive.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = uuid_of(&r.body["hash"]);
    // The same zip again is the same file.
    let again = upload_as(&s.owner, "application/x-zip-compressed", archive).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(uuid_of(&again.body["hash"]), file);

    // Stored as tar: the download is a ustar archive holding the files and the directory.
    let download = s.owner.request(Method::GET, &format!("/api/v2/files/{file}"));
    let download = download.header("Coder-Session-Token", s.owner.token.clone().unwrap());
    let response = download.send().await.unwrap();
    assert_eq!(response.headers()[CONTENT_TYPE], "application/x-tar");
    let tar = response.bytes().await.unwrap();
    assert_eq!(&tar[257..262], b"ustar", "a ustar header first");
    let text = String::from_utf8_lossy(&tar);
    assert!(text.contains("modules/") && text.contains(&main_tf) && text.contains("# nested"));

    // A version imports from it; its README becomes the version's readme.
    let org = s.default_org;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file, "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["readme"], "# Zipped\n");
    wait_for_version(&s.owner, uuid_of(&r.body["id"])).await;

    // Not a zip at all.
    let r = upload_as(&s.owner, "application/zip", b"PK but not really".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Incomplete .zip archive file.");
    let r = upload_as(&s.owner, "application/gzip", vec![1, 2, 3]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Unsupported content type header \"application/gzip\".");
    s.stop().await;
});
