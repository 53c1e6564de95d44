//! Disk images backing each sandbox's `/tmp`.
//!
//! Lambda's `/tmp` is disk, not memory: a 128 MB function may write 400 MB into a 512 MB
//! `/tmp`. A tmpfs would be charged to the function's memory cgroup, so each environment gets
//! a sparse ext4 image of exactly its `EphemeralStorage.Size`, mounted through a loop device.
//! Page cache of those writes is reclaimable, so the memory limit only slows them down.
//!
//! `mke2fs` runs once per size to make a template; each environment gets a sparse copy of
//! it (a few hundred KB of metadata actually written), deleted when the environment goes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const MIB: u64 = 1024 * 1024;
/// ext4 block size used for every image (4 KiB, the page size).
const BLOCK_BYTES: u64 = 4096;
/// Free space may exceed the configured size by at most this much (we never give less).
const SIZE_SLACK_BYTES: u64 = MIB;
/// Calibration rounds when sizing an image so its free space matches the request.
const CALIBRATION_ROUNDS_MAX: u32 = 6;

/// Creates and removes `/tmp` images in one directory.
pub struct ScratchImages {
    dir: PathBuf,
    mke2fs: PathBuf,
    templates: Mutex<HashMap<u32, PathBuf>>,
}

impl ScratchImages {
    /// Uses `dir` (created, and emptied of images left by a previous run).
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "img") {
                let _ = std::fs::remove_file(&path);
            }
        }
        let mke2fs = find_mke2fs().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "mke2fs not found (install e2fsprogs)",
            )
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            mke2fs,
            templates: Mutex::new(HashMap::new()),
        })
    }

    /// A fresh image for `/tmp` of `size_mb` free megabytes, named after `owner`.
    pub fn create(&self, size_mb: u32, owner: &str) -> io::Result<PathBuf> {
        let template = self.template(size_mb)?;
        let path = self.dir.join(format!("{owner}-{size_mb}.img"));
        sparse_copy(&template, &path)?;
        Ok(path)
    }

    fn template(&self, size_mb: u32) -> io::Result<PathBuf> {
        let mut templates = self
            .templates
            .lock()
            .map_err(|_| io::Error::other("template lock poisoned"))?;
        if let Some(path) = templates.get(&size_mb) {
            return Ok(path.clone());
        }
        let path = self.dir.join(format!("template-{size_mb}.ext4"));
        make_calibrated_image(&self.mke2fs, &path, u64::from(size_mb) * MIB)?;
        templates.insert(size_mb, path.clone());
        Ok(path)
    }
}

fn find_mke2fs() -> Option<PathBuf> {
    ["/usr/sbin/mke2fs", "/sbin/mke2fs", "/usr/bin/mke2fs"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Makes an ext4 image whose free space is `wanted` bytes (within [`SIZE_SLACK_BYTES`]),
/// adjusting the image size for the filesystem's own metadata.
fn make_calibrated_image(mke2fs: &Path, path: &Path, wanted: u64) -> io::Result<()> {
    let mut size = wanted;
    for _ in 0..CALIBRATION_ROUNDS_MAX {
        make_image(mke2fs, path, size)?;
        let free = free_bytes(path)?;
        if free >= wanted && free - wanted <= SIZE_SLACK_BYTES {
            return Ok(());
        }
        // Metadata grows a little with size, so step by the shortfall and re-measure.
        let next = if free < wanted {
            size + (wanted - free)
        } else {
            size - (free - wanted) + SIZE_SLACK_BYTES / 2
        };
        size = next.div_ceil(BLOCK_BYTES) * BLOCK_BYTES;
    }
    Err(io::Error::other(format!(
        "could not size a /tmp image for {wanted} bytes"
    )))
}

fn make_image(mke2fs: &Path, path: &Path, size: u64) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    File::create(path)?.set_len(size)?;
    // No journal (the contents die with the environment), no reserved blocks, no resize
    // reservation: every block is the function's.
    let out = Command::new(mke2fs)
        .args([
            "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-i", "16384",
        ])
        .args(["-O", "^has_journal,^resize_inode"])
        .args([
            "-E",
            "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner=0:0",
        ])
        .arg(path)
        .env_clear()
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "mke2fs failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Bytes an unprivileged writer can use on an unmounted ext4 image, from its superblock
/// (offset 1024): s_blocks_count_lo at +4, s_free_blocks_count_lo at +12, s_log_block_size at
/// +24. Once mounted, ext4 keeps min(2 %, 4096 clusters) in reserve against delayed-allocation
/// ENOSPC (`ext4_calculate_resv_clusters`), so that is not the user's either.
fn free_bytes(path: &Path) -> io::Result<u64> {
    /// ext4's default reserve: 2 % of the clusters, at most this many.
    const EXT4_RESV_CLUSTERS_MAX: u64 = 4096;
    let mut sb = [0u8; 1024];
    File::open(path)?.read_exact_at(&mut sb, 1024)?;
    let word = |at: usize| u32::from_le_bytes([sb[at], sb[at + 1], sb[at + 2], sb[at + 3]]);
    let blocks = u64::from(word(4));
    let free_blocks = u64::from(word(12));
    let block_size = 1024u64 << word(24);
    let reserved = (blocks / 50).min(EXT4_RESV_CLUSTERS_MAX);
    Ok(free_blocks.saturating_sub(reserved) * block_size)
}

/// Copies only the allocated extents of `from` (SEEK_DATA/SEEK_HOLE), so a 10 GB image
/// costs its few MB of metadata.
fn sparse_copy(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let len = src.metadata()?.len();
    let tmp = to.with_extension("partial");
    let mut dst = File::create(&tmp)?;
    dst.set_len(len)?;
    let mut offset: u64 = 0;
    let mut buf = vec![0u8; 256 * 1024];
    while offset < len {
        let Some(data) = seek_data(&src, offset)? else {
            break;
        };
        let hole = seek_hole(&src, data)?.min(len);
        src.seek(SeekFrom::Start(data))?;
        dst.seek(SeekFrom::Start(data))?;
        let mut remaining = hole - data;
        while remaining > 0 {
            let chunk = remaining.min(buf.len() as u64) as usize;
            src.read_exact(&mut buf[..chunk])?;
            dst.write_all(&buf[..chunk])?;
            remaining -= chunk as u64;
        }
        offset = hole;
    }
    drop(dst);
    std::fs::rename(&tmp, to)
}

fn seek_data(file: &File, from: u64) -> io::Result<Option<u64>> {
    // SAFETY: lseek on an fd we own.
    let ret = unsafe { libc::lseek(file.as_raw_fd(), from as libc::off_t, libc::SEEK_DATA) };
    if ret == -1 {
        let err = io::Error::last_os_error();
        // ENXIO: no data at or after `from`.
        return if err.raw_os_error() == Some(libc::ENXIO) {
            Ok(None)
        } else {
            Err(err)
        };
    }
    Ok(Some(ret as u64))
}

fn seek_hole(file: &File, from: u64) -> io::Result<u64> {
    // SAFETY: lseek on an fd we own.
    let ret = unsafe { libc::lseek(file.as_raw_fd(), from as libc::off_t, libc::SEEK_HOLE) };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(ret as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_have_the_requested_free_space_and_stay_sparse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let images = ScratchImages::open(dir.path()).expect("mke2fs present");
        for mb in [512u32, 1000] {
            let path = images.create(mb, "test").expect("create");
            let free = free_bytes(&path).expect("superblock");
            let wanted = u64::from(mb) * MIB;
            assert!(free >= wanted, "{mb} MB image has only {free} free bytes");
            assert!(
                free - wanted <= SIZE_SLACK_BYTES,
                "{mb} MB image has {free} free bytes"
            );
            let allocated = std::fs::metadata(&path).map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.blocks() * 512
            });
            let allocated = allocated.expect("metadata");
            assert!(
                allocated < 8 * MIB,
                "copy is not sparse: {allocated} bytes allocated"
            );
        }
    }

    #[test]
    fn open_removes_images_left_by_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("old.img"), b"x").expect("write");
        let _images = ScratchImages::open(dir.path()).expect("open");
        assert!(!dir.path().join("old.img").exists());
    }
}
