//! A minimal ustar writer for `templates push`: regular files and directories, sorted so the
//! same directory gives the same bytes (files are content-addressed on the server). `.git`
//! and `.terraform` directories are left out, as are symlinks and other special files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{CliError, CliResult};

/// The server refuses larger uploads (Coder's limit).
pub const MAX_BYTES: usize = 10 << 20;

const SKIPPED_DIRS: [&str; 2] = [".git", ".terraform"];

/// What went into the archive.
pub struct Archive {
    pub bytes: Vec<u8>,
    pub files: usize,
    pub skipped: Vec<String>,
}

/// Archives the contents of `dir` (paths relative to it).
pub fn archive(dir: &Path) -> CliResult<Archive> {
    let meta = fs::metadata(dir)
        .map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(CliError::msg(format!("`{}` is not a directory", dir.display())));
    }
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    walk(dir, PathBuf::new(), &mut entries, &mut skipped)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut bytes = Vec::new();
    let mut files = 0;
    for (name, path, is_dir) in &entries {
        let meta = fs::metadata(path)
            .map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", path.display())))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        if *is_dir {
            bytes.extend_from_slice(&header(&format!("{name}/"), 0, 0o755, mtime, b'5')?);
            continue;
        }
        let data = fs::read(path)
            .map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", path.display())))?;
        bytes.extend_from_slice(&header(name, data.len() as u64, file_mode(&meta), mtime, b'0')?);
        bytes.extend_from_slice(&data);
        bytes.resize(bytes.len().div_ceil(512) * 512, 0);
        files += 1;
        if bytes.len() > MAX_BYTES {
            return Err(CliError::msg(format!(
                "`{}` is too large to upload: the limit is 10 MiB",
                dir.display()
            )));
        }
    }
    if files == 0 {
        return Err(CliError::msg(format!("`{}` has no files to upload", dir.display())));
    }
    bytes.resize(bytes.len() + 1024, 0);
    Ok(Archive { bytes, files, skipped })
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 }
}

#[cfg(not(unix))]
fn file_mode(_: &fs::Metadata) -> u32 {
    0o644
}

type Entry = (String, PathBuf, bool);

fn walk(
    dir: &Path,
    rel: PathBuf,
    out: &mut Vec<Entry>,
    skipped: &mut Vec<String>,
) -> CliResult<()> {
    let read = fs::read_dir(dir)
        .map_err(|e| CliError::msg(format!("cannot list `{}`: {e}", dir.display())))?;
    for entry in read {
        let entry =
            entry.map_err(|e| CliError::msg(format!("cannot list `{}`: {e}", dir.display())))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            skipped.push(entry.path().display().to_string());
            continue;
        };
        let rel_path = rel.join(name);
        let Some(rel_text) = rel_path.to_str().map(|s| s.replace('\\', "/")) else {
            continue;
        };
        let kind = entry
            .file_type()
            .map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", entry.path().display())))?;
        if kind.is_dir() {
            if SKIPPED_DIRS.contains(&name) {
                skipped.push(format!("{rel_text}/"));
                continue;
            }
            out.push((rel_text, entry.path(), true));
            walk(&entry.path(), rel_path, out, skipped)?;
        } else if kind.is_file() {
            out.push((rel_text, entry.path(), false));
        } else {
            skipped.push(rel_text);
        }
    }
    Ok(())
}

/// One 512-byte ustar header; long names go into the 155-byte prefix field.
fn header(name: &str, size: u64, mode: u32, mtime: u64, kind: u8) -> CliResult<[u8; 512]> {
    let (prefix, short) = split_name(name)
        .ok_or_else(|| CliError::msg(format!("the path `{name}` is too long for a tar archive")))?;
    let mut h = [0u8; 512];
    h[..short.len()].copy_from_slice(short.as_bytes());
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    Ok(h)
}

/// Zero-padded octal, NUL-terminated, filling the field.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(width);
    field[..width].copy_from_slice(&bytes[start..]);
    field[width] = 0;
}

fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    // Split at a `/` so that the prefix fits 155 bytes and the rest 100.
    name.char_indices().filter(|(_, c)| *c == '/').map(|(i, _)| i).find_map(|i| {
        let (prefix, rest) = (&name[..i], &name[i + 1..]);
        (prefix.len() <= 155 && !rest.is_empty() && rest.len() <= 100).then_some((prefix, rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the archive back with a tiny parser: names, kinds and contents.
    fn entries(bytes: &[u8]) -> Vec<(String, u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at + 512 <= bytes.len() && bytes[at] != 0 {
            let h = &bytes[at..at + 512];
            let field = |r: std::ops::Range<usize>| {
                String::from_utf8_lossy(&h[r]).trim_end_matches('\0').to_owned()
            };
            let size = u64::from_str_radix(field(124..135).trim(), 8).unwrap() as usize;
            let prefix = field(345..500);
            let name = field(0..100);
            let name = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let sum: u32 = h
                .iter()
                .enumerate()
                .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) })
                .sum();
            assert_eq!(
                u32::from_str_radix(field(148..154).trim(), 8).unwrap(),
                sum,
                "checksum of {name}"
            );
            out.push((name, h[156], bytes[at + 512..at + 512 + size].to_vec()));
            at += 512 + size.div_ceil(512) * 512;
        }
        out
    }

    #[test]
    fn archives_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
        fs::create_dir_all(dir.path().join("modules/a")).unwrap();
        fs::write(dir.path().join("modules/a/x.tf"), "").unwrap();
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
        let long = "d".repeat(90);
        fs::create_dir_all(dir.path().join(&long)).unwrap();
        fs::write(dir.path().join(&long).join("f".repeat(40)), "deep").unwrap();

        let a = archive(dir.path()).unwrap();
        assert_eq!(a.files, 3);
        assert_eq!(a.skipped, [".git/"]);
        let got = entries(&a.bytes);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        let long_file = format!("{long}/{}", "f".repeat(40));
        assert_eq!(
            names,
            [
                format!("{long}/").as_str(),
                long_file.as_str(),
                "main.tf",
                "modules/",
                "modules/a/",
                "modules/a/x.tf"
            ]
        );
        assert_eq!(got[2].2, b"resource \"terraform_data\" \"x\" {}\n");
        assert_eq!(got[1].2, b"deep");
        assert_eq!(got[3].1, b'5');
        // Deterministic: the same tree gives the same bytes.
        assert_eq!(archive(dir.path()).unwrap().bytes, a.bytes);
    }

    #[test]
    fn refuses_empty_and_missing_dirs() {
        let dir = tempfile::tempdir().unwrap();
        assert!(archive(dir.path()).err().unwrap().to_string().contains("has no files"));
        assert!(
            archive(&dir.path().join("nope")).err().unwrap().to_string().contains("cannot read")
        );
    }
}
