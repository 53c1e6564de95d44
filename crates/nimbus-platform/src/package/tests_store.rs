//! CodeStore tests: hashing, dedup, races, recovery, sweeping and garbage collection.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::testzip::{RawEntry, build, list};
use super::{CodeHash, CodeStore, Limits, PackageError};

fn sample_zip(tag: &str) -> Vec<u8> {
    build(&[
        RawEntry::file("bootstrap", b"#!/bin/sh\n").mode(Some(0o100_755)),
        RawEntry::file("tag", tag.as_bytes()),
        RawEntry::symlink("link", "tag"),
    ])
}

fn store() -> (tempfile::TempDir, CodeStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = CodeStore::open(dir.path().join("code")).expect("open");
    (dir, store)
}

/// `openssl dgst -sha256 -binary | base64`, if openssl is installed.
fn openssl_b64(data: &[u8]) -> Option<String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("openssl dgst -sha256 -binary | base64")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(data).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[test]
fn code_hash_validation() {
    let good = "a".repeat(64);
    assert!(CodeHash::from_hex(&good).is_some());
    assert!(CodeHash::from_hex(&"0123456789abcdef".repeat(4)).is_some());
    for bad in [
        "".to_owned(),
        "a".repeat(63),
        "a".repeat(65),
        "A".repeat(64),
        "g".repeat(64),
        format!("../{}", "a".repeat(61)),
        format!("{}/", "a".repeat(63)),
    ] {
        assert!(CodeHash::from_hex(&bad).is_none(), "{bad:?} accepted");
    }
    // Known vector: SHA-256("abc").
    let digest: [u8; 32] = Sha256::digest(b"abc").into();
    assert_eq!(
        CodeHash::from_digest(&digest).as_str(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(digest),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
}

#[test]
fn put_stores_zip_and_tree() {
    let (_tmp, store) = store();
    let zip = sample_zip("one");
    let stored = store.put(&zip).expect("put");
    let digest: [u8; 32] = Sha256::digest(&zip).into();
    assert_eq!(stored.sha256_hex, CodeHash::from_digest(&digest));
    assert_eq!(
        stored.sha256_b64,
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    if let Some(expected) = openssl_b64(&zip) {
        assert_eq!(stored.sha256_b64, expected);
    }
    assert_eq!(stored.size, zip.len() as u64);
    assert_eq!(stored.unzipped_size, 10 + 3 + 3);
    assert_eq!(stored.dir, store.dir(&stored.sha256_hex));
    assert!(store.exists(&stored.sha256_hex));
    assert_eq!(
        std::fs::read(store.zip_path(&stored.sha256_hex)).expect("zip"),
        zip
    );
    assert_eq!(
        std::fs::read(stored.dir.join("link")).expect("through link"),
        b"one"
    );
    let mode = std::fs::metadata(&stored.dir).expect("meta").mode() & 0o7777;
    assert_eq!(mode, 0o755);
    assert_eq!(store.total_zip_bytes().expect("total"), zip.len() as u64);
    // No staging leftovers.
    assert!(list(store.root()).iter().all(|n| !n.starts_with('.')));
}

#[test]
fn put_twice_extracts_once() {
    let (_tmp, store) = store();
    let zip = sample_zip("same");
    let first = store.put(&zip).expect("put");
    let inode = std::fs::metadata(first.dir.join("tag"))
        .expect("meta")
        .ino();
    let second = store.put(&zip).expect("put again");
    assert_eq!(first, second);
    let inode_again = std::fs::metadata(second.dir.join("tag"))
        .expect("meta")
        .ino();
    assert_eq!(inode, inode_again, "tree was re-extracted");
    assert_eq!(list(store.root()).len(), 2); // <hex> and <hex>.zip
}

#[test]
fn concurrent_puts_of_one_zip_agree() {
    let (_tmp, store) = store();
    let store = Arc::new(store);
    let zip = Arc::new(sample_zip("race"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            let zip = Arc::clone(&zip);
            std::thread::spawn(move || store.put(&zip))
        })
        .collect();
    let results: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("put"))
        .collect();
    for r in &results {
        assert_eq!(r, &results[0]);
    }
    assert_eq!(list(store.root()).len(), 2);
    assert_eq!(
        std::fs::read(results[0].dir.join("tag")).expect("read"),
        b"race"
    );
}

#[test]
fn bad_zip_leaves_nothing_behind() {
    let (_tmp, store) = store();
    let zip = build(&[RawEntry::file("ok", b"x"), RawEntry::file("../evil", b"x")]);
    let err = store.put(&zip).expect_err("hostile");
    assert!(matches!(err, PackageError::UnsafeEntry { .. }), "{err:?}");
    assert!(list(store.root()).is_empty(), "{:?}", list(store.root()));
    let err = store.put(b"not a zip").expect_err("garbage");
    assert!(matches!(err, PackageError::InvalidZip { .. }));
    assert!(list(store.root()).is_empty());
}

#[test]
fn put_refuses_oversized_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        zip_bytes_max: 50,
        ..Limits::default()
    };
    let store = CodeStore::open_with_limits(dir.path(), limits).expect("open");
    let err = store.put(&sample_zip("big")).expect_err("too big");
    assert!(matches!(err, PackageError::TooLarge { limit: 50, .. }));
    assert!(list(store.root()).is_empty());
}

#[test]
fn ensure_extracted_rebuilds_a_missing_tree() {
    let (_tmp, store) = store();
    let stored = store.put(&sample_zip("again")).expect("put");
    std::fs::remove_dir_all(&stored.dir).expect("wipe tree");
    assert!(!store.exists(&stored.sha256_hex));
    let dir = store.ensure_extracted(&stored.sha256_hex).expect("ensure");
    assert_eq!(dir, stored.dir);
    assert_eq!(std::fs::read(dir.join("tag")).expect("read"), b"again");
    assert!(store.exists(&stored.sha256_hex));
    // Present already: returned as is.
    assert_eq!(
        store.ensure_extracted(&stored.sha256_hex).expect("ensure"),
        dir
    );
}

#[test]
fn ensure_extracted_refuses_a_tampered_or_missing_zip() {
    let (_tmp, store) = store();
    let stored = store.put(&sample_zip("t")).expect("put");
    std::fs::remove_dir_all(&stored.dir).expect("wipe tree");
    std::fs::write(store.zip_path(&stored.sha256_hex), sample_zip("other")).expect("tamper");
    let err = store
        .ensure_extracted(&stored.sha256_hex)
        .expect_err("tampered");
    assert!(matches!(err, PackageError::Io { .. }), "{err:?}");
    assert!(!stored.dir.exists());
    std::fs::remove_file(store.zip_path(&stored.sha256_hex)).expect("rm");
    let err = store
        .ensure_extracted(&stored.sha256_hex)
        .expect_err("missing");
    assert!(matches!(err, PackageError::Io { .. }), "{err:?}");
    assert!(list(store.root()).is_empty());
}

#[test]
fn sweep_removes_only_staging_leftovers() {
    let (_tmp, store) = store();
    let stored = store.put(&sample_zip("s")).expect("put");
    let root = store.root();
    std::fs::create_dir_all(root.join(".staging-0123/a/b")).expect("mk");
    std::fs::write(root.join(".staging-0123/a/b/f"), b"x").expect("w");
    std::fs::write(root.join(".staging-4567.zip"), b"x").expect("w");
    std::fs::write(root.join("unrelated"), b"x").expect("w");
    assert_eq!(store.sweep_staging().expect("sweep"), 2);
    assert_eq!(store.sweep_staging().expect("sweep"), 0);
    assert!(store.exists(&stored.sha256_hex));
    assert!(root.join("unrelated").exists());
}

#[test]
fn gc_keeps_only_what_is_listed() {
    let (_tmp, store) = store();
    let a = store.put(&sample_zip("a")).expect("put a");
    let b = store.put(&sample_zip("b")).expect("put b");
    let c = store.put(&sample_zip("c")).expect("put c");
    std::fs::write(store.root().join("notes.txt"), b"keep me").expect("w");
    let keep: HashSet<String> = [a.sha256_hex.as_str().to_owned()].into();
    assert_eq!(store.gc(&keep).expect("gc"), 2);
    assert!(store.exists(&a.sha256_hex));
    assert!(!store.exists(&b.sha256_hex));
    assert!(!store.dir(&c.sha256_hex).exists());
    assert!(!store.zip_path(&c.sha256_hex).exists());
    assert!(store.root().join("notes.txt").exists());
    assert_eq!(store.total_zip_bytes().expect("total"), a.size);
    assert_eq!(store.gc(&keep).expect("gc"), 0);
}
