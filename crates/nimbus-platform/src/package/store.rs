//! Content-addressed code storage: one zip and one extracted tree per SHA-256.
//!
//! Layout under the root (`<data-dir>/code`):
//! - `<hex>.zip`: the zip as uploaded (the source of truth, fsynced);
//! - `<hex>/`: its extracted tree (a cache; rebuilt from the zip if missing);
//! - `.staging-<random>` and `.staging-<random>.zip`: work in progress, swept at startup.
//!
//! A tree appears under its final name only by `rename`, after its contents were synced, so
//! `<hex>/` is always complete. The zip is renamed into place before the tree, so a tree never
//! exists without its zip (unless someone deletes files by hand).

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::extract::{ExtractStats, extract_with_limits};
use super::{Limits, PackageError};

/// Prefix of work-in-progress names; never a valid hex hash, so never confused with code.
const STAGING_PREFIX: &str = ".staging-";

/// Suffix of stored zips.
const ZIP_SUFFIX: &str = ".zip";

/// Length of a SHA-256 in lowercase hex.
const HEX_LEN: usize = 64;

/// Mode of an extracted tree's top directory: readable by the sandbox's uid.
const TREE_ROOT_MODE: u32 = 0o755;

/// A SHA-256 as 64 lowercase hex characters. The only way code hashes become paths, so a
/// value from a database or request can never name `..` or anything outside the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeHash(String);

impl CodeHash {
    /// Accept exactly 64 lowercase hex characters.
    pub fn from_hex(hex: &str) -> Option<CodeHash> {
        let valid = hex.len() == HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| CodeHash(hex.to_owned()))
    }

    /// The hash of a raw digest.
    pub fn from_digest(digest: &[u8; 32]) -> CodeHash {
        let mut hex = String::with_capacity(HEX_LEN);
        for byte in digest {
            hex.push(hex_digit(byte >> 4));
            hex.push(hex_digit(byte & 0x0f));
        }
        CodeHash(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

impl fmt::Display for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CodeHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A package in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// SHA-256 of the zip, lowercase hex: the storage key.
    pub sha256_hex: CodeHash,
    /// Lambda's `CodeSha256`: base64 (standard, padded) of the raw 32-byte digest.
    pub sha256_b64: String,
    /// Lambda's `CodeSize`: bytes of the zip.
    pub size: u64,
    /// Bytes of the extracted tree (file contents plus symlink targets).
    pub unzipped_size: u64,
    /// The extracted tree, `<root>/<hex>`.
    pub dir: PathBuf,
}

/// Code storage under one root directory. Synchronous; call from `spawn_blocking`.
///
/// Concurrent `put`s, even of the same zip, are safe. `gc` and `sweep_staging` are not safe
/// against concurrent `put`s of the hashes they remove: run `sweep_staging` at startup
/// before serving, and exclude `put` while `gc` runs (or include in-flight hashes in `keep`).
#[derive(Debug, Clone)]
pub struct CodeStore {
    root: PathBuf,
    limits: Limits,
}

impl CodeStore {
    /// Open (creating if needed) a store at `root` with the default [`Limits`].
    pub fn open(root: impl Into<PathBuf>) -> io::Result<CodeStore> {
        CodeStore::open_with_limits(root, Limits::default())
    }

    /// Open a store whose extractions use `limits`.
    pub fn open_with_limits(root: impl Into<PathBuf>, limits: Limits) -> io::Result<CodeStore> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(CodeStore { root, limits })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the extracted tree of `hash` lives (whether or not it exists).
    pub fn dir(&self, hash: &CodeHash) -> PathBuf {
        self.root.join(hash.as_str())
    }

    /// Where the zip of `hash` lives (whether or not it exists).
    pub fn zip_path(&self, hash: &CodeHash) -> PathBuf {
        self.root.join(format!("{hash}{ZIP_SUFFIX}"))
    }

    /// Both the zip and its extracted tree are present.
    pub fn exists(&self, hash: &CodeHash) -> bool {
        let dir_ok = fs::symlink_metadata(self.dir(hash)).is_ok_and(|m| m.is_dir());
        let zip_ok = fs::symlink_metadata(self.zip_path(hash)).is_ok_and(|m| m.is_file());
        dir_ok && zip_ok
    }

    /// Store a zip: hash it, and unless that hash is already stored, extract it and keep the
    /// zip. Extraction happens once per code hash.
    pub fn put(&self, zip: &[u8]) -> Result<StoredCode, PackageError> {
        let size = zip.len() as u64;
        if size > self.limits.zip_bytes_max {
            return Err(PackageError::TooLarge {
                size,
                limit: self.limits.zip_bytes_max,
            });
        }
        let digest: [u8; 32] = Sha256::digest(zip).into();
        let hash = CodeHash::from_digest(&digest);
        let sha256_b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        let dir = self.dir(&hash);
        let unzipped_size = if self.exists(&hash) {
            measure_tree(&dir)
                .map_err(|e| PackageError::io(format!("measure {}", dir.display()), e))?
        } else {
            self.install(&hash, zip, true)?.bytes_written
        };
        Ok(StoredCode {
            sha256_hex: hash,
            sha256_b64,
            size,
            unzipped_size,
            dir,
        })
    }

    /// The extracted tree of `hash`, re-extracting it from the stored zip if it is missing
    /// (e.g. after the tree cache was wiped).
    pub fn ensure_extracted(&self, hash: &CodeHash) -> Result<PathBuf, PackageError> {
        let dir = self.dir(hash);
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Ok(dir);
        }
        let zip_path = self.zip_path(hash);
        let zip = read_capped(&zip_path, self.limits.zip_bytes_max)?;
        let digest: [u8; 32] = Sha256::digest(&zip).into();
        if CodeHash::from_digest(&digest) != *hash {
            return Err(PackageError::io(
                format!("read {}", zip_path.display()),
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stored zip does not match its hash",
                ),
            ));
        }
        self.install(hash, &zip, false)?;
        Ok(dir)
    }

    /// Remove `.staging-*` leftovers of a crash. Call at startup, before any `put`.
    /// Returns how many were removed.
    pub fn sweep_staging(&self) -> io::Result<usize> {
        let mut removed = 0usize;
        for (name, is_dir) in self.list()? {
            if name.starts_with(STAGING_PREFIX) {
                remove_entry(&self.root.join(&name), is_dir)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Remove every stored zip and tree whose hash is not in `keep`. Names that are not code
    /// hashes are left alone. Returns how many hashes were removed.
    pub fn gc(&self, keep: &HashSet<String>) -> io::Result<usize> {
        let mut removed: HashSet<String> = HashSet::new();
        for (name, is_dir) in self.list()? {
            let hex = name.strip_suffix(ZIP_SUFFIX).unwrap_or(&name);
            if CodeHash::from_hex(hex).is_none() || keep.contains(hex) {
                continue;
            }
            remove_entry(&self.root.join(&name), is_dir)?;
            removed.insert(hex.to_owned());
        }
        Ok(removed.len())
    }

    /// Sum of the stored zips' sizes (Lambda's `TotalCodeSize` usage).
    pub fn total_zip_bytes(&self) -> io::Result<u64> {
        let mut total = 0u64;
        for (name, is_dir) in self.list()? {
            let is_code_zip = name
                .strip_suffix(ZIP_SUFFIX)
                .is_some_and(|hex| CodeHash::from_hex(hex).is_some());
            if is_code_zip && !is_dir {
                total += fs::symlink_metadata(self.root.join(&name))?.len();
            }
        }
        Ok(total)
    }

    /// Names directly under the root (UTF-8 only; ours always are) and whether each is a real
    /// directory. Collected first so removals never race the directory iterator.
    fn list(&self) -> io::Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if let Ok(name) = entry.file_name().into_string() {
                out.push((name, entry.file_type()?.is_dir()));
            }
        }
        Ok(out)
    }

    /// Extract into a fresh staging directory, optionally store the zip, then move the tree
    /// into place. If another `put` of the same hash got there first, ours is dropped.
    fn install(
        &self,
        hash: &CodeHash,
        zip: &[u8],
        write_zip: bool,
    ) -> Result<ExtractStats, PackageError> {
        let staging = self.staging_path("");
        fs::create_dir(&staging)
            .map_err(|e| PackageError::io(format!("create {}", staging.display()), e))?;
        let result = self.fill_and_publish(hash, zip, write_zip, &staging);
        if result.is_err() {
            // Best effort: sweep_staging catches whatever this misses.
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    fn fill_and_publish(
        &self,
        hash: &CodeHash,
        zip: &[u8],
        write_zip: bool,
        staging: &Path,
    ) -> Result<ExtractStats, PackageError> {
        let io_err = |what: &str, e: io::Error| PackageError::io(what.to_owned(), e);
        fs::set_permissions(staging, Permissions::from_mode(TREE_ROOT_MODE))
            .map_err(|e| io_err("set staging mode", e))?;
        let stats = extract_with_limits(zip, staging, &self.limits)?;
        // One syncfs instead of an fsync per file: the tree must be durable before its
        // rename makes it visible under the final name.
        let staging_dir = File::open(staging).map_err(|e| io_err("open staging", e))?;
        rustix::fs::syncfs(&staging_dir).map_err(|e| io_err("sync extracted tree", e.into()))?;
        if write_zip {
            self.write_zip(hash, zip)?;
        }
        let dir = self.dir(hash);
        match fs::rename(staging, &dir) {
            Ok(()) => {}
            // Another put of the same hash won the race: theirs is identical, keep it.
            Err(e) if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) => {
                tracing::debug!(hash = %hash, error = %e, "code tree already installed");
                fs::remove_dir_all(staging).map_err(|e| io_err("remove staging", e))?;
            }
            Err(e) => return Err(io_err("move extracted tree into place", e)),
        }
        sync_dir(&self.root).map_err(|e| io_err("sync code directory", e))?;
        Ok(stats)
    }

    /// Write the zip durably: temp file, fsync, rename, fsync the directory.
    fn write_zip(&self, hash: &CodeHash, zip: &[u8]) -> Result<(), PackageError> {
        let tmp = self.staging_path(ZIP_SUFFIX);
        let result = (|| {
            let mut file = File::create_new(&tmp)?;
            file.write_all(zip)?;
            file.sync_all()?;
            fs::rename(&tmp, self.zip_path(hash))?;
            sync_dir(&self.root)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|e| PackageError::io(format!("store zip {hash}"), e))
    }

    fn staging_path(&self, suffix: &str) -> PathBuf {
        let nonce: u64 = rand::random();
        self.root
            .join(format!("{STAGING_PREFIX}{nonce:016x}{suffix}"))
    }
}

/// Read a stored zip, refusing one larger than `max` (it cannot have been stored by `put`).
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, PackageError> {
    let context = || format!("read {}", path.display());
    let file = File::open(path).map_err(|e| PackageError::io(context(), e))?;
    let mut zip = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut zip)
        .map_err(|e| PackageError::io(context(), e))?;
    let size = zip.len() as u64;
    if size > max {
        return Err(PackageError::TooLarge { size, limit: max });
    }
    Ok(zip)
}

fn remove_entry(path: &Path, is_dir: bool) -> io::Result<()> {
    if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Bytes in a tree we extracted: file sizes plus symlink target lengths, the same count as
/// `ExtractStats::bytes_written`. Never follows symlinks.
fn measure_tree(dir: &Path) -> io::Result<u64> {
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    // Bounded by the number of directories in a tree we created ourselves.
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let entry = entry?;
            let meta = entry.metadata()?; // DirEntry::metadata does not follow symlinks.
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}
