//! Extraction tests: good packages, hostile names, symlinks, corrupt archives, limits.

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::extract::extract_with_walk;
use super::testzip::{RawEntry, Sandbox, build, disk_bytes, walk};
use super::{ExtractStats, Limits, PackageError, UNZIPPED_BYTES_MAX, extract, extract_with_limits};

/// Wall-clock budget for any single hostile input (PK-03, PK-06).
const HOSTILE_BUDGET: Duration = Duration::from_secs(5);

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o7777
}

fn writer() -> ZipWriter<Cursor<Vec<u8>>> {
    ZipWriter::new(Cursor::new(Vec::new()))
}

fn opts(mode: u32) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(mode)
}

/// Extract with both lookup strategies; each run gets its own sandbox.
fn extract_both(zip: &[u8]) -> [(Sandbox, Result<ExtractStats, PackageError>); 2] {
    let a = Sandbox::new();
    let ra = extract(zip, &a.stage);
    let b = Sandbox::new();
    let rb = extract_with_walk(zip, &b.stage, &Limits::default());
    [(a, ra), (b, rb)]
}

/// Expect rejection (by both strategies) and a clean sandbox; return the first error.
fn reject(zip: &[u8]) -> PackageError {
    let [(a, ra), (b, rb)] = extract_both(zip);
    a.assert_clean();
    b.assert_clean();
    let rb = rb.expect_err("walk extraction accepted a hostile zip");
    let ra = ra.expect_err("extraction accepted a hostile zip");
    assert_eq!(
        std::mem::discriminant(&ra),
        std::mem::discriminant(&rb),
        "{ra} vs {rb}"
    );
    ra
}

fn assert_unsafe(err: &PackageError, expect_reason: &str) {
    match err {
        PackageError::UnsafeEntry { reason, .. } => {
            assert!(reason.contains(expect_reason), "reason {reason:?}")
        }
        other => panic!("expected UnsafeEntry({expect_reason}), got {other:?}"),
    }
}

fn assert_invalid(err: &PackageError) {
    assert!(
        matches!(err, PackageError::InvalidZip { .. }),
        "expected InvalidZip, got {err:?}"
    );
}

#[test]
fn good_package_round_trips() {
    let mut w = writer();
    w.start_file("bootstrap", opts(0o755)).expect("start");
    w.write_all(b"#!/bin/sh\necho hi\n").expect("write");
    w.add_directory("lib/", opts(0o700)).expect("dir");
    w.start_file("lib/util.py", opts(0o600)).expect("start");
    w.write_all(b"x = 1\n").expect("write");
    w.start_file("a/b/c/deep.txt", opts(0o644)).expect("start");
    w.write_all(&vec![b'z'; 100_000]).expect("write");
    w.start_file("empty", opts(0o644)).expect("start");
    let zip = w.finish().expect("finish").into_inner();

    for (sandbox, result) in extract_both(&zip) {
        let stats = result.expect("extract");
        let root = &sandbox.stage;
        assert_eq!(
            stats,
            ExtractStats {
                entries: 5,
                files: 4,
                dirs: 4, // lib, a, a/b, a/b/c
                symlinks: 0,
                bytes_written: 18 + 6 + 100_000,
            }
        );
        assert_eq!(
            std::fs::read(root.join("bootstrap")).expect("read"),
            b"#!/bin/sh\necho hi\n"
        );
        assert_eq!(mode_of(&root.join("bootstrap")), 0o755);
        assert_eq!(mode_of(&root.join("lib")), 0o755);
        assert_eq!(mode_of(&root.join("lib/util.py")), 0o644);
        assert_eq!(mode_of(&root.join("a/b")), 0o755);
        assert_eq!(
            std::fs::read(root.join("a/b/c/deep.txt"))
                .expect("read")
                .len(),
            100_000
        );
        sandbox.assert_nothing_outside();
    }
}

#[test]
fn modes_are_normalised() {
    let zip = build(&[
        RawEntry::file("bootstrap", b"#!/bin/sh").mode(Some(0o100_755)),
        RawEntry::file("suid", b"x").mode(Some(0o104_755)),
        RawEntry::file("sgid-sticky", b"x").mode(Some(0o103_640)),
        RawEntry::file("group-exec", b"x").mode(Some(0o100_010)),
        RawEntry::file("private", b"x").mode(Some(0o100_600)),
        RawEntry::file("windows", b"x").mode(None),
        RawEntry::file("fifo", b"x").mode(Some(0o010_644)),
        RawEntry::file("chardev", b"x").mode(Some(0o020_666)),
        RawEntry::file("blockdev", b"x").mode(Some(0o060_660)),
        RawEntry::file("socket", b"x").mode(Some(0o140_755)),
        RawEntry::dir("d/").mode(Some(0o041_777)),
        RawEntry::dir("winding/").mode(None),
    ]);
    for (sandbox, result) in extract_both(&zip) {
        result.expect("extract");
        let m = |n: &str| mode_of(&sandbox.stage.join(n));
        assert_eq!(m("bootstrap"), 0o755);
        assert_eq!(m("suid"), 0o755);
        assert_eq!(m("sgid-sticky"), 0o644);
        assert_eq!(m("group-exec"), 0o755);
        assert_eq!(m("private"), 0o644);
        assert_eq!(m("windows"), 0o644);
        assert_eq!(m("socket"), 0o755);
        for special in ["fifo", "chardev", "blockdev", "socket"] {
            let meta = std::fs::symlink_metadata(sandbox.stage.join(special)).expect("meta");
            assert!(meta.is_file(), "{special} is not a regular file");
        }
        assert_eq!(m("d"), 0o755);
        assert_eq!(m("winding"), 0o755);
    }
}

#[test]
fn exec_bit_survives_a_restrictive_umask() {
    // Modes are set with fchmod, not through the umask; this checks the result directly.
    let zip = build(&[RawEntry::file("bootstrap", b"x").mode(Some(0o100_700))]);
    let sandbox = Sandbox::new();
    extract(&zip, &sandbox.stage).expect("extract");
    assert_eq!(mode_of(&sandbox.stage.join("bootstrap")), 0o755);
}

#[test]
fn hostile_names_are_rejected() {
    let long_component = "a".repeat(256);
    let long_path = format!("{}x", "abcdefg/".repeat(520));
    let deep = format!("{}x", "a/".repeat(300));
    let cases: Vec<(&[u8], &str)> = vec![
        (b"../x", "'..'"),
        (b"../../x", "'..'"),
        (b"a/../../x", "'..'"),
        (b"/etc/x", "absolute"),
        (b"C:\\x", "backslash"),
        (b"C:/x", "drive"),
        (b"..\\x", "backslash"),
        (b"a\0b", "NUL"),
        (long_component.as_bytes(), "255"),
        (long_path.as_bytes(), "4096"),
        (deep.as_bytes(), "deep"),
        (b"a//b", "empty path component"),
        (b"", "empty name"),
        (b".", "'.'"),
    ];
    for (name, reason) in cases {
        let zip = build(&[
            RawEntry::file("ok-before", b"written first"),
            RawEntry::file_bytes(name, b"payload"),
        ]);
        let err = reject(&zip);
        assert_unsafe(&err, reason);
    }
}

#[test]
fn triple_dot_is_an_ordinary_name() {
    // `..././x` defeats sanitisers that strip `../` once; we never rewrite names, so it is a
    // directory called `...` inside the root.
    let zip = build(&[RawEntry::file("..././x", b"x")]);
    for (sandbox, result) in extract_both(&zip) {
        result.expect("extract");
        assert!(sandbox.stage.join(".../x").is_file());
        sandbox.assert_nothing_outside();
    }
}

#[test]
fn symlink_inside_is_kept() {
    let mut w = writer();
    w.start_file("node_modules/pkg/bin/cli.js", opts(0o755))
        .expect("start");
    w.write_all(b"console.log(1)").expect("write");
    w.add_symlink("node_modules/.bin/cli", "../pkg/bin/cli.js", opts(0o777))
        .expect("symlink");
    w.add_symlink("current", ".", opts(0o777)).expect("symlink");
    let zip = w.finish().expect("finish").into_inner();
    for (sandbox, result) in extract_both(&zip) {
        let stats = result.expect("extract");
        assert_eq!(stats.symlinks, 2);
        let link = sandbox.stage.join("node_modules/.bin/cli");
        assert_eq!(
            std::fs::read_link(&link).expect("readlink"),
            Path::new("../pkg/bin/cli.js")
        );
        assert_eq!(std::fs::read(&link).expect("follow"), b"console.log(1)");
        sandbox.assert_nothing_outside();
    }
}

#[test]
fn symlink_outside_is_rejected() {
    for target in ["/etc/passwd", "../outside", "a/../../x", "..", "../stage/x"] {
        let mut w = writer();
        w.add_symlink("link", target, opts(0o777)).expect("symlink");
        let err = reject(&w.finish().expect("finish").into_inner());
        assert!(
            matches!(err, PackageError::UnsafeEntry { .. }),
            "{target}: {err:?}"
        );
    }
    // Hand-made, where the writer would not cooperate.
    let err = reject(&build(&[RawEntry::symlink("l", "x\\..\\..")]));
    assert_unsafe(&err, "backslash");
    let err = reject(&build(&[RawEntry::symlink("l", "")]));
    assert_unsafe(&err, "empty symlink target");
    let err = reject(&build(&[RawEntry::symlink("l/", "x")]));
    assert_unsafe(&err, "ends in '/'");
}

#[test]
fn symlink_chain_escape_is_rejected() {
    // d/up -> .. is inside; d/up2 -> up/.. would resolve to the root's parent via the kernel.
    let zip = build(&[
        RawEntry::dir("d/"),
        RawEntry::symlink("d/up", ".."),
        RawEntry::symlink("d/up2", "up/.."),
    ]);
    assert_unsafe(&reject(&zip), "through another symlink");
}

#[test]
fn writing_through_a_symlink_is_rejected() {
    // GHSA-94vh-gphv-8pm8: a symlink entry, then a file "inside" it.
    let cases = [
        vec![
            RawEntry::dir("sub/"),
            RawEntry::symlink("link", "sub"),
            RawEntry::file("link/evil", b"x"),
        ],
        vec![
            RawEntry::symlink("here", "."),
            RawEntry::file("here/evil", b"x"),
        ],
        vec![
            RawEntry::dir("sub/"),
            RawEntry::symlink("link", "sub"),
            RawEntry::dir("link/x/"),
        ],
        vec![
            RawEntry::dir("sub/"),
            RawEntry::symlink("link", "sub"),
            RawEntry::symlink("link/l2", "."),
        ],
    ];
    for entries in cases {
        assert_unsafe(&reject(&build(&entries)), "through a symlink");
    }
    // A symlink, then a file of the same name: never overwrite, never follow.
    let zip = build(&[
        RawEntry::symlink("target", "x"),
        RawEntry::file("target", b"x"),
    ]);
    assert_invalid(&reject(&zip)); // same raw name twice
    let zip = build(&[
        RawEntry::symlink("target", "x"),
        RawEntry::file("./target", b"x"),
    ]);
    assert_unsafe(&reject(&zip), "duplicate");
}

#[test]
fn duplicates_and_conflicts_are_rejected() {
    assert_invalid(&reject(&build(&[
        RawEntry::file("a", b"1"),
        RawEntry::file("a", b"2"),
    ])));
    assert_unsafe(
        &reject(&build(&[
            RawEntry::file("a", b"1"),
            RawEntry::file("./a", b"2"),
        ])),
        "duplicate",
    );
    assert_unsafe(
        &reject(&build(&[
            RawEntry::file("a", b"1"),
            RawEntry::file("a/b", b"2"),
        ])),
        "is a file",
    );
    assert_unsafe(
        &reject(&build(&[RawEntry::file("a", b"1"), RawEntry::dir("a/")])),
        "is a file",
    );
    assert_unsafe(
        &reject(&build(&[RawEntry::dir("a/"), RawEntry::file("a", b"1")])),
        "duplicate",
    );
}

#[test]
fn case_and_unicode_variants_are_distinct_files() {
    // Linux file names are bytes: `A`/`a` and NFC/NFD `é` are different names, as on Lambda.
    let zip = build(&[
        RawEntry::file("A", b"1"),
        RawEntry::file("a", b"2"),
        RawEntry::file("caf\u{e9}", b"3"),
        RawEntry::file("cafe\u{301}", b"4"),
    ]);
    for (sandbox, result) in extract_both(&zip) {
        assert_eq!(result.expect("extract").files, 4);
        assert_eq!(std::fs::read(sandbox.stage.join("a")).expect("read"), b"2");
    }
}

#[test]
fn explicit_directory_after_implicit_is_fine() {
    let zip = build(&[
        RawEntry::file("a/b/f", b"1"),
        RawEntry::dir("a/"),
        RawEntry::dir("a/b/"),
        RawEntry::dir("./"),
    ]);
    for (sandbox, result) in extract_both(&zip) {
        let stats = result.expect("extract");
        assert_eq!(stats.dirs, 2);
        assert_eq!(stats.entries, 4);
        assert!(sandbox.stage.join("a/b/f").is_file());
    }
}

#[test]
fn corrupt_archives_are_rejected() {
    let good = build(&[
        RawEntry::file("a", b"hello world"),
        RawEntry::deflated("b", &[b'q'; 10_000]),
    ]);
    // CRC mismatch: flip one data byte of the stored entry (local header is 30 + 1 bytes).
    let mut flipped = good.clone();
    flipped[31] ^= 0xff;
    assert_invalid(&reject(&flipped));
    // Truncated anywhere: the end record or the data is gone.
    for cut in [0, 1, 10, 40, good.len() / 2, good.len() - 1] {
        assert_invalid(&reject(&good[..cut]));
    }
    // Corrupt central-directory signature.
    let cd = good
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .expect("cd");
    let mut bad_cd = good.clone();
    bad_cd[cd] = 0;
    assert_invalid(&reject(&bad_cd));
    // Garbage.
    assert_invalid(&reject(b"PK\x03\x04 not really a zip"));
    assert_invalid(&reject(&[]));
}

#[test]
fn encrypted_and_unsupported_methods_are_rejected() {
    let mut enc = RawEntry::file("secret", b"x");
    enc.flags = 1;
    let err = reject(&build(&[enc]));
    assert_invalid(&err);
    assert!(err.to_string().contains("encrypted"), "{err}");
    for method in [1u16, 12, 14, 93, 95, 98, 99] {
        let mut e = RawEntry::file("f", b"x");
        e.method = method;
        let err = reject(&build(&[e]));
        assert_invalid(&err);
    }
}

#[test]
fn lying_sizes_are_caught() {
    // Declared smaller than the real output: the decompressor's real output counts.
    let mut small = RawEntry::deflated("f", &vec![0u8; 1_000_000]);
    small.uncompressed_size = 10;
    assert_invalid(&reject(&build(&[small])));
    // Declared larger than the real output but CRC right: only real bytes are written.
    let mut big = RawEntry::file("g", b"abc");
    big.uncompressed_size = 3_000;
    let zip = build(&[big]);
    for (sandbox, result) in extract_both(&zip) {
        if let Ok(stats) = result {
            assert_eq!(stats.bytes_written, 3);
            sandbox.assert_nothing_outside();
        } else {
            sandbox.assert_clean();
        }
    }
}

#[test]
fn declared_size_over_the_cap_fails_before_writing() {
    // A ZIP64-style fake: the header claims ~4 GiB.
    let mut e = RawEntry::file("f", b"abc");
    e.uncompressed_size = u32::MAX;
    let err = reject(&build(&[RawEntry::file("first", b"x"), e]));
    assert!(
        matches!(err, PackageError::UnzippedTooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn too_many_entries_fails_before_writing() {
    let entries: Vec<RawEntry> = (0..65_536)
        .map(|i| RawEntry::file(&format!("{i:x}"), b""))
        .collect();
    let zip = build(&entries);
    let started = Instant::now();
    let err = reject(&zip);
    assert!(started.elapsed() < HOSTILE_BUDGET);
    assert!(
        matches!(
            err,
            PackageError::TooManyEntries {
                count: 65_536,
                limit: 65_535,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn created_nodes_are_capped() {
    let limits = Limits {
        created_nodes_max: 10,
        ..Limits::default()
    };
    let zip = build(&[RawEntry::file("a/b/c/d/e/f/g/h/i/j/k/file", b"x")]);
    let sandbox = Sandbox::new();
    let err = extract_with_limits(&zip, &sandbox.stage, &limits).expect_err("over cap");
    assert!(
        matches!(err, PackageError::TooManyEntries { .. }),
        "{err:?}"
    );
    sandbox.assert_clean();
}

#[test]
fn honest_bomb_stops_before_writing() {
    // 300 MB of zeros in one DEFLATE stream (~300 KB), sizes declared truthfully.
    let mut w = writer();
    w.start_file("zeros", opts(0o644)).expect("start");
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..300 {
        w.write_all(&chunk).expect("write");
    }
    let zip = w.finish().expect("finish").into_inner();
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let err = extract(&zip, &sandbox.stage).expect_err("bomb");
    let elapsed = started.elapsed();
    eprintln!("honest bomb: {} B zip rejected in {elapsed:?}", zip.len());
    assert!(elapsed < HOSTILE_BUDGET);
    assert!(matches!(err, PackageError::UnzippedTooLarge { limit } if limit == UNZIPPED_BYTES_MAX));
    sandbox.assert_clean();
}

#[test]
fn lying_bomb_stops_near_the_declared_size() {
    // 400 entries each declaring 1 KB but inflating to 1 MB: declared total passes, real
    // output would be 400 MB. The first entry's excess is refused.
    let mut template = RawEntry::deflated("f", &vec![0u8; 1 << 20]);
    template.uncompressed_size = 1024;
    let entries: Vec<RawEntry> = (0..400)
        .map(|i| RawEntry {
            name: format!("f{i}").into_bytes(),
            ..template.clone()
        })
        .collect();
    let zip = build(&entries);
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let result = extract(&zip, &sandbox.stage);
    let elapsed = started.elapsed();
    eprintln!("lying bomb: {} B zip, {result:?} in {elapsed:?}", zip.len());
    assert!(result.is_err());
    assert!(elapsed < HOSTILE_BUDGET);
    assert!(disk_bytes(&sandbox.stage) <= UNZIPPED_BYTES_MAX);
    sandbox.assert_clean();
}

#[test]
fn overlapping_entry_bomb_is_rejected() {
    // Fifield-style: one DEFLATE stream shared by many central-directory entries.
    let mut entries = vec![RawEntry::deflated("kernel", &vec![0u8; 1 << 20])];
    for i in 0..1000 {
        let mut alias = entries[0].clone();
        alias.name = format!("copy{i}").into_bytes();
        alias.alias_of = Some(0);
        entries.push(alias);
    }
    let err = reject(&build(&entries));
    assert_invalid(&err);
    assert!(err.to_string().contains("overlap"), "{err}");
}

#[test]
fn copy_counts_real_bytes_not_headers() {
    // The byte counter is the last line of defence if a zip-crate change ever stopped
    // enforcing declared sizes: feed it an endless reader.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out");
    let mut out = std::fs::File::create(&path).expect("create");
    let mut buf = vec![0u8; 64 * 1024];
    let limits = Limits {
        unzipped_bytes_max: 1_000_000,
        ..Limits::default()
    };
    let mut endless = std::io::repeat(7);
    let err = super::extract::copy_capped(
        &mut endless,
        &mut out,
        1_000_000,
        &mut buf,
        "endless",
        &limits,
    )
    .expect_err("endless input");
    assert!(matches!(err, PackageError::UnzippedTooLarge { .. }));
    let written = std::fs::metadata(&path).expect("meta").len();
    assert!(written <= 1_000_000, "wrote {written}");
}

#[test]
fn unzipped_cap_counts_symlink_targets_and_files() {
    let limits = Limits {
        unzipped_bytes_max: 10,
        ..Limits::default()
    };
    let zip = build(&[
        RawEntry::file("a", b"12345"),
        RawEntry::symlink("l", "a23456"),
    ]);
    let sandbox = Sandbox::new();
    let err = extract_with_limits(&zip, &sandbox.stage, &limits).expect_err("cap");
    assert!(matches!(err, PackageError::UnzippedTooLarge { limit: 10 }));
    sandbox.assert_clean();
}

#[test]
fn target_must_be_empty_and_is_left_alone() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.stage.join("keep"), b"mine").expect("write");
    let err = extract(&build(&[RawEntry::file("a", b"1")]), &sandbox.stage).expect_err("busy");
    assert!(matches!(err, PackageError::Io { .. }));
    assert!(!err.is_client_error());
    assert_eq!(walk(&sandbox.stage), vec![Path::new("keep").to_path_buf()]);
}

#[test]
fn zip_over_the_size_limit_is_refused() {
    let limits = Limits {
        zip_bytes_max: 100,
        ..Limits::default()
    };
    let zip = build(&[RawEntry::file("a", &[1u8; 200])]);
    let sandbox = Sandbox::new();
    let err = extract_with_limits(&zip, &sandbox.stage, &limits).expect_err("too big");
    assert!(matches!(err, PackageError::TooLarge { limit: 100, .. }));
    assert_eq!(err.lambda_error_code(), "RequestEntityTooLargeException");
    sandbox.assert_clean();
}

#[test]
fn empty_archive_is_an_empty_tree() {
    let zip = writer().finish().expect("finish").into_inner();
    let sandbox = Sandbox::new();
    let stats = extract(&zip, &sandbox.stage).expect("extract");
    assert_eq!(stats, ExtractStats::default());
}

mod prop {
    use std::path::{Component, Path, PathBuf};

    use proptest::prelude::*;

    use super::super::extract::extract_with_walk;
    use super::super::testzip::{RawEntry, Sandbox, build, walk};
    use super::super::{Limits, extract};

    fn component() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just(String::new()),
            Just("a".to_owned()),
            Just("b".to_owned()),
            Just("...".to_owned()),
            Just("\\".to_owned()),
            Just("..\\..".to_owned()),
            Just("a\0b".to_owned()),
            Just("C:".to_owned()),
            Just("x".repeat(256)),
            "[ab./\\\\]{1,5}",
        ]
    }

    fn name() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            prop::collection::vec(component(), 1..6),
            any::<bool>(),
        )
            .prop_map(|(absolute, parts, trailing)| {
                let mut s = if absolute {
                    "/".to_owned()
                } else {
                    String::new()
                };
                s.push_str(&parts.join("/"));
                if trailing {
                    s.push('/');
                }
                s
            })
    }

    /// Lexically resolve `target` from `link_dir` (relative to the root); None if it climbs
    /// above the root. Independent of the implementation under test.
    fn resolve_inside(link_dir: &Path, target: &Path) -> Option<PathBuf> {
        if target.is_absolute() {
            return None;
        }
        let mut out = PathBuf::new();
        for c in link_dir.join(target).components() {
            match c {
                Component::Normal(n) => out.push(n),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !out.pop() {
                        return None;
                    }
                }
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        Some(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn hostile_names_never_escape(
            entries in prop::collection::vec((name(), 0u8..3, name()), 1..8),
            use_walk in any::<bool>(),
        ) {
            let raw: Vec<RawEntry> = entries
                .iter()
                .map(|(n, kind, target)| match kind {
                    0 => RawEntry::file(n, b"data"),
                    1 => RawEntry::dir(n),
                    _ => RawEntry::symlink(n, target),
                })
                .collect();
            let zip = build(&raw);
            let sandbox = Sandbox::new();
            let result = if use_walk {
                extract_with_walk(&zip, &sandbox.stage, &Limits::default())
            } else {
                extract(&zip, &sandbox.stage)
            };
            match result {
                Ok(_) => {
                    sandbox.assert_nothing_outside();
                    let root = sandbox.stage.canonicalize().expect("canonical root");
                    for rel in walk(&sandbox.stage) {
                        let full = sandbox.stage.join(&rel);
                        let meta = std::fs::symlink_metadata(&full).expect("meta");
                        if meta.file_type().is_symlink() {
                            let target = std::fs::read_link(&full).expect("readlink");
                            let dir = rel.parent().unwrap_or(Path::new(""));
                            prop_assert!(
                                resolve_inside(dir, &target).is_some(),
                                "{rel:?} -> {target:?} escapes"
                            );
                            if let Ok(real) = full.canonicalize() {
                                prop_assert!(real.starts_with(&root), "{rel:?} -> {real:?}");
                            }
                        }
                    }
                }
                Err(_) => sandbox.assert_clean(),
            }
        }
    }
}
