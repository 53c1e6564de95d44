//! Entry-name and symlink-target policy. Pure string checks; no filesystem access.

use std::collections::HashSet;

use super::{COMPONENT_BYTES_MAX, DEPTH_MAX, PATH_BYTES_MAX};

/// A validated entry path: normal components only, joined with `/`, no trailing slash.
/// The empty path is the package root (only allowed for directory entries such as `./`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    /// Normalised relative path, e.g. `node_modules/.bin/x`.
    pub path: String,
    /// The name ended in `/`: the zip convention for a directory entry.
    pub dir_syntax: bool,
}

impl EntryPath {
    /// The parent directory (possibly the root, `""`) and the last component.
    pub fn split_parent(&self) -> (&str, &str) {
        match self.path.rsplit_once('/') {
            Some((parent, leaf)) => (parent, leaf),
            None => ("", self.path.as_str()),
        }
    }
}

/// `c:` at the start of a component: a Windows drive prefix. The zip crate's
/// `enclosed_name()` rejects the same shape, so the two checks agree.
fn has_drive_prefix(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Check one entry name (as decoded by the zip crate) and normalise it.
///
/// Rejects: empty names, names over [`PATH_BYTES_MAX`], NUL, backslashes (Windows separators
/// and a classic traversal trick), absolute paths, drive letters, `..`, empty components
/// (`a//b`), components over [`COMPONENT_BYTES_MAX`], depth over [`DEPTH_MAX`]. `.` components
/// are dropped (`./a` is `a`); `./` alone is the root directory.
pub(crate) fn parse_entry_name(name: &str) -> Result<EntryPath, String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.len() > PATH_BYTES_MAX {
        return Err(format!("name is longer than {PATH_BYTES_MAX} bytes"));
    }
    if name.contains('\0') {
        return Err("NUL byte in name".into());
    }
    if name.contains('\\') {
        return Err("backslash in name (use '/' as the separator)".into());
    }
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let (body, dir_syntax) = match name.strip_suffix('/') {
        Some(body) => (body, true),
        None => (name, false),
    };
    let mut path = String::with_capacity(body.len());
    let mut depth = 0usize;
    let mut last_was_dot = false;
    // Bounded: one iteration per component of a name of at most PATH_BYTES_MAX bytes.
    for component in body.split('/') {
        last_was_dot = component == ".";
        if component.is_empty() {
            return Err("empty path component".into());
        }
        if component == "." {
            continue;
        }
        if component == ".." {
            return Err("'..' in path".into());
        }
        if component.len() > COMPONENT_BYTES_MAX {
            return Err(format!(
                "path component is longer than {COMPONENT_BYTES_MAX} bytes"
            ));
        }
        if has_drive_prefix(component) {
            return Err("drive letter in path".into());
        }
        depth += 1;
        if depth > DEPTH_MAX {
            return Err(format!("path is more than {DEPTH_MAX} levels deep"));
        }
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(component);
    }
    if !dir_syntax && (path.is_empty() || last_was_dot) {
        return Err("file name ends in '.'".into());
    }
    Ok(EntryPath { path, dir_syntax })
}

/// Check a symlink target: it must be relative and resolve lexically inside the package root,
/// starting from the link's own directory.
///
/// `symlinks` holds the paths of every symlink entry in the archive. A target may not step
/// through one of them (`l/..`, `l/x`): the kernel would resolve `..` from wherever `l`
/// points, which lexical checking cannot see. Ending *at* another symlink is fine, since that
/// one is checked the same way. The link's own directory never contains a symlink: the
/// extractor refuses to create anything through one.
pub(crate) fn check_symlink_target(
    link: &EntryPath,
    target: &str,
    symlinks: &HashSet<String>,
) -> Result<(), String> {
    if target.is_empty() {
        return Err("empty symlink target".into());
    }
    if target.len() > PATH_BYTES_MAX {
        return Err(format!(
            "symlink target is longer than {PATH_BYTES_MAX} bytes"
        ));
    }
    if target.contains('\0') {
        return Err("NUL byte in symlink target".into());
    }
    if target.contains('\\') {
        return Err("backslash in symlink target".into());
    }
    if target.starts_with('/') {
        return Err("absolute symlink target".into());
    }
    // `resolved` is the lexical position, `ends[i]` the length of `resolved` before
    // component i was pushed, so `..` can truncate instead of re-joining.
    let (link_dir, _) = link.split_parent();
    let mut resolved = String::from(link_dir);
    let mut ends: Vec<usize> = Vec::new();
    let mut len = 0usize;
    for component in link_dir.split('/').filter(|c| !c.is_empty()) {
        ends.push(len);
        len = if len == 0 {
            component.len()
        } else {
            len + 1 + component.len()
        };
    }
    let parts: Vec<&str> = target.split('/').collect();
    // Bounded: one iteration per component of a target of at most PATH_BYTES_MAX bytes.
    for (i, part) in parts.iter().enumerate() {
        match *part {
            "" | "." => {}
            ".." => match ends.pop() {
                Some(end) => resolved.truncate(end),
                None => return Err("symlink target escapes the package root".into()),
            },
            normal => {
                if normal.len() > COMPONENT_BYTES_MAX {
                    return Err(format!(
                        "symlink target component is longer than {COMPONENT_BYTES_MAX} bytes"
                    ));
                }
                ends.push(resolved.len());
                if !resolved.is_empty() {
                    resolved.push('/');
                }
                resolved.push_str(normal);
                let more_follows = i + 1 < parts.len();
                if more_follows && symlinks.contains(&resolved) {
                    return Err("symlink target goes through another symlink".into());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(name: &str) -> String {
        match parse_entry_name(name) {
            Ok(p) => p.path,
            Err(e) => panic!("{name:?} rejected: {e}"),
        }
    }

    fn bad(name: &str) {
        assert!(parse_entry_name(name).is_err(), "{name:?} accepted");
    }

    #[test]
    fn good_names() {
        assert_eq!(ok("bootstrap"), "bootstrap");
        assert_eq!(ok("a/b/c.js"), "a/b/c.js");
        assert_eq!(ok("./a/./b"), "a/b");
        assert_eq!(ok("dir/"), "dir");
        assert_eq!(ok("./"), "");
        assert_eq!(ok("..."), "...");
        assert_eq!(ok("a..b/..c"), "a..b/..c");
        assert_eq!(ok("ab:c"), "ab:c");
        assert!(parse_entry_name("dir/").is_ok_and(|p| p.dir_syntax));
    }

    #[test]
    fn hostile_names() {
        for name in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "..",
            "C:\\x",
            "C:/x",
            "a/c:x",
            "..\\x",
            "a\\b",
            "a\0b",
            "a//b",
            "//x",
            ".",
            "a/.",
            "/",
        ] {
            bad(name);
        }
        bad(&"a".repeat(256));
        bad(&format!("{}/x", "a/".repeat(DEPTH_MAX)));
        bad(&"ab/".repeat(1400));
        ok(&"a".repeat(255));
        ok(&format!("{}x", "a/".repeat(DEPTH_MAX - 1)));
    }

    fn link(path: &str) -> EntryPath {
        EntryPath {
            path: path.to_owned(),
            dir_syntax: false,
        }
    }

    #[test]
    fn symlink_targets() {
        let none = HashSet::new();
        let check = |l: &str, t: &str| check_symlink_target(&link(l), t, &none);
        assert!(check("node_modules/.bin/x", "../x/bin/x.js").is_ok());
        assert!(check("a/b/l", "../../x").is_ok());
        assert!(check("l", "x").is_ok());
        assert!(check("l", ".").is_ok());
        assert!(check("a/l", "..").is_ok());
        assert!(check("a/l", "../..").is_err());
        assert!(check("l", "../x").is_err());
        assert!(check("a/b/l", "../../../x").is_err());
        assert!(check("l", "/etc/passwd").is_err());
        assert!(check("l", "").is_err());
        assert!(check("l", "a\0b").is_err());
        assert!(check("l", "..\\x").is_err());
        assert!(check("a/l", "x/../../..").is_err());
    }

    #[test]
    fn symlink_target_may_not_pass_through_a_symlink() {
        let links: HashSet<String> = ["d/up".to_owned()].into();
        let check = |l: &str, t: &str| check_symlink_target(&link(l), t, &links);
        // d/up -> .. is itself fine; d/up2 -> up/.. would resolve outside via the kernel.
        assert!(check("d/up", "..").is_ok());
        assert!(check("d/up2", "up/..").is_err());
        assert!(check("d/up2", "up/x").is_err());
        assert!(check("d/up2", "up").is_ok());
        assert!(check("x", "d/up/").is_err());
    }
}
