//! Packs a directory into a deployment zip, deterministically: entries sorted, fixed
//! timestamps, so the same tree always gives the same `CodeSha256`. Executable bits are
//! kept (a custom runtime's `bootstrap` must stay executable); symlinks are stored as links.

use anyhow::{Context, bail};
use nimbus_api::limits::{CODE_UNZIPPED_BYTES_MAX, CODE_ZIP_BYTES_MAX};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

/// Files packed at most (Lambda packages with more are unusual and slow to extract).
const FILES_MAX: usize = 65_535;

/// Reads `path`: a `.zip` as is, a directory packed.
pub fn load_code(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("read {}", path.display()))?;
    if meta.is_dir() {
        zip_dir(path)
    } else {
        crate::files::read_capped(path, CODE_ZIP_BYTES_MAX, "a deployment zip")
    }
}

/// Zips the contents of `dir` (paths relative to it).
pub fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let fixed_time = zip::DateTime::from_date_and_time(2020, 1, 1, 0, 0, 0)
        .map_err(|_| anyhow::anyhow!("bad fixed zip timestamp"))?;
    let mut unzipped: u64 = 0;
    for rel in files {
        let full = dir.join(&rel);
        let name = rel.to_string_lossy().replace('\\', "/");
        let meta = std::fs::symlink_metadata(&full)?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full)?;
            let opts = SimpleFileOptions::default().last_modified_time(fixed_time);
            out.add_symlink(name, target.to_string_lossy(), opts)?;
            continue;
        }
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(fixed_time)
            .unix_permissions(mode);
        // What Lambda would refuse to unzip is refused before it is read into memory.
        unzipped = unzipped.saturating_add(meta.len());
        if unzipped > CODE_UNZIPPED_BYTES_MAX {
            bail!(
                "{} holds more than {CODE_UNZIPPED_BYTES_MAX} bytes; Lambda's unzipped limit",
                dir.display()
            );
        }
        out.start_file(name, opts)?;
        out.write_all(&std::fs::read(&full)?)?;
    }
    Ok(out.finish()?.into_inner())
}

/// Zips in-memory files `(name, content, executable)`, deterministically.
pub fn zip_files(files: &[(String, Vec<u8>, bool)]) -> anyhow::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let fixed_time = zip::DateTime::from_date_and_time(2020, 1, 1, 0, 0, 0)
        .map_err(|_| anyhow::anyhow!("bad fixed zip timestamp"))?;
    for (name, content, exec) in files {
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(fixed_time)
            .unix_permissions(if *exec { 0o755 } else { 0o644 });
        out.start_file(name.as_str(), opts)?;
        out.write_all(content)?;
    }
    Ok(out.finish()?.into_inner())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let file_type = entry.file_type()?;
        let rel = path.strip_prefix(root)?.to_path_buf();
        if file_type.is_dir() {
            collect(root, &path, out)?;
        } else if file_type.is_file() || file_type.is_symlink() {
            out.push(rel);
        }
        if out.len() > FILES_MAX {
            bail!("{} holds more than {FILES_MAX} files", root.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_deterministic_and_keeps_exec_bits() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("lib")).expect("mkdir");
        std::fs::write(dir.path().join("lib/a.py"), "x = 1\n").expect("write");
        std::fs::write(dir.path().join("bootstrap"), "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(
            dir.path().join("bootstrap"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        let a = zip_dir(dir.path()).expect("zip");
        let b = zip_dir(dir.path()).expect("zip");
        assert_eq!(a, b, "same tree, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).expect("read back");
        let boot = archive.by_name("bootstrap").expect("bootstrap");
        assert_eq!(boot.unix_mode().map(|m| m & 0o777), Some(0o755));
    }
}
