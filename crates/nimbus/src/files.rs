//! Reading a file the user named, with a cap: a device (`/dev/zero`), a FIFO or a runaway
//! file is refused instead of filling memory or blocking forever.

use anyhow::{Context, bail};
use std::io::Read;
use std::path::Path;

/// The bytes of the regular file at `path`, at most `max`; `what` names it in errors
/// ("a price table").
pub fn read_capped(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    // stat first: opening a FIFO would block until a writer appears.
    let meta = std::fs::metadata(path).with_context(|| format!("read {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file; {what} is read from a file",
            path.display()
        );
    }
    let file = std::fs::File::open(path).with_context(|| format!("read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(
            "{} is larger than {max} bytes; too large for {what}",
            path.display()
        );
    }
    Ok(bytes)
}

/// [`read_capped`] for UTF-8 text.
pub fn read_text_capped(path: &Path, max: u64, what: &str) -> anyhow::Result<String> {
    let bytes = read_capped(path, max, what)?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text; {what} is text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read_capped(Path::new("/dev/zero"), 10, "a table").expect_err("device");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read_capped(dir.path(), 10, "a table").expect_err("directory");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let e = read_capped(&fifo, 10, "a table").expect_err("fifo");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 11]).expect("write");
        let e = read_capped(&big, 10, "a table").expect_err("11 bytes over a cap of 10");
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        std::fs::write(&big, vec![b'x'; 10]).expect("write");
        assert_eq!(
            read_capped(&big, 10, "a table").expect("at the cap").len(),
            10
        );
        std::fs::write(&big, [0xff, 0xfe]).expect("write");
        let e = read_text_capped(&big, 10, "a table").expect_err("not UTF-8");
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }
}
