//! Test helpers: a raw zip builder for archives `zip::ZipWriter` refuses to write (hostile
//! names, lying sizes, duplicates, shared data, encryption flags), plus filesystem checks.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Version made by: upper byte 3 = unix, so the high 16 bits of the external attributes are a
/// unix mode; lower byte 20 = spec 2.0.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
const MADE_BY_DOS: u16 = 20;
const METHOD_STORED: u16 = 0;
pub const METHOD_DEFLATED: u16 = 8;
/// General-purpose flag bit 11: the name is UTF-8 (else CP437).
const FLAG_UTF8: u16 = 1 << 11;
/// 1980-01-01, the DOS epoch (a zero date is not a valid DOS date).
const DOS_DATE: u16 = (1 << 5) | 1;

/// One entry as it will be laid out, with every field overridable.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub name: Vec<u8>,
    /// Bytes stored in the archive (compressed if `method` says so).
    pub data: Vec<u8>,
    pub method: u16,
    pub crc: u32,
    pub uncompressed_size: u32,
    /// `None`: made on DOS with no attributes (like many Windows tools).
    pub unix_mode: Option<u32>,
    pub flags: u16,
    /// Point this central-directory entry at an earlier entry's local header instead.
    pub alias_of: Option<usize>,
}

impl RawEntry {
    pub fn file(name: &str, data: &[u8]) -> RawEntry {
        RawEntry::file_bytes(name.as_bytes(), data)
    }

    pub fn file_bytes(name: &[u8], data: &[u8]) -> RawEntry {
        RawEntry {
            name: name.to_vec(),
            data: data.to_vec(),
            method: METHOD_STORED,
            crc: crc32(data),
            uncompressed_size: len32(data.len()),
            unix_mode: Some(0o100_644),
            flags: if !name.is_ascii() && std::str::from_utf8(name).is_ok() {
                FLAG_UTF8
            } else {
                0
            },
            alias_of: None,
        }
    }

    pub fn dir(name: &str) -> RawEntry {
        RawEntry {
            unix_mode: Some(0o040_755),
            ..RawEntry::file(name, b"")
        }
    }

    pub fn symlink(name: &str, target: &str) -> RawEntry {
        RawEntry {
            unix_mode: Some(0o120_777),
            ..RawEntry::file(name, target.as_bytes())
        }
    }

    /// A deflated entry whose plain text is `plain`.
    pub fn deflated(name: &str, plain: &[u8]) -> RawEntry {
        RawEntry {
            data: deflate(plain),
            method: METHOD_DEFLATED,
            ..RawEntry::file(name, plain)
        }
    }

    pub fn mode(mut self, mode: Option<u32>) -> RawEntry {
        self.unix_mode = mode;
        self
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("test data fits in u32")
}

/// Lay out `entries` as a zip: local headers and data, central directory, end record.
pub fn build(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for entry in entries {
        if let Some(i) = entry.alias_of {
            offsets.push(offsets[i]);
            continue;
        }
        offsets.push(len32(out.len()));
        put32(&mut out, 0x0403_4b50);
        put16(&mut out, 20);
        put16(&mut out, entry.flags);
        put16(&mut out, entry.method);
        put16(&mut out, 0);
        put16(&mut out, DOS_DATE);
        put32(&mut out, entry.crc);
        put32(&mut out, len32(entry.data.len()));
        put32(&mut out, entry.uncompressed_size);
        put16(
            &mut out,
            u16::try_from(entry.name.len()).expect("name fits"),
        );
        put16(&mut out, 0);
        out.extend_from_slice(&entry.name);
        out.extend_from_slice(&entry.data);
    }
    let cd_start = len32(out.len());
    for (entry, offset) in entries.iter().zip(&offsets) {
        let source = entry.alias_of.map_or(entry, |i| &entries[i]);
        put32(&mut out, 0x0201_4b50);
        put16(
            &mut out,
            if entry.unix_mode.is_some() {
                MADE_BY_UNIX
            } else {
                MADE_BY_DOS
            },
        );
        put16(&mut out, 20);
        put16(&mut out, entry.flags);
        put16(&mut out, source.method);
        put16(&mut out, 0);
        put16(&mut out, DOS_DATE);
        put32(&mut out, source.crc);
        put32(&mut out, len32(source.data.len()));
        put32(&mut out, source.uncompressed_size);
        put16(
            &mut out,
            u16::try_from(entry.name.len()).expect("name fits"),
        );
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put32(&mut out, entry.unix_mode.map_or(0, |m| m << 16));
        put32(&mut out, *offset);
        out.extend_from_slice(&entry.name);
    }
    let cd_size = len32(out.len()) - cd_start;
    let count = match u16::try_from(entries.len()) {
        Ok(n) if n < u16::MAX => n,
        // Too many for the classic record: add a ZIP64 end record and its locator, and mark
        // the classic count as "see ZIP64".
        _ => {
            let eocd64_at = out.len() as u64;
            let n = entries.len() as u64;
            put32(&mut out, 0x0606_4b50);
            put64(&mut out, 44);
            put16(&mut out, MADE_BY_UNIX);
            put16(&mut out, 45);
            put32(&mut out, 0);
            put32(&mut out, 0);
            put64(&mut out, n);
            put64(&mut out, n);
            put64(&mut out, u64::from(cd_size));
            put64(&mut out, u64::from(cd_start));
            put32(&mut out, 0x0706_4b50);
            put32(&mut out, 0);
            put64(&mut out, eocd64_at);
            put32(&mut out, 1);
            u16::MAX
        }
    };
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, cd_size);
    put32(&mut out, cd_start);
    put16(&mut out, 0);
    out
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE), bitwise: slow but obviously right, and independent of the zip crate.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// Raw DEFLATE bytes of `plain`, taken from a one-entry zip made by `ZipWriter`.
pub fn deflate(plain: &[u8]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("x", options).expect("start");
    writer.write_all(plain).expect("write");
    let zip = writer.finish().expect("finish").into_inner();
    let csize = u32::from_le_bytes(zip[18..22].try_into().expect("4 bytes")) as usize;
    let name_len = u16::from_le_bytes(zip[26..28].try_into().expect("2 bytes")) as usize;
    let extra_len = u16::from_le_bytes(zip[28..30].try_into().expect("2 bytes")) as usize;
    let start = 30 + name_len + extra_len;
    zip[start..start + csize].to_vec()
}

/// An `outer/stage` pair: extraction goes into `stage`, and `outer` lets tests prove nothing
/// was written beside it.
pub struct Sandbox {
    pub outer: tempfile::TempDir,
    pub stage: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let outer = tempfile::tempdir().expect("tempdir");
        let stage = outer.path().join("stage");
        std::fs::create_dir(&stage).expect("create stage");
        Sandbox { outer, stage }
    }

    /// After a rejection: `outer` holds only `stage`, and `stage` is empty.
    pub fn assert_clean(&self) {
        let names = list(self.outer.path());
        assert_eq!(names, vec!["stage".to_owned()], "something outside stage");
        assert!(
            list(&self.stage).is_empty(),
            "stage not empty: {:?}",
            walk(&self.stage)
        );
    }

    /// After a success: `outer` holds only `stage`.
    pub fn assert_nothing_outside(&self) {
        assert_eq!(list(self.outer.path()), vec!["stage".to_owned()]);
    }
}

pub fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every path under `dir`, relative, without following symlinks.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            out.push(path.strip_prefix(dir).expect("prefix").to_path_buf());
            if entry.file_type().expect("type").is_dir() {
                pending.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Bytes used by regular files under `dir`.
pub fn disk_bytes(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .map(|p| std::fs::symlink_metadata(dir.join(p)).expect("meta"))
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
