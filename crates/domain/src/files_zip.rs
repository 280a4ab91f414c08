//! Zip uploads, as Coder takes them: `POST /files` with `application/zip` (or Windows'
//! `application/x-zip-compressed`) is converted to a ustar archive and stored as
//! `application/x-tar`, so imports read one format. Regular files and directories are kept
//! (with their Unix mode when the zip records one); the converted archive obeys the same size
//! limit as an upload.

use std::io::Read;

use crate::{Error, Kind};

/// The content types taken as zip.
pub const ZIP_TYPES: [&str; 2] = ["application/zip", "application/x-zip-compressed"];

/// The tar form of a zip archive, at most `limit` bytes.
pub fn zip_to_tar(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))
        .map_err(|e| Error::bad_request("Incomplete .zip archive file.").detail(e.to_string()))?;
    let too_large = || {
        Error::new(Kind::PayloadTooLarge, "File is too large.")
            .detail(format!("The unpacked archive exceeds {} MiB.", limit >> 20))
    };
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Error::bad_request("Invalid .zip archive entry.").detail(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| Error::bad_request("Invalid .zip archive entry.").detail(e.to_string()))?
            .into_owned();
        let dir = entry.is_dir();
        let mode = entry.unix_mode().map_or(if dir { 0o755 } else { 0o644 }, |m| m & 0o7777);
        let mut body = Vec::new();
        if !dir {
            let room = limit.saturating_sub(out.len()) as u64;
            (&mut entry).take(room + 1).read_to_end(&mut body).map_err(|e| {
                Error::bad_request("Invalid .zip archive entry.").detail(format!("{name}: {e}"))
            })?;
        }
        let header = header(&name, mode, body.len(), dir)?;
        out.extend_from_slice(&header);
        out.extend_from_slice(&body);
        out.resize(out.len().div_ceil(512) * 512, 0);
        if out.len() > limit {
            return Err(too_large());
        }
    }
    // Two zero blocks end a tar archive.
    out.resize(out.len() + 1024, 0);
    if out.len() > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// A ustar header; names longer than 100 bytes are split into prefix and name at a `/`.
fn header(name: &str, mode: u32, size: usize, dir: bool) -> Result<[u8; 512], Error> {
    let long = || {
        Error::bad_request("Invalid .zip archive entry.")
            .detail(format!("{name}: the path is too long"))
    };
    let (prefix, short) = if name.len() <= 100 {
        ("", name)
    } else {
        let split = name
            .char_indices()
            .filter(|(i, c)| {
                *c == '/' && *i <= 155 && name.len() - i - 1 <= 100 && i + 1 < name.len()
            })
            .map(|(i, _)| i)
            .next_back()
            .ok_or_else(long)?;
        (&name[..split], &name[split + 1..])
    };
    let mut h = [0u8; 512];
    h[..short.len()].copy_from_slice(short.as_bytes());
    put_octal(&mut h[100..108], u64::from(mode));
    put_octal(&mut h[108..116], 0);
    put_octal(&mut h[116..124], 0);
    put_octal(&mut h[124..136], size as u64);
    put_octal(&mut h[136..148], 0);
    h[148..156].copy_from_slice(b"        ");
    h[156] = if dir { b'5' } else { b'0' };
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// `value` as zero-padded octal filling `field` but its last byte (a NUL).
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(&text.as_bytes()[text.len() - width..]);
    field[width] = 0;
}
