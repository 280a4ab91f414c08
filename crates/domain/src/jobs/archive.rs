//! Unpacking an uploaded template source (a tar archive) into a job's working directory.
//!
//! A small reader of our own rather than a tar crate: it takes regular files and directories
//! only (ustar, with GNU long names and pax `path` records), and skips links and devices, so
//! nothing it writes can point outside the directory. Every path is checked to stay inside it:
//! absolute paths and `..` are refused, not rewritten.

use std::path::{Component, Path, PathBuf};

const BLOCK: usize = 512;

/// Why an archive cannot be unpacked; `Display` is the job's error text.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the template source is not a tar archive: {0}")]
    NotTar(&'static str),
    #[error("the template source has an unsafe path `{0}`")]
    UnsafePath(String),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What was unpacked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Regular files written, by path.
    pub files: Vec<String>,
    /// Entries left out (links, devices), by path.
    pub skipped: Vec<String>,
}

fn octal(field: &[u8]) -> Result<u64, ArchiveError> {
    // GNU base-256 for values that do not fit in octal: high bit set, big-endian.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            n = n.checked_mul(256).ok_or(ArchiveError::NotTar("size too large"))? + u64::from(*b);
        }
        return Ok(n);
    }
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| char::from(*b))
        .collect::<String>()
        .trim()
        .to_owned();
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(&text, 8).map_err(|_| ArchiveError::NotTar("bad number field"))
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn checksum_ok(header: &[u8]) -> Result<bool, ArchiveError> {
    let stored = octal(&header[148..156])?;
    // The checksum field itself counts as eight spaces.
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u64::from(*b) })
        .sum();
    Ok(sum == stored)
}

/// The pax `path` record, if any (`"<len> path=<value>\n"` lines).
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|line| {
        let (_, record) = line.split_once(' ')?;
        record.strip_prefix("path=").map(str::to_owned)
    })
}

/// `name` relative to the archive root, refusing anything that could leave it.
fn safe_path(name: &str) -> Result<Option<PathBuf>, ArchiveError> {
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(ArchiveError::UnsafePath(name.to_owned()));
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn write_error(path: &Path, source: std::io::Error) -> ArchiveError {
    ArchiveError::Write { path: path.display().to_string(), source }
}

/// One entry of an archive, its name already resolved (long names, pax paths, ustar prefixes).
struct Entry<'a> {
    kind: u8,
    name: String,
    body: &'a [u8],
}

/// Calls `visit` on each entry that names a file, directory or other object (GNU long-name and
/// pax records are folded into the entry they name). Stops early when `visit` says so.
fn walk<'a>(
    data: &'a [u8],
    mut visit: impl FnMut(Entry<'a>) -> Result<bool, ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut offset = 0usize;
    let mut long_name: Option<String> = None;
    while offset + BLOCK <= data.len() {
        let header = &data[offset..offset + BLOCK];
        offset += BLOCK;
        if header.iter().all(|b| *b == 0) {
            // End of archive (two zero blocks; one is enough to stop).
            return Ok(());
        }
        if !checksum_ok(header)? {
            return Err(ArchiveError::NotTar("bad header checksum"));
        }
        let size = usize::try_from(octal(&header[124..136])?)
            .map_err(|_| ArchiveError::NotTar("size too large"))?;
        let end = offset.checked_add(size).ok_or(ArchiveError::NotTar("size too large"))?;
        let body = data.get(offset..end).ok_or(ArchiveError::NotTar("truncated entry"))?;
        offset = end.div_ceil(BLOCK) * BLOCK;
        let kind = header[156];
        let mut name = text(&header[..100]);
        let prefix = text(&header[345..500]);
        if &header[257..262] == b"ustar" && !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
        if let Some(long) = long_name.take() {
            name = long;
        }
        match kind {
            // GNU long name, or a pax header: they name the next entry.
            b'L' => long_name = Some(text(body)),
            b'x' => long_name = pax_path(body),
            b'g' => {}
            _ => {
                if !visit(Entry { kind, name, body })? {
                    return Ok(());
                }
            }
        }
    }
    if offset == 0 {
        return Err(ArchiveError::NotTar("empty"));
    }
    // Archives without the end-of-archive blocks are accepted, as GNU tar does.
    Ok(())
}

/// Unpacks `data` into `dest` (an existing, empty directory).
pub fn unpack(data: &[u8], dest: &Path) -> Result<Unpacked, ArchiveError> {
    let mut out = Unpacked::default();
    walk(data, |entry| {
        match entry.kind {
            b'0' | 0 | b'7' => {
                let Some(rel) = safe_path(&entry.name)? else { return Ok(true) };
                let path = dest.join(&rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| write_error(&rel, e))?;
                }
                std::fs::write(&path, entry.body).map_err(|e| write_error(&rel, e))?;
                out.files.push(rel.display().to_string());
            }
            b'5' => {
                if let Some(rel) = safe_path(&entry.name)? {
                    std::fs::create_dir_all(dest.join(&rel)).map_err(|e| write_error(&rel, e))?;
                }
            }
            _ => out.skipped.push(entry.name),
        }
        Ok(true)
    })?;
    Ok(out)
}

/// The contents of the regular file at `path` (relative to the archive root, `./` ignored),
/// if the archive has one; nothing is written anywhere.
pub fn read_file<'a>(data: &'a [u8], path: &str) -> Result<Option<&'a [u8]>, ArchiveError> {
    let wanted = safe_path(path)?;
    let mut found = None;
    walk(data, |entry| {
        if matches!(entry.kind, b'0' | 0 | b'7') && safe_path(&entry.name)? == wanted {
            found = Some(entry.body);
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn header(name: &str, kind: u8, size: usize) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[148..156].copy_from_slice(b"        ");
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn tar(entries: &[(&str, u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, data) in entries {
            out.extend(header(name, *kind, data.len()));
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn unpacks_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("{}/main.tf", "d".repeat(120));
        let data = tar(&[
            ("main.tf", b'0', b"resource {}"),
            ("mod/", b'5', b""),
            ("./mod/x.tf", b'0', b"x"),
            ("././@LongLink", b'L', long.as_bytes()),
            ("ignored", b'0', b"long"),
            ("link", b'2', b""),
        ]);
        let got = unpack(&data, dir.path()).unwrap();
        assert_eq!(got.files, ["main.tf", "mod/x.tf", long.as_str()]);
        assert_eq!(got.skipped, ["link"]);
        assert_eq!(std::fs::read(dir.path().join("main.tf")).unwrap(), b"resource {}");
        assert_eq!(std::fs::read(dir.path().join(&long)).unwrap(), b"long");
    }

    #[test]
    fn reads_one_file_without_unpacking() {
        let data = tar(&[
            ("main.tf", b'0', b"resource {}"),
            ("./README.md", b'0', b"# Hello"),
            ("docs/README.md", b'0', b"nested"),
        ]);
        assert_eq!(read_file(&data, "README.md").unwrap(), Some(&b"# Hello"[..]));
        assert_eq!(read_file(&data, "docs/README.md").unwrap(), Some(&b"nested"[..]));
        assert_eq!(read_file(&data, "missing.md").unwrap(), None);
    }

    #[test]
    fn refuses_escapes_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../evil", "/etc/passwd", "a/../../b"] {
            let err = unpack(&tar(&[(name, b'0', b"x")]), dir.path()).unwrap_err();
            assert!(matches!(err, ArchiveError::UnsafePath(_)), "{name}: {err}");
        }
        let err = unpack(b"PK\x03\x04 this is a zip file, padded out", dir.path()).unwrap_err();
        assert!(matches!(err, ArchiveError::NotTar("empty")), "{err}");
        let mut zip = vec![b'P'; BLOCK];
        zip[1] = b'K';
        assert!(matches!(unpack(&zip, dir.path()), Err(ArchiveError::NotTar(_))));
        let mut truncated = tar(&[("a", b'0', &[7u8; 600])]);
        truncated.truncate(BLOCK + 100);
        assert!(matches!(unpack(&truncated, dir.path()), Err(ArchiveError::NotTar(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
    }
}
