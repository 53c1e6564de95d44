//! Deployment packages: safe extraction of untrusted Lambda zips and content-addressed storage.
//!
//! - [`extract`] unpacks a zip held in memory into a fresh, empty directory under explicit
//!   limits. It never calls the `zip` crate's own `extract()` (GHSA-94vh-gphv-8pm8 /
//!   CVE-2025-29787: symlinks earlier in an archive let later entries escape the target). The
//!   `zip` crate parses the central directory, inflates and checks CRCs; the policy (names,
//!   limits, modes, symlinks, no-follow writes) lives here.
//! - [`CodeStore`] keeps each accepted zip once per SHA-256 under `<data-dir>/code`, with the
//!   extracted tree next to it, so a package is unpacked once per code hash.
//!
//! Everything here is synchronous and does blocking file I/O: call it from `spawn_blocking`.
//!
//! Extraction policy, decided once:
//! - Names: relative, `/`-separated, no `..`, no backslash, no NUL, no drive letter, no empty
//!   component; `.` components are dropped. Names are bytes to Linux: `A` and `a`, or NFC and
//!   NFD spellings, are different files. `...` is an ordinary name (`..././x` stays inside).
//! - Duplicates: a repeated raw name is an invalid zip; two names that normalise to one path
//!   (`a`, `./a`) fail on the second, which is never allowed to overwrite the first.
//! - Symlinks: allowed only with a relative target that stays inside the package, resolved
//!   lexically from the link's directory, and not passing through another symlink entry.
//!   Nothing is ever created through a symlink. Zip has no hard-link entries.
//! - Modes: files `0o755` if any execute bit was set, else `0o644`; directories `0o755`;
//!   setuid, setgid and sticky dropped. Device, FIFO and socket entries become regular files
//!   holding the entry's bytes: the kernel objects are never created. Entries without a unix
//!   mode (made on Windows) are `0o644` files. Modification times are not restored.
//! - Rejected as invalid zips: encryption, compression other than stored/deflate, CRC
//!   mismatch, truncation, corrupt central directory, entries sharing bytes (overlap bombs).

mod error;
mod extract;
mod names;
mod store;
mod tree;

#[cfg(test)]
mod tests_extract;
#[cfg(test)]
mod tests_store;
#[cfg(test)]
mod testzip;

pub use error::PackageError;
pub use extract::{ExtractStats, extract, extract_with_limits};
pub use store::{CodeHash, CodeStore, StoredCode};

/// Largest zip accepted, in bytes. AWS sets it: `CodeSizeZipped` (50 MiB direct upload).
pub const ZIP_BYTES_MAX: u64 = 52_428_800;

/// Largest total of bytes written while extracting (file contents plus symlink targets).
/// AWS sets it: `CodeSizeUnzipped` (250 MiB, code and layers together). Counted on bytes
/// actually written, because the sizes declared in the zip can lie.
pub const UNZIPPED_BYTES_MAX: u64 = 262_144_000;

/// Most entries in the central directory. Ours, not AWS's: the classic (non-ZIP64) zip entry
/// limit; large `node_modules` trees fit. Checked before anything is written.
pub const ENTRIES_MAX: u64 = 65_535;

/// Most filesystem objects created (files, symlinks, explicit and implicit directories). Ours:
/// stops a few thousand entries with deep, distinct paths from creating millions of
/// directories. Twice [`ENTRIES_MAX`] so an archive without directory entries still fits.
pub const CREATED_NODES_MAX: u64 = 2 * ENTRIES_MAX;

/// Longest entry name or symlink target, in bytes. Linux `PATH_MAX`.
pub const PATH_BYTES_MAX: usize = 4096;

/// Longest single path component, in bytes. Linux `NAME_MAX`.
pub const COMPONENT_BYTES_MAX: usize = 255;

/// Deepest directory nesting of an entry. Ours: real packages stay well under 64 levels; the
/// cap bounds the per-entry path-walk work.
pub const DEPTH_MAX: usize = 256;

/// Limits for one extraction. [`Limits::default`] gives the constants above; tests and callers
/// that must share the unzipped budget with layers can lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`ZIP_BYTES_MAX`].
    pub zip_bytes_max: u64,
    /// See [`UNZIPPED_BYTES_MAX`].
    pub unzipped_bytes_max: u64,
    /// See [`ENTRIES_MAX`].
    pub entries_max: u64,
    /// See [`CREATED_NODES_MAX`].
    pub created_nodes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            zip_bytes_max: ZIP_BYTES_MAX,
            unzipped_bytes_max: UNZIPPED_BYTES_MAX,
            entries_max: ENTRIES_MAX,
            created_nodes_max: CREATED_NODES_MAX,
        }
    }
}
