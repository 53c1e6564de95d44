//! The `/etc` every sandbox sees: a small directory the platform builds at start-up from a
//! whitelist of host files (dynamic linker cache, CA certificates, alternatives symlinks) plus
//! generated identity files. One read-only bind mount per sandbox instead of one per file, and
//! nothing of the host's configuration or secrets beyond the whitelist.

use std::io;
use std::path::Path;

/// Host `/etc` entries copied in (symlinks kept as symlinks, directories recursively).
/// Anything absent on the host is skipped.
const HOST_ETC_WHITELIST: &[&str] = &[
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "pki/tls/certs",
    "pki/ca-trust/extracted",
    "nsswitch.conf",
    "protocols",
    "services",
    "mime.types",
    "host.conf",
    "gai.conf",
    "os-release",
    "localtime",
];

/// Bounds the recursive copy (defensive: `/etc/ssl/certs` holds a few hundred entries).
const ETC_ENTRIES_MAX: usize = 20_000;

/// Builds the sandbox `/etc` in `dir` (replacing a previous one).
pub fn build_etc(dir: &Path, hostname: &str, runtime_uid: u32, runtime_gid: u32) -> io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let host = Path::new("/etc");
    let mut budget = ETC_ENTRIES_MAX;
    for entry in HOST_ETC_WHITELIST {
        let from = host.join(entry);
        if std::fs::symlink_metadata(&from).is_err() {
            continue;
        }
        let to = dir.join(entry);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        copy_tree(&from, &to, &mut budget)?;
    }
    // Lambda's identities: the runtime runs as sbx_user1051.
    std::fs::write(
        dir.join("passwd"),
        format!(
            "root:x:0:0:root:/root:/sbin/nologin\n\
             sbx_user1051:x:{runtime_uid}:{runtime_gid}::/tmp:/sbin/nologin\n\
             nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
        ),
    )?;
    std::fs::write(
        dir.join("group"),
        format!("root:x:0:\nsbx_user1051:x:{runtime_gid}:\nnobody:x:65534:\n"),
    )?;
    std::fs::write(
        dir.join("hosts"),
        format!("127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost\n"),
    )?;
    std::fs::write(dir.join("hostname"), format!("{hostname}\n"))?;
    std::fs::write(dir.join("resolv.conf"), "")?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path, budget: &mut usize) -> io::Result<()> {
    if *budget == 0 {
        return Err(io::Error::other(
            "host /etc whitelist is unexpectedly large",
        ));
    }
    *budget -= 1;
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()), budget)?;
        }
        Ok(())
    } else if meta.is_file() {
        std::fs::copy(from, to)?;
        // Readable by the unprivileged runtime; never executable or writable.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_identity_files_and_copies_the_linker_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let etc = dir.path().join("etc");
        build_etc(&etc, "sandbox", 993, 990).expect("build");
        let passwd = std::fs::read_to_string(etc.join("passwd")).expect("passwd");
        assert!(passwd.contains("sbx_user1051:x:993:990"));
        assert!(etc.join("hosts").exists());
        if Path::new("/etc/ld.so.cache").exists() {
            assert!(etc.join("ld.so.cache").exists());
        }
        assert!(!etc.join("shadow").exists(), "secrets must never be copied");
        // Rebuilding replaces the old tree.
        build_etc(&etc, "sandbox", 993, 990).expect("rebuild");
    }
}
