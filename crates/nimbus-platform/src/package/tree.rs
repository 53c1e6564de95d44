//! Creating files, directories and symlinks strictly beneath one directory fd.
//!
//! Every lookup refuses symlinks: `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS)`, or on kernels without `openat2` (before 5.6, or a seccomp filter
//! that answers ENOSYS) a walk of `openat(O_NOFOLLOW | O_DIRECTORY)` one component at a time.
//! Leaves are created with `O_CREAT | O_EXCL | O_NOFOLLOW`, `mkdirat` or `symlinkat`, none of
//! which follow or replace an existing name. Paths handed in here are already validated
//! (normal components only), so `..` never reaches the kernel.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Set once `openat2` answered ENOSYS; later lookups walk component by component.
static OPENAT2_MISSING: AtomicBool = AtomicBool::new(false);

/// Mode of every directory we create: traversable and readable by the sandbox's uid.
const DIR_MODE: u32 = 0o755;

/// Mode a new file has while it is being written; set to its final mode afterwards.
const FILE_MODE_WHILE_WRITING: u32 = 0o600;

/// The extraction root, held open so nothing is resolved from a path string again.
pub(crate) struct Tree {
    root: OwnedFd,
    /// Always use the per-component walk instead of `openat2`.
    force_walk: bool,
}

impl Tree {
    /// Open `dir` (trusted: chosen by the caller) as the root of all later operations.
    pub fn open(dir: &Path) -> io::Result<Tree> {
        let root = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Tree {
            root,
            force_walk: false,
        })
    }

    /// Use the per-component `openat` walk even where `openat2` exists (tests cover both).
    pub fn with_walk(mut self, force_walk: bool) -> Tree {
        self.force_walk = force_walk;
        self
    }

    /// Open the existing directory `rel` (`""` is the root) without following any symlink.
    /// Errors: ENOENT missing, ENOTDIR a component is a file, ELOOP a component is a symlink.
    pub fn open_dir(&self, rel: &str) -> Result<OwnedFd, Errno> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if !self.force_walk && !OPENAT2_MISSING.load(Ordering::Relaxed) {
            let path = if rel.is_empty() { "." } else { rel };
            // RESOLVE_NO_SYMLINKS covers the last component too and answers ELOOP; adding
            // O_NOFOLLOW would turn that into a less telling ENOTDIR.
            let resolve =
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&self.root, path, flags, Mode::empty(), resolve) {
                Err(Errno::NOSYS) => OPENAT2_MISSING.store(true, Ordering::Relaxed),
                other => return other,
            }
        }
        let flags = flags | OFlags::NOFOLLOW;
        let mut fd = rustix::fs::openat(&self.root, ".", flags, Mode::empty())?;
        // Bounded by the number of components of a validated path.
        for component in rel.split('/').filter(|c| !c.is_empty()) {
            fd = match rustix::fs::openat(&fd, component, flags, Mode::empty()) {
                Ok(next) => next,
                // O_NOFOLLOW | O_DIRECTORY on a symlink gives ENOTDIR; report it as openat2
                // does, so callers see one error for "goes through a symlink".
                Err(Errno::NOTDIR) if is_symlink(&fd, component) => return Err(Errno::LOOP),
                Err(e) => return Err(e),
            };
        }
        Ok(fd)
    }

    /// Make sure directory `rel` exists, creating missing ancestors (implicit directories).
    /// Returns the open directory and how many directories were created.
    ///
    /// Work is proportional to the directories created: on ENOENT we look upwards for the
    /// deepest existing ancestor, then create downwards from it.
    pub fn ensure_dir(&self, rel: &str) -> Result<(OwnedFd, u64), Errno> {
        match self.open_dir(rel) {
            Ok(fd) => return Ok((fd, 0)),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
        // ends[i] = byte length of the prefix made of components 0..=i.
        let mut ends: Vec<usize> = Vec::new();
        let mut pos = 0usize;
        for component in rel.split('/') {
            pos += component.len();
            ends.push(pos);
            pos += 1;
        }
        // `have` = number of leading components known to exist.
        let mut have = ends.len().saturating_sub(1);
        let mut fd = loop {
            if have == 0 {
                break self.open_dir("")?;
            }
            match self.open_dir(&rel[..ends[have - 1]]) {
                Ok(fd) => break fd,
                Err(Errno::NOENT) => have -= 1,
                Err(e) => return Err(e),
            }
        };
        let mut created = 0u64;
        for (i, end) in ends.iter().enumerate().skip(have) {
            let start = if i == 0 { 0 } else { ends[i - 1] + 1 };
            let name = &rel[start..*end];
            rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(DIR_MODE))?;
            created += 1;
            let child = rustix::fs::openat(
                &fd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            // mkdirat's mode is filtered by the umask; set it exactly.
            rustix::fs::fchmod(&child, Mode::from_raw_mode(DIR_MODE))?;
            fd = child;
        }
        Ok((fd, created))
    }

    /// Create a new regular file `name` in `dir`. Fails with EEXIST if anything (file,
    /// directory, symlink) already has that name.
    pub fn create_file(dir: &OwnedFd, name: &str) -> Result<File, Errno> {
        let fd = rustix::fs::openat(
            dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE_WHILE_WRITING),
        )?;
        Ok(File::from(fd))
    }

    /// Set the final mode of a file we created.
    pub fn set_mode(file: &File, mode: u32) -> Result<(), Errno> {
        rustix::fs::fchmod(file, Mode::from_raw_mode(mode))
    }

    /// Create symlink `name` in `dir` pointing at `target`. Fails with EEXIST if taken.
    pub fn create_symlink(dir: &OwnedFd, name: &str, target: &str) -> Result<(), Errno> {
        rustix::fs::symlinkat(target, dir, name)
    }
}

fn is_symlink(dir: &OwnedFd, name: &str) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
}

/// Remove everything inside `dir`, leaving `dir` itself. Never follows symlinks:
/// `remove_dir_all` deletes a symlink, not its target, and `file_type` does not follow.
pub(crate) fn clear_dir(dir: &Path) -> io::Result<()> {
    // Bounded by the number of entries we created.
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
