//! Safe extraction of an untrusted deployment zip.
//!
//! Two passes over the central directory:
//! 1. check only, nothing written: entry count, duplicate names, overlapping entries
//!    (Fifield's bomb), every name, encryption, compression method, entry type, and the sum of
//!    declared sizes; collect the symlink paths;
//! 2. write, in archive order, counting the bytes actually produced by the decompressor.
//!
//! On any error the target directory is emptied (it stays in place; the caller created it).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Cursor, Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::io::Errno;
use zip::read::ZipFileEntry;
use zip::{CompressionMethod, ZipArchive};

use super::error::quote_name;
use super::names::{EntryPath, check_symlink_target, parse_entry_name};
use super::tree::{Tree, clear_dir};
use super::{Limits, PATH_BYTES_MAX, PackageError};

/// Copy buffer size: large enough that syscalls don't dominate, small enough for the stack
/// of concurrent extractions.
const COPY_BUFFER_BYTES: usize = 64 * 1024;

/// Unix file-type bits in a zip entry's mode (`S_IFMT`), and the two types we honour.
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Any of the three execute bits.
const EXEC_BITS: u32 = 0o111;

/// Final modes. Always world-readable so an unprivileged sandbox uid can read the code;
/// setuid, setgid and sticky bits are never carried over.
const FILE_MODE_EXEC: u32 = 0o755;
const FILE_MODE_PLAIN: u32 = 0o644;

/// What `extract` produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Central-directory entries processed.
    pub entries: u64,
    /// Regular files written.
    pub files: u64,
    /// Directories created, explicit entries and implicit parents alike.
    pub dirs: u64,
    /// Symlinks created.
    pub symlinks: u64,
    /// Bytes written: file contents plus symlink targets. This is the unzipped size.
    pub bytes_written: u64,
}

/// How an entry is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A regular file with its final mode. Device, FIFO and socket entries land here too:
    /// a package has no use for them and a plain file with their bytes is harmless.
    File {
        mode: u32,
    },
    Symlink,
}

/// One entry after the pass-1 checks.
struct Planned {
    name: String,
    path: EntryPath,
    kind: Kind,
    /// Uncompressed size from the central directory; may lie.
    declared_size: u64,
}

/// Extract `zip` into `target`, which must exist and be empty, with the default [`Limits`].
///
/// On error `target` is left empty (not removed). Entries are written in archive order;
/// a symlink entry is allowed only if its target is relative and stays inside the package,
/// and nothing is ever created through a symlink.
pub fn extract(zip: &[u8], target: &Path) -> Result<ExtractStats, PackageError> {
    extract_with_limits(zip, target, &Limits::default())
}

/// [`extract`] with explicit limits.
pub fn extract_with_limits(
    zip: &[u8],
    target: &Path,
    limits: &Limits,
) -> Result<ExtractStats, PackageError> {
    extract_inner(zip, target, limits, false)
}

/// Test entry point that forces the `openat` walk instead of `openat2`.
#[cfg(test)]
pub(crate) fn extract_with_walk(
    zip: &[u8],
    target: &Path,
    limits: &Limits,
) -> Result<ExtractStats, PackageError> {
    extract_inner(zip, target, limits, true)
}

fn extract_inner(
    zip: &[u8],
    target: &Path,
    limits: &Limits,
    force_walk: bool,
) -> Result<ExtractStats, PackageError> {
    let size = zip.len() as u64;
    if size > limits.zip_bytes_max {
        return Err(PackageError::TooLarge {
            size,
            limit: limits.zip_bytes_max,
        });
    }
    ensure_empty(target)?;
    let tree = Tree::open(target)
        .map_err(|e| PackageError::io(format!("open {}", target.display()), e))?
        .with_walk(force_walk);
    match extract_into(zip, &tree, limits) {
        Ok(stats) => Ok(stats),
        Err(err) => {
            if let Err(clear_err) = clear_dir(target) {
                tracing::warn!(
                    target = %target.display(),
                    error = %clear_err,
                    "could not empty the extraction directory after a failed extraction"
                );
            }
            Err(err)
        }
    }
}

/// The target must be an existing, empty directory: we never mix a package with old files,
/// and only a directory we filled ourselves may be emptied on failure.
fn ensure_empty(target: &Path) -> Result<(), PackageError> {
    let context = || format!("read extraction directory {}", target.display());
    let mut entries = std::fs::read_dir(target).map_err(|e| PackageError::io(context(), e))?;
    if entries.next().is_some() {
        return Err(PackageError::io(
            context(),
            io::Error::new(io::ErrorKind::AlreadyExists, "directory is not empty"),
        ));
    }
    Ok(())
}

fn extract_into(zip: &[u8], tree: &Tree, limits: &Limits) -> Result<ExtractStats, PackageError> {
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .map_err(|e| PackageError::invalid(format!("cannot read the archive: {e}")))?;
    let symlinks = check_archive(&mut archive, limits)?;
    let mut writer = Writer {
        tree,
        limits,
        symlinks,
        stats: ExtractStats::default(),
        nodes: 0,
        buf: vec![0u8; COPY_BUFFER_BYTES],
        last_parent: None,
    };
    // Bounded: archive.len() <= limits.entries_max, checked in pass 1.
    for index in 0..archive.len() {
        let planned = plan(&archive, index, Checks::Derive)?;
        writer.stats.entries += 1;
        match planned.kind {
            Kind::Dir => writer.dir(&planned)?,
            Kind::File { mode } => writer.file(&mut archive, index, &planned, mode)?,
            Kind::Symlink => writer.symlink(&mut archive, index, &planned)?,
        }
    }
    Ok(writer.stats)
}

/// Pass-2 state: what has been written so far, against the limits.
struct Writer<'t> {
    tree: &'t Tree,
    limits: &'t Limits,
    /// Paths of every symlink entry in the archive (from pass 1).
    symlinks: HashSet<String>,
    stats: ExtractStats,
    /// Files, symlinks and directories created so far.
    nodes: u64,
    buf: Vec<u8>,
    last_parent: Option<ParentDir>,
}

impl Writer<'_> {
    fn dir(&mut self, planned: &Planned) -> Result<(), PackageError> {
        if planned.path.path.is_empty() {
            return Ok(()); // `./`: the root itself.
        }
        let (_, created) = self
            .tree
            .ensure_dir(&planned.path.path)
            .map_err(|e| fs_error(&planned.name, e, "create directory"))?;
        self.add_nodes(created, 0)
    }

    fn file(
        &mut self,
        archive: &mut ZipArchive<Cursor<&[u8]>>,
        index: usize,
        planned: &Planned,
        mode: u32,
    ) -> Result<(), PackageError> {
        let name = &planned.name;
        let (parent, leaf) = planned.path.split_parent();
        let (dir, created) = parent_dir(self.tree, &mut self.last_parent, parent)
            .map_err(|e| fs_error(name, e, "create parent directory"))?;
        let mut out = Tree::create_file(dir, leaf).map_err(|e| fs_error(name, e, "create file"))?;
        self.add_nodes(created, 1)?;
        let remaining = self
            .limits
            .unzipped_bytes_max
            .saturating_sub(self.stats.bytes_written);
        let mut entry = archive
            .by_index(index)
            .map_err(|e| entry_invalid(name, &e))?;
        let written = copy_capped(
            &mut entry,
            &mut out,
            remaining,
            &mut self.buf,
            name,
            self.limits,
        )?;
        self.stats.bytes_written += written;
        Tree::set_mode(&out, mode).map_err(|e| fs_error(name, e, "set file mode"))?;
        self.stats.files += 1;
        Ok(())
    }

    fn symlink(
        &mut self,
        archive: &mut ZipArchive<Cursor<&[u8]>>,
        index: usize,
        planned: &Planned,
    ) -> Result<(), PackageError> {
        let name = &planned.name;
        let link_target = read_link_target(archive, index, name)?;
        check_symlink_target(&planned.path, &link_target, &self.symlinks)
            .map_err(|reason| PackageError::unsafe_entry(name, reason))?;
        let total = self.stats.bytes_written + link_target.len() as u64;
        if total > self.limits.unzipped_bytes_max {
            return Err(PackageError::UnzippedTooLarge {
                limit: self.limits.unzipped_bytes_max,
            });
        }
        let (parent, leaf) = planned.path.split_parent();
        let (dir, created) = parent_dir(self.tree, &mut self.last_parent, parent)
            .map_err(|e| fs_error(name, e, "create parent directory"))?;
        Tree::create_symlink(dir, leaf, &link_target)
            .map_err(|e| fs_error(name, e, "create symlink"))?;
        self.add_nodes(created, 1)?;
        self.stats.bytes_written = total;
        self.stats.symlinks += 1;
        Ok(())
    }

    /// Count created directories and leaves against the node cap. A cap overshoot is at most
    /// one entry's worth (DEPTH_MAX directories), and the whole tree is removed anyway.
    fn add_nodes(&mut self, dirs: u64, leaves: u64) -> Result<(), PackageError> {
        self.stats.dirs += dirs;
        self.nodes += dirs + leaves;
        if self.nodes > self.limits.created_nodes_max {
            return Err(PackageError::TooManyEntries {
                what: "files and directories (counting implicit directories)",
                count: self.nodes,
                limit: self.limits.created_nodes_max,
            });
        }
        Ok(())
    }
}

/// The directory the previous file or symlink went into, kept open: archives list files
/// directory by directory, so this saves a lookup (of up to DEPTH_MAX components) per entry.
/// Reuse is safe because nothing we created is ever removed, renamed or replaced.
struct ParentDir {
    rel: String,
    fd: OwnedFd,
}

/// Open (creating if needed) directory `rel`, reusing `cache` when it is the same one.
/// Returns the directory and how many directories were created.
fn parent_dir<'a>(
    tree: &Tree,
    cache: &'a mut Option<ParentDir>,
    rel: &str,
) -> Result<(&'a OwnedFd, u64), Errno> {
    let (entry, created) = match cache.take() {
        Some(hit) if hit.rel == rel => (hit, 0),
        _ => {
            let (fd, created) = tree.ensure_dir(rel)?;
            let entry = ParentDir {
                rel: rel.to_owned(),
                fd,
            };
            (entry, created)
        }
    };
    let entry = cache.insert(entry);
    Ok((&entry.fd, created))
}

/// Pass 1: everything that can be judged from the central directory, before any write.
/// Returns the paths of all symlink entries.
fn check_archive(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
) -> Result<HashSet<String>, PackageError> {
    let count = archive.len() as u64;
    if count > limits.entries_max {
        return Err(PackageError::TooManyEntries {
            what: "zip entries",
            count,
            limit: limits.entries_max,
        });
    }
    // The zip crate keys entries by name, so a repeated name would silently hide one.
    if archive.has_duplicate_names() {
        return Err(PackageError::invalid(
            "the same entry name appears more than once",
        ));
    }
    // Legitimate tools never let two entries share bytes; bombs do (one DEFLATE stream
    // referenced by thousands of entries). Rejecting overlap also bounds the compressed input
    // we inflate to the size of the zip.
    match archive.has_overlapping_entries() {
        Ok(false) => {}
        Ok(true) => return Err(PackageError::invalid("entries overlap each other")),
        Err(e) => return Err(PackageError::invalid(format!("bad entry offsets: {e}"))),
    }
    let mut symlinks = HashSet::new();
    let mut declared = 0u64;
    // Bounded by `count`, checked above.
    for index in 0..archive.len() {
        let planned = plan(archive, index, Checks::Full)?;
        if planned.kind != Kind::Dir {
            // Declared sizes are only a fast early rejection; pass 2 counts real bytes.
            declared = declared.saturating_add(planned.declared_size);
            if declared > limits.unzipped_bytes_max {
                return Err(PackageError::UnzippedTooLarge {
                    limit: limits.unzipped_bytes_max,
                });
            }
        }
        if planned.kind == Kind::Symlink {
            symlinks.insert(planned.path.path);
        }
    }
    Ok(symlinks)
}

/// Which checks `plan` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// Pass 1: everything, including the zip crate's `enclosed_name()` second opinion.
    Full,
    /// Pass 2: the entry already passed `Full`; only derive the path and type again.
    Derive,
}

/// Validate one entry's metadata and decide how to write it. Pure: called in both passes,
/// so pass 2 needs no per-entry memory from pass 1.
fn plan(
    archive: &ZipArchive<Cursor<&[u8]>>,
    index: usize,
    checks: Checks,
) -> Result<Planned, PackageError> {
    let entry = archive
        .by_index_data(index)
        .map_err(|e| PackageError::invalid(format!("entry {index}: {e}")))?;
    let name = entry
        .name()
        .map_err(|e| PackageError::invalid(format!("entry {index}: bad name: {e}")))?
        .into_owned();
    let path = parse_entry_name(&name).map_err(|r| PackageError::unsafe_entry(&name, r))?;
    let kind = classify(entry.unix_mode(), path.dir_syntax)
        .map_err(|r| PackageError::unsafe_entry(&name, r))?;
    if checks == Checks::Full {
        check_entry(&entry, &name, &path, kind)?;
    }
    Ok(Planned {
        name,
        path,
        kind,
        declared_size: entry.size(),
    })
}

/// The pass-1-only checks: the zip crate's view of the path, encryption, compression.
fn check_entry(
    entry: &ZipFileEntry<'_>,
    name: &str,
    path: &EntryPath,
    kind: Kind,
) -> Result<(), PackageError> {
    // Second opinion from the zip crate; both must agree on the same relative path.
    match entry.enclosed_name() {
        Some(enclosed) if enclosed == Path::new(&path.path) => {}
        Some(_) => {
            return Err(PackageError::unsafe_entry(
                name,
                "path is read differently by the zip crate",
            ));
        }
        None => {
            return Err(PackageError::unsafe_entry(
                name,
                "path escapes the package root",
            ));
        }
    }
    if entry.encrypted() {
        return Err(PackageError::invalid(format!(
            "entry '{}' is encrypted",
            quote_name(name)
        )));
    }
    if kind != Kind::Dir {
        check_compression(entry, name)?;
    }
    Ok(())
}

/// Decide the entry type from the unix mode (if the zip was made on unix) and the name.
fn classify(unix_mode: Option<u32>, dir_syntax: bool) -> Result<Kind, &'static str> {
    let file_type = unix_mode.map(|m| m & S_IFMT);
    if file_type == Some(S_IFLNK) {
        if dir_syntax {
            return Err("symlink entry name ends in '/'");
        }
        return Ok(Kind::Symlink);
    }
    if dir_syntax || file_type == Some(S_IFDIR) {
        return Ok(Kind::Dir);
    }
    let exec = unix_mode.is_some_and(|m| m & EXEC_BITS != 0);
    let mode = if exec {
        FILE_MODE_EXEC
    } else {
        FILE_MODE_PLAIN
    };
    Ok(Kind::File { mode })
}

/// Only the methods Lambda zips use; the crate is built without the others.
fn check_compression(entry: &ZipFileEntry<'_>, name: &str) -> Result<(), PackageError> {
    match entry.compression() {
        CompressionMethod::Stored | CompressionMethod::Deflated => Ok(()),
        other => Err(PackageError::invalid(format!(
            "entry '{}' uses unsupported compression method {other:?}",
            quote_name(name)
        ))),
    }
}

/// Copy one entry, stopping one byte past what the unzipped budget still allows: the
/// declared size can lie, so the decompressor's real output is what counts. Reaching the end
/// of the entry is what makes the zip crate verify the CRC.
pub(super) fn copy_capped(
    src: &mut impl Read,
    dst: &mut File,
    remaining: u64,
    buf: &mut [u8],
    name: &str,
    limits: &Limits,
) -> Result<u64, PackageError> {
    let mut limited = src.take(remaining.saturating_add(1));
    let mut written = 0u64;
    // Bounded: every iteration consumes at least one byte of at most remaining + 1.
    loop {
        let n = match limited.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(entry_invalid(name, &e)),
        };
        written += n as u64;
        if written > remaining {
            return Err(PackageError::UnzippedTooLarge {
                limit: limits.unzipped_bytes_max,
            });
        }
        dst.write_all(&buf[..n])
            .map_err(|e| PackageError::io(format!("write '{}'", quote_name(name)), e))?;
    }
    Ok(written)
}

/// A symlink entry's content is its target: at most PATH_BYTES_MAX bytes of UTF-8.
fn read_link_target(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
) -> Result<String, PackageError> {
    let entry = archive
        .by_index(index)
        .map_err(|e| entry_invalid(name, &e))?;
    let mut raw = Vec::new();
    entry
        .take(PATH_BYTES_MAX as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| entry_invalid(name, &e))?;
    if raw.len() > PATH_BYTES_MAX {
        return Err(PackageError::unsafe_entry(
            name,
            format!("symlink target is longer than {PATH_BYTES_MAX} bytes"),
        ));
    }
    String::from_utf8(raw)
        .map_err(|_| PackageError::unsafe_entry(name, "symlink target is not UTF-8"))
}

fn entry_invalid(name: &str, err: &dyn std::fmt::Display) -> PackageError {
    PackageError::invalid(format!("entry '{}': {err}", quote_name(name)))
}

/// Turn a refusal from the kernel into the package's fault where it is one.
fn fs_error(name: &str, errno: Errno, action: &str) -> PackageError {
    match errno {
        Errno::LOOP => PackageError::unsafe_entry(name, "path goes through a symlink"),
        Errno::NOTDIR => PackageError::unsafe_entry(name, "a component of the path is a file"),
        Errno::EXIST => PackageError::unsafe_entry(name, "duplicate entry: the path exists"),
        Errno::XDEV => PackageError::unsafe_entry(name, "path escapes the package root"),
        Errno::NAMETOOLONG => PackageError::unsafe_entry(name, "name too long"),
        other => PackageError::io(format!("{action} '{}'", quote_name(name)), other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_modes() {
        assert_eq!(classify(None, false), Ok(Kind::File { mode: 0o644 }));
        assert_eq!(classify(None, true), Ok(Kind::Dir));
        assert_eq!(
            classify(Some(0o100_755), false),
            Ok(Kind::File { mode: 0o755 })
        );
        assert_eq!(
            classify(Some(0o100_010), false),
            Ok(Kind::File { mode: 0o755 })
        );
        assert_eq!(
            classify(Some(0o104_644), false),
            Ok(Kind::File { mode: 0o644 })
        );
        // FIFO, char device, block device, socket: plain files.
        for t in [0o010_000, 0o020_000, 0o060_000, 0o140_000] {
            assert_eq!(
                classify(Some(t | 0o644), false),
                Ok(Kind::File { mode: 0o644 })
            );
        }
        assert_eq!(classify(Some(0o040_755), false), Ok(Kind::Dir));
        assert_eq!(classify(Some(0o120_777), false), Ok(Kind::Symlink));
        assert!(classify(Some(0o120_777), true).is_err());
    }
}
