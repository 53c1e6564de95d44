//! Property tests of the template loader (G5 target 6: a template is untrusted input).
//!
//! `load_str` is fed arbitrary text and bytes, YAML-flavoured noise, mutations of the real
//! templates under `tests/templates/*/template.yaml` (lines deleted, duplicated, swapped;
//! characters inserted and replaced), nesting far beyond [`limits::DEPTH_MAX`] in flow
//! (`[[[…`, `{a: {a: …`) and block style, alias bombs, and `Condition` chains and cycles.
//! Oracles: it never panics (nor overflows the stack of a test thread); it gives the same
//! answer twice; and every error and diagnostic points inside the input (line at most the
//! number of lines + 1, column at most that line's length + 1; line 0 only for whole-file
//! errors). Time is bounded by bounding input sizes, not by timed assertions.

use std::path::{Path, PathBuf};

use nimbus_template::{Context, Loaded, TemplateError, limits, load_str};
use proptest::prelude::*;

/// Cases per property: a few seconds in a debug build.
const CASES: u32 = 256;
/// Overrides [`CASES`] (proptest's own variable).
const CASES_ENV: &str = "PROPTEST_CASES";
/// Longest random text: far more than any grammar branch needs, and quick to parse.
const NOISE_CHARS_MAX: usize = 2_000;
/// Most mutations applied to one real template.
const MUTATIONS_MAX: usize = 8;
/// Deepest nesting generated: four times the limit.
const NESTING_MAX: usize = 4 * limits::DEPTH_MAX;
/// Most nodes an alias bomb of the property expands to: quick to build in a debug build.
const BOMB_NODES_MAX: usize = 1 << 12;
/// Longest `Condition` chain: past `EVAL_DEPTH_MAX`, so the evaluator's bound is met.
const CHAIN_MAX: usize = 2 * limits::EVAL_DEPTH_MAX + 8;

fn ctx() -> Context {
    Context {
        stack_name: "app".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        queue_url_base: "http://127.0.0.1:9000".into(),
        gateway_url: "http://127.0.0.1:3000".into(),
        parameters: Default::default(),
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The real templates: (path, text), sorted by path.
fn real_templates() -> Vec<(PathBuf, String)> {
    let dir = repo().join("tests/templates");
    let mut found: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path().join("template.yaml"))
        .filter(|p| p.is_file())
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("template text");
            (p, text)
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no templates under {}", dir.display());
    found
}

/// The characters of each line of `text`, lines ending where YAML ends them: at `\r\n`,
/// `\r` or `\n` (a lone carriage return is a line break to YAML and to editors).
fn yaml_lines(text: &str) -> Vec<usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = vec![0];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                lines.push(0);
            }
            '\n' => lines.push(0),
            _ => *lines.last_mut().expect("a line") += 1,
        }
    }
    lines
}

/// A place inside `text`: line 0 (whole file) or a real line, or the one just past the end;
/// the column at most one past the line's end.
fn check_place(text: &str, what: &str, line: usize, column: usize) -> Result<(), TestCaseError> {
    if line == 0 {
        return Ok(());
    }
    let lines = yaml_lines(text);
    prop_assert!(
        line <= lines.len() + 1,
        "{what} at line {line}, the input has {} lines",
        lines.len()
    );
    let len = lines.get(line - 1).copied().unwrap_or(0);
    prop_assert!(
        (1..=len + 1).contains(&column),
        "{what} at {line}:{column}, the line has {len} characters"
    );
    Ok(())
}

/// Loads `text` twice and checks the oracles.
fn check(text: &str, file: &Path) -> Result<(), TestCaseError> {
    let first = load_str(text, file, &ctx());
    let second = load_str(text, file, &ctx());
    prop_assert!(same(&first, &second), "two loads of one text differ");
    match &first {
        Ok(loaded) => {
            for d in &loaded.diagnostics {
                check_place(text, &d.to_string(), d.line, d.column)?;
            }
        }
        Err(e) => {
            check_place(text, &e.to_string(), e.line, e.column)?;
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// Equal results (`Loaded` holds floats, so NaN is compared by its debug text).
fn same(a: &Result<Loaded, TemplateError>, b: &Result<Loaded, TemplateError>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b || format!("{a:?}") == format!("{b:?}"),
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

fn noise_file() -> PathBuf {
    repo().join("tests/templates/noise/template.yaml")
}

// ----- strategies -----

/// YAML's punctuation, indentation and the words templates use.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("- ".to_string()),
        Just(": ".to_string()),
        "[-:{}\\[\\],&*!|>'\"#%@?~ \t\n]",
        Just("Resources:".to_string()),
        Just("Type: AWS::Serverless::Function".to_string()),
        Just("Properties:".to_string()),
        Just("!Ref ".to_string()),
        Just("!Sub ".to_string()),
        Just("!GetAtt ".to_string()),
        Just("!If ".to_string()),
        Just("${".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("<<: ".to_string()),
        Just("!!int ".to_string()),
        Just("---\n".to_string()),
        "[a-zA-Z0-9_.]{1,12}",
    ];
    proptest::collection::vec(token, 0..200).prop_map(|t| t.concat())
}

/// One edit of a template's text.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
    InsertText(prop::sample::Index, String),
    ReplaceChar(prop::sample::Index, char),
    Indent(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        index().prop_map(Mutation::DeleteLine),
        index().prop_map(Mutation::DuplicateLine),
        (index(), index()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (
            index(),
            prop_oneof![
                "[-:{}\\[\\],&*!|>'\"#%@?~ \t\n]{1,3}",
                ".{1,3}",
                "!(Ref|Sub|GetAtt|If|Join|Select|Split|Base64|Condition|Not|Equals|FindInMap) ",
                "\\$\\{[A-Za-z:.]{0,12}\\}?",
            ]
        )
            .prop_map(|(i, s)| Mutation::InsertText(i, s)),
        (index(), any::<char>()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        (index(), 0usize..6).prop_map(|(i, n)| Mutation::Indent(i, n)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    match mutation {
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) => {
            let at = i.index(lines.len());
            lines.insert(at, lines[at].clone());
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
        }
        Mutation::Indent(i, n) => {
            let at = i.index(lines.len());
            lines[at] = format!("{}{}", " ".repeat(*n), lines[at].trim_start());
        }
        Mutation::InsertText(i, s) => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = i.index(chars.len() + 1);
            chars.splice(at..at, s.chars());
            return chars.into_iter().collect();
        }
        Mutation::ReplaceChar(i, c) => {
            let mut chars: Vec<char> = text.chars().collect();
            if !chars.is_empty() {
                let at = i.index(chars.len());
                chars[at] = *c;
            }
            return chars.into_iter().collect();
        }
    }
    lines.join("\n")
}

/// Nesting around a real template's first resource property, or alone, in flow or block
/// style, balanced or cut short.
fn nested() -> impl Strategy<Value = String> {
    (0usize..=NESTING_MAX, 0u8..5, any::<bool>()).prop_map(|(depth, style, balanced)| {
        let close_depth = if balanced { depth } else { depth / 2 };
        match style {
            0 => format!("{}{}", "[".repeat(depth), "]".repeat(close_depth)),
            1 => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(close_depth)),
            2 => {
                // Block mappings: `a:` indented one more level per line.
                let mut text = String::new();
                for level in 0..depth {
                    text.push_str(&" ".repeat(level));
                    text.push_str("a:\n");
                }
                text
            }
            3 => {
                // Block sequences: `- ` one more per level.
                format!("{}x\n", "- ".repeat(depth))
            }
            _ => format!(
                "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      \
                 InlineCode: {}x{}\n      Runtime: python3.12\n      Handler: a.b\n",
                "[".repeat(depth),
                "]".repeat(close_depth)
            ),
        }
    })
}

/// Anchors each repeating the last `fan` times: `fan^levels` nodes once expanded, kept
/// under [`BOMB_NODES_MAX`] (the node limit itself is met by
/// `an_alias_bomb_past_the_node_limit_is_refused`).
fn alias_bomb() -> impl Strategy<Value = String> {
    (1u32..=16, 2usize..=10).prop_map(|(levels, fan)| {
        let levels = (1..=levels)
            .take_while(|&l| fan.checked_pow(l).is_some_and(|n| n <= BOMB_NODES_MAX))
            .count();
        let mut text = String::from("a0: &a0 [x]\n");
        for level in 1..=levels {
            let refs = vec![format!("*a{}", level - 1); fan].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        text
    })
}

/// `Conditions` where each refers to the next, optionally closing into a cycle, used by a
/// resource.
fn condition_chain() -> impl Strategy<Value = String> {
    (
        1usize..=CHAIN_MAX,
        proptest::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(len, back)| {
            let mut text = String::from(
                "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Env:\n    Type: String\n    \
                 Default: dev\nConditions:\n",
            );
            for i in 0..len {
                let next = if i + 1 < len {
                    format!("!Condition C{}", i + 1)
                } else if let Some(back) = &back {
                    format!("!Condition C{}", back.index(len))
                } else {
                    "!Equals [!Ref Env, dev]".to_string()
                };
                text.push_str(&format!("  C{i}: {next}\n"));
            }
            text.push_str("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Condition: C0\n");
            text
        })
}

/// Cases per property, and where shrunk failures are kept (next to this file) to be
/// replayed first by later runs.
fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads `PROPTEST_CASES`, for longer hunts.
    let default = ProptestConfig::default();
    let cases = match std::env::var_os(CASES_ENV) {
        Some(_) => default.cases,
        None => CASES,
    };
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in proptest::collection::vec(any::<char>(), 0..NOISE_CHARS_MAX)) {
        let text: String = text.into_iter().collect();
        check(&text, &noise_file())?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..NOISE_CHARS_MAX)) {
        check(&String::from_utf8_lossy(&bytes), &noise_file())?;
    }

    #[test]
    fn yaml_flavoured_noise_never_panics(text in yamlish()) {
        check(&text, &noise_file())?;
    }

    #[test]
    fn mutated_real_templates_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..=MUTATIONS_MAX),
    ) {
        let templates = real_templates();
        let (path, text) = &templates[which.index(templates.len())];
        let text = mutations.iter().fold(text.clone(), |t, m| apply(&t, m));
        check(&text, path)?;
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed(text in nested()) {
        check(&text, &noise_file())?;
    }

    #[test]
    fn alias_bombs_are_refused(text in alias_bomb()) {
        check(&text, &noise_file())?;
    }

    #[test]
    fn condition_chains_and_cycles_end(text in condition_chain()) {
        check(&text, &noise_file())?;
    }
}

/// The unmutated templates load, so mutations start from valid input.
#[test]
fn the_real_templates_load() {
    for (path, text) in real_templates() {
        if let Err(e) = load_str(&text, &path, &ctx()) {
            panic!("{e}");
        }
    }
}

/// Found by `arbitrary_text_never_panics` (shrunk to this text): a lone `\r` is a YAML line
/// break, so the `\0` saphyr refuses is at 2:5. It is; the oracle counted only `\n`.
#[test]
fn regression_a_lone_carriage_return_starts_a_line() {
    let text = "\u{e000}\u{1}   ¡¡¡0aa¡a\u{1}\u{1}\r\u{1}a ¡\0\0\0\0\0\0";
    let err = load_str(text, &noise_file(), &ctx()).expect_err("unprintable");
    assert_eq!((err.line, err.column), (2, 5), "{err}");
    assert_eq!(yaml_lines(text), [15, 10]);
    assert_eq!(yaml_lines("x\r\ny\n"), [1, 1, 0]);
}

/// Found by `arbitrary_text_never_panics` (shrunk to `%¡\u{80}\0\n`): saphyr-parser counts a
/// `%` directive's name in bytes, so the error at the `\0` was put at column 6 of a
/// 4-character line. It is now kept within the line.
#[test]
fn regression_a_directive_with_wide_characters_keeps_its_error_on_the_line() {
    for text in ["%¡\u{80}\0\n", "%!\u{1}\u{1}\u{1}\u{1}\u{1}\u{fffd}\0\n"] {
        let err = load_str(text, &noise_file(), &ctx()).expect_err("unprintable");
        let len = yaml_lines(text)[0];
        assert_eq!(err.line, 1, "{err}");
        assert!(
            err.column <= len + 1,
            "{err}: the line has {len} characters"
        );
    }
}

/// A billion-laughs document (2^20 nodes once expanded) is refused at the node limit.
#[test]
fn an_alias_bomb_past_the_node_limit_is_refused() {
    let mut text = String::from("a0: &a0 [x, x]\n");
    for level in 1..=20 {
        text.push_str(&format!(
            "a{level}: &a{level} [*a{}, *a{}]\n",
            level - 1,
            level - 1
        ));
    }
    let started = std::time::Instant::now();
    let err = load_str(&text, &noise_file(), &ctx()).expect_err("bomb");
    println!("bomb refused in {:?}: {err}", started.elapsed());
    assert!(
        matches!(err.kind, nimbus_template::ErrorKind::Limit(_)),
        "{err}"
    );
}

/// Nesting just past the limit is an error at the collection that crosses it.
#[test]
fn nesting_past_the_limit_names_its_place() {
    let depth = limits::DEPTH_MAX + 1;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = load_str(&text, &noise_file(), &ctx()).expect_err("too deep");
    assert_eq!((err.line, err.column), (1, limits::DEPTH_MAX + 1), "{err}");
}
