//! Function names, ARNs, qualifiers and alias names.
//!
//! Accepted forms of the `FunctionName` parameter (the four Lambda documents):
//! - `my-fn`, `my-fn:3`, `my-fn:prod`, `my-fn:$LATEST`
//! - partial ARN `123456789012:function:my-fn[:qualifier]`
//! - full ARN `arn:aws:lambda:us-east-1:123456789012:function:my-fn[:qualifier]`
//!
//! The model's regex also matches odd mixes (`us-east-1:123456789012:function:my-fn`,
//! `function:my-fn:1`, an empty partition); Nimbus rejects those with the same
//! pattern message. Two-part inputs are always `name:qualifier`, so
//! `function:prod` and `123456789012:prod` name the functions `function` and
//! `123456789012` (a greedy regex would read them as partial ARNs). Names never contain `.` (the 256-char
//! `NamespacedFunctionName` allows it; Nimbus does not), and `$LATEST.PUBLISHED`
//! is not a qualifier Nimbus knows.

use std::fmt;

use crate::error::ErrorCode;
use crate::limits;
use crate::patterns;
use crate::validate::{
    ValidationFailure, Violation, max_length, min_length, pattern, validation_exception,
};

/// The `FunctionName` pattern printed in messages (model `FunctionName`, as Nimbus accepts it).
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

/// The qualifier pattern printed in messages (what Nimbus accepts).
pub const QUALIFIER_PATTERN: &str = r"(\$LATEST|[a-zA-Z0-9-_]+)";

/// The alias-name pattern printed in messages (model `Alias`).
pub const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";

/// The unpublished version.
pub const LATEST: &str = "$LATEST";

/// Lambda's text when the name's qualifier and the `Qualifier` parameter differ.
pub const MSG_QUALIFIER_CONFLICT: &str =
    "The derived qualifier from the function name does not match the specified qualifier.";

/// Why a name, qualifier or alias was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Model constraints failed (length, pattern) → `ValidationException`.
    Constraint(Vec<Violation>),
    /// The name's qualifier differs from the `Qualifier` parameter →
    /// `InvalidParameterValueException`.
    QualifierConflict,
}

impl NameError {
    /// The violations (empty for a conflict).
    pub fn violations(&self) -> &[Violation] {
        match self {
            NameError::Constraint(v) => v,
            NameError::QualifierConflict => &[],
        }
    }

    /// The failure to answer with.
    pub fn to_failure(&self) -> ValidationFailure {
        match self {
            NameError::Constraint(v) => validation_exception(v).unwrap_or_else(|| {
                ValidationFailure::new(ErrorCode::Validation, "1 validation error detected")
            }),
            NameError::QualifierConflict => {
                ValidationFailure::invalid_parameter(MSG_QUALIFIER_CONFLICT)
            }
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failure = self.to_failure();
        write!(f, "{}", failure.message)
    }
}

impl std::error::Error for NameError {}

impl From<NameError> for ValidationFailure {
    fn from(e: NameError) -> ValidationFailure {
        e.to_failure()
    }
}

/// A parsed `FunctionName` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionRef {
    /// Bare function name, `[a-zA-Z0-9-_]{1,64}`.
    pub name: String,
    /// `$LATEST`, a version number or an alias name.
    pub qualifier: Option<String>,
    /// Account id from a partial or full ARN.
    pub account: Option<String>,
    /// Region from a full ARN.
    pub region: Option<String>,
    /// Partition from a full ARN (`aws`, `aws-cn`, ...).
    pub partition: Option<String>,
}

impl FunctionRef {
    /// Parse a path parameter of Invoke/Get/Delete/... (up to 256 characters).
    pub fn parse(input: &str) -> Result<FunctionRef, NameError> {
        FunctionRef::parse_with_max(input, limits::FUNCTION_REF_CHARS_MAX)
    }

    /// Parse CreateFunction's `FunctionName` (up to 140 characters).
    pub fn parse_for_create(input: &str) -> Result<FunctionRef, NameError> {
        FunctionRef::parse_with_max(input, limits::FUNCTION_REF_CREATE_CHARS_MAX)
    }

    /// Parse with an explicit total-length cap in characters.
    pub fn parse_with_max(input: &str, max_chars: usize) -> Result<FunctionRef, NameError> {
        let mut violations = Vec::new();
        let len = input.chars().count();
        if len == 0 {
            violations.push(Violation::new(input, "functionName", min_length(1)));
        }
        if len > max_chars {
            violations.push(Violation::new(input, "functionName", max_length(max_chars)));
        }
        let parsed = parse_structure(input);
        match &parsed {
            None => violations.push(Violation::new(
                input,
                "functionName",
                pattern(FUNCTION_NAME_PATTERN),
            )),
            Some(r) if r.name.chars().count() > limits::FUNCTION_NAME_CHARS_MAX => {
                violations.push(Violation::new(
                    input,
                    "functionName",
                    max_length(limits::FUNCTION_NAME_CHARS_MAX),
                ));
            }
            Some(_) => {}
        }
        match parsed {
            Some(r) if violations.is_empty() => Ok(r),
            _ => Err(NameError::Constraint(violations)),
        }
    }

    /// Combine with the `Qualifier` query parameter: validate it, and refuse a
    /// different qualifier already in the name (Lambda's conflict rule).
    pub fn with_qualifier_param(self, qualifier: Option<&str>) -> Result<FunctionRef, NameError> {
        let Some(q) = qualifier else {
            return Ok(self);
        };
        let q = parse_qualifier(q)?;
        match &self.qualifier {
            Some(existing) if *existing != q => Err(NameError::QualifierConflict),
            _ => Ok(FunctionRef {
                qualifier: Some(q),
                ..self
            }),
        }
    }

    /// The ARN with this ref's qualifier; region/account/partition from the
    /// ref when it carried them, else from the arguments.
    pub fn arn(&self, default_region: &str, default_account: &str) -> String {
        let region = self.region.as_deref().unwrap_or(default_region);
        let account = self.account.as_deref().unwrap_or(default_account);
        let arn = function_arn(region, account, &self.name, self.qualifier.as_deref());
        match &self.partition {
            Some(p) => replace_partition(&arn, p),
            None => arn,
        }
    }

    /// The ARN without the qualifier.
    pub fn unqualified_arn(&self, default_region: &str, default_account: &str) -> String {
        FunctionRef {
            qualifier: None,
            ..self.clone()
        }
        .arn(default_region, default_account)
    }
}

/// Swap the partition of an ARN built by [`function_arn`].
fn replace_partition(arn: &str, partition: &str) -> String {
    match arn.strip_prefix("arn:").and_then(|r| r.split_once(':')) {
        Some((_, rest)) => format!("arn:{partition}:{rest}"),
        None => arn.to_string(),
    }
}

impl fmt::Display for FunctionRef {
    /// Prints the form it was parsed from (bare name, partial ARN, or full ARN).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.region, &self.account) {
            (Some(region), Some(account)) => {
                let partition = self
                    .partition
                    .clone()
                    .unwrap_or_else(|| partition_for_region(region).to_string());
                write!(
                    f,
                    "arn:{partition}:lambda:{region}:{account}:function:{}",
                    self.name
                )?;
            }
            (None, Some(account)) => write!(f, "{account}:function:{}", self.name)?,
            _ => write!(f, "{}", self.name)?,
        }
        if let Some(q) = &self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

/// Split and check the structure; `None` if the input matches no accepted form.
fn parse_structure(input: &str) -> Option<FunctionRef> {
    let parts: Vec<&str> = input.split(':').collect();
    let (partition, region, account, name, qualifier) = match parts.as_slice() {
        [name] => (None, None, None, *name, None),
        [name, q] => (None, None, None, *name, Some(*q)),
        [account, "function", name] => (None, None, Some(*account), *name, None),
        [account, "function", name, q] => (None, None, Some(*account), *name, Some(*q)),
        ["arn", p, "lambda", region, account, "function", name] => {
            (Some(*p), Some(*region), Some(*account), *name, None)
        }
        ["arn", p, "lambda", region, account, "function", name, q] => {
            (Some(*p), Some(*region), Some(*account), *name, Some(*q))
        }
        _ => return None,
    };
    if !patterns::is_name_chars(name) {
        return None;
    }
    if let Some(q) = qualifier
        && !is_qualifier(q)
    {
        return None;
    }
    if let Some(a) = account
        && !patterns::is_account_id(a)
    {
        return None;
    }
    if let Some(r) = region
        && !patterns::is_region(r)
    {
        return None;
    }
    if let Some(p) = partition
        && !patterns::is_partition(p)
    {
        return None;
    }
    Some(FunctionRef {
        name: name.to_string(),
        qualifier: qualifier.map(str::to_string),
        account: account.map(str::to_string),
        region: region.map(str::to_string),
        partition: partition.map(str::to_string),
    })
}

/// `$LATEST` or `[a-zA-Z0-9-_]{1,128}`.
pub fn is_qualifier(q: &str) -> bool {
    q == LATEST || (patterns::is_name_chars(q) && q.len() <= limits::QUALIFIER_CHARS_MAX)
}

/// Validate a `Qualifier` parameter (violations at `qualifier`).
pub fn parse_qualifier(q: &str) -> Result<String, NameError> {
    let mut violations = Vec::new();
    let len = q.chars().count();
    if len == 0 {
        violations.push(Violation::new(q, "qualifier", min_length(1)));
    }
    if len > limits::QUALIFIER_CHARS_MAX {
        violations.push(Violation::new(
            q,
            "qualifier",
            max_length(limits::QUALIFIER_CHARS_MAX),
        ));
    }
    if !(q == LATEST || patterns::is_name_chars(q)) {
        violations.push(Violation::new(q, "qualifier", pattern(QUALIFIER_PATTERN)));
    }
    if violations.is_empty() {
        Ok(q.to_string())
    } else {
        Err(NameError::Constraint(violations))
    }
}

/// Whether a qualifier names a published version (`[0-9]+`).
pub fn is_version_number(q: &str) -> bool {
    patterns::is_digits(q)
}

/// Validate an alias name: 1–128 of `[a-zA-Z0-9-_]`, not all digits
/// (so `$LATEST` and `123` are refused). Violations at `name`.
pub fn validate_alias_name(name: &str) -> Result<(), NameError> {
    let mut violations = Vec::new();
    let len = name.chars().count();
    if len == 0 {
        violations.push(Violation::new(name, "name", min_length(1)));
    }
    if len > limits::ALIAS_CHARS_MAX {
        violations.push(Violation::new(
            name,
            "name",
            max_length(limits::ALIAS_CHARS_MAX),
        ));
    }
    if !patterns::is_name_chars(name) || patterns::is_digits(name) {
        violations.push(Violation::new(name, "name", pattern(ALIAS_PATTERN)));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(NameError::Constraint(violations))
    }
}

/// ARN partition for a region: `aws-cn` for `cn-*`, `aws-us-gov` for
/// `us-gov-*`, `aws-iso`/`aws-iso-b` for the ISO regions, else `aws`.
pub fn partition_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
pub fn function_arn(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> String {
    let partition = partition_for_region(region);
    match qualifier {
        Some(q) => format!("arn:{partition}:lambda:{region}:{account}:function:{name}:{q}"),
        None => format!("arn:{partition}:lambda:{region}:{account}:function:{name}"),
    }
}

/// Characters of a function URL id (Lambda's length).
pub const FUNCTION_URL_ID_CHARS: usize = 32;

/// The id in a function URL (`<url-id>.lambda-url.…`): 32 characters of `[a-z0-9]` from the
/// SHA-256 of account, region, function and qualifier (each NUL-terminated), so the same
/// function and qualifier always get the same address. The platform serves it and the
/// template reader resolves `!GetAtt FnUrl.FunctionUrl` to it; both call this.
pub fn function_url_id(account: &str, region: &str, function: &str, qualifier: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = Sha256::new();
    for part in [account, region, function, qualifier] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .take(FUNCTION_URL_ID_CHARS)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(name: &str, q: Option<&str>, acct: Option<&str>, region: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            qualifier: q.map(Into::into),
            account: acct.map(Into::into),
            region: region.map(Into::into),
            partition: region.map(|_| "aws".to_string()),
        }
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(
            FunctionRef::parse("my-fn").unwrap(),
            r("my-fn", None, None, None)
        );
        assert_eq!(
            FunctionRef::parse("my-fn:3").unwrap(),
            r("my-fn", Some("3"), None, None)
        );
        assert_eq!(
            FunctionRef::parse("my_fn:prod").unwrap(),
            r("my_fn", Some("prod"), None, None)
        );
        assert_eq!(
            FunctionRef::parse("my-fn:$LATEST").unwrap(),
            r("my-fn", Some("$LATEST"), None, None)
        );
        assert_eq!(
            FunctionRef::parse("123456789012:function:my-fn").unwrap(),
            r("my-fn", None, Some("123456789012"), None)
        );
        assert_eq!(
            FunctionRef::parse("123456789012:function:my-fn:7").unwrap(),
            r("my-fn", Some("7"), Some("123456789012"), None)
        );
        assert_eq!(
            FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:my-fn").unwrap(),
            r("my-fn", None, Some("123456789012"), Some("us-east-1"))
        );
        let cn = FunctionRef::parse("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:$LATEST")
            .unwrap();
        assert_eq!(cn.partition.as_deref(), Some("aws-cn"));
        assert_eq!(cn.qualifier.as_deref(), Some("$LATEST"));
        assert!(FunctionRef::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn hostile_inputs_rejected() {
        let long_name = "a".repeat(65);
        let long_arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            "a".repeat(94)
        );
        let hostile = [
            "",
            "..",
            ".",
            "a/b",
            "../etc/passwd",
            "%2e%2e",
            "a%00b",
            "a\0b",
            "my fn",
            " my-fn",
            "my-fn ",
            "my-fn\n",
            "mу-fn",   // Cyrillic у
            "my‐fn",   // U+2010 hyphen
            "ｍｙ-fn", // fullwidth
            "fn-🦀",
            "my.fn",
            "my-fn:",
            ":my-fn",
            "my-fn:1:2",
            "my-fn:$LATEST.PUBLISHED",
            "my-fn:$latest",
            "my-fn:a b",
            "my-fn:$",
            "function:my-fn:1",
            "12345678901:function:my-fn",
            "123456789012:fn:my-fn",
            "arn:aws:lambda:us-east-1:123456789012:my-fn",
            "arn:aws:lambda:us-east-1:123456789012:layer:my-fn",
            "arn:aws:s3:us-east-1:123456789012:function:my-fn",
            "arn:gcp:lambda:us-east-1:123456789012:function:my-fn",
            "arn::lambda:us-east-1:123456789012:function:my-fn",
            "arn:aws:lambda:US-EAST-1:123456789012:function:my-fn",
            "arn:aws:lambda:us-east-1:1234567890123:function:my-fn",
            "arn:aws:lambda::123456789012:function:my-fn",
            &long_name,
        ];
        for h in hostile {
            let e = FunctionRef::parse(h).unwrap_err();
            let f = e.to_failure();
            assert_eq!(f.code, ErrorCode::Validation, "{h:?}");
            assert!(f.message.contains("at 'functionName'"), "{h:?}");
        }
        // 141-char ARN passes the 256 cap but not the create cap.
        assert_eq!(long_arn.len(), 141);
        assert!(FunctionRef::parse(&long_arn).is_err()); // name is 94 > 64
        let ok_141 = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}:{}",
            "a".repeat(64),
            "q".repeat(29)
        );
        assert_eq!(ok_141.len(), 141);
        assert!(FunctionRef::parse(&ok_141).is_ok());
        let e = FunctionRef::parse_for_create(&ok_141).unwrap_err();
        assert_eq!(
            e.to_failure().message,
            format!(
                "1 validation error detected: Value '{ok_141}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140"
            )
        );
    }

    #[test]
    fn messages() {
        let e = FunctionRef::parse(&"a".repeat(65)).unwrap_err();
        assert_eq!(
            e.to_failure().message,
            format!(
                "1 validation error detected: Value '{}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64",
                "a".repeat(65)
            )
        );
        let e = FunctionRef::parse("a/b").unwrap_err();
        assert_eq!(
            e.to_failure().message,
            format!(
                "1 validation error detected: Value 'a/b' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"
            )
        );
        let e = FunctionRef::parse("").unwrap_err();
        assert!(
            e.to_failure()
                .message
                .starts_with("2 validation errors detected: ")
        );
        let big = "!".repeat(300);
        let e = FunctionRef::parse(&big).unwrap_err();
        assert_eq!(e.violations().len(), 2);
    }

    #[test]
    fn qualifier_param_rules() {
        let f = FunctionRef::parse("my-fn").unwrap();
        assert_eq!(
            f.clone()
                .with_qualifier_param(Some("prod"))
                .unwrap()
                .qualifier
                .as_deref(),
            Some("prod")
        );
        assert_eq!(f.clone().with_qualifier_param(None).unwrap(), f);
        let q = FunctionRef::parse("my-fn:1").unwrap();
        assert_eq!(q.clone().with_qualifier_param(Some("1")).unwrap(), q);
        let e = q.with_qualifier_param(Some("2")).unwrap_err();
        assert_eq!(e, NameError::QualifierConflict);
        let fail = e.to_failure();
        assert_eq!(fail.code, ErrorCode::InvalidParameterValue);
        assert_eq!(fail.message, MSG_QUALIFIER_CONFLICT);
        let e = f.with_qualifier_param(Some("a b")).unwrap_err();
        assert_eq!(
            e.to_failure().message,
            r"1 validation error detected: Value 'a b' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (\$LATEST|[a-zA-Z0-9-_]+)"
        );
        assert!(parse_qualifier(&"q".repeat(128)).is_ok());
        assert!(parse_qualifier(&"q".repeat(129)).is_err());
        assert!(parse_qualifier("").is_err());
        assert!(parse_qualifier("$LATEST").is_ok());
        assert!(is_version_number("12"));
        assert!(!is_version_number("v12"));
    }

    #[test]
    fn aliases() {
        assert!(validate_alias_name("prod").is_ok());
        assert!(validate_alias_name("v1-blue_2").is_ok());
        assert!(validate_alias_name("1a").is_ok());
        assert!(validate_alias_name(&"a".repeat(128)).is_ok());
        for bad in ["", "123", "$LATEST", "a b", "a.b", "prod:1", "ä"] {
            let e = validate_alias_name(bad).unwrap_err();
            assert_eq!(e.to_failure().code, ErrorCode::Validation, "{bad}");
        }
        assert_eq!(
            validate_alias_name("123").unwrap_err().to_failure().message,
            "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        );
        assert!(validate_alias_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn arns() {
        assert_eq!(
            function_arn("us-east-1", "123456789012", "f", None),
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        assert_eq!(
            function_arn("cn-north-1", "123456789012", "f", Some("$LATEST")),
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f:$LATEST"
        );
        assert_eq!(
            function_arn("us-gov-west-1", "123456789012", "f", Some("2")),
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:2"
        );
        let r = FunctionRef::parse("my-fn:prod").unwrap();
        assert_eq!(
            r.arn("eu-west-1", "000000000000"),
            "arn:aws:lambda:eu-west-1:000000000000:function:my-fn:prod"
        );
        assert_eq!(
            r.unqualified_arn("eu-west-1", "000000000000"),
            "arn:aws:lambda:eu-west-1:000000000000:function:my-fn"
        );
        let full =
            FunctionRef::parse("arn:aws-x:lambda:us-east-1:123456789012:function:f").unwrap();
        assert_eq!(
            full.arn("eu-west-1", "000000000000"),
            "arn:aws-x:lambda:us-east-1:123456789012:function:f"
        );
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_-]{1,64}"
    }

    fn qualifier_strategy() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some(LATEST.to_string())),
            "[0-9]{1,5}".prop_map(Some),
            "[a-zA-Z0-9_-]{1,128}".prop_map(Some),
        ]
    }

    fn region_strategy() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("eusc-")],
            "[a-z]{2}",
            prop_oneof![Just(""), Just("-gov"), Just("-iso"), Just("-isob")],
            "[a-z]{1,12}",
            "[0-9]",
        )
            .prop_map(|(p, cc, g, w, d)| format!("{p}{cc}{g}-{w}-{d}"))
    }

    fn ref_strategy() -> impl Strategy<Value = FunctionRef> {
        (
            name_strategy(),
            qualifier_strategy(),
            0u8..3,
            "[0-9]{12}",
            region_strategy(),
            "aws[a-zA-Z-]{0,8}",
        )
            .prop_map(
                |(name, qualifier, form, account, region, partition)| match form {
                    0 => FunctionRef {
                        name,
                        qualifier,
                        account: None,
                        region: None,
                        partition: None,
                    },
                    1 => FunctionRef {
                        name,
                        qualifier,
                        account: Some(account),
                        region: None,
                        partition: None,
                    },
                    _ => FunctionRef {
                        name,
                        qualifier,
                        account: Some(account),
                        region: Some(region),
                        partition: Some(partition),
                    },
                },
            )
    }

    proptest! {
        #[test]
        fn parse_print_round_trip(x in ref_strategy()) {
            let text = x.to_string();
            let parsed = FunctionRef::parse_with_max(&text, usize::MAX);
            prop_assert_eq!(parsed, Ok(x.clone()));
            if text.chars().count() <= limits::FUNCTION_REF_CHARS_MAX {
                prop_assert_eq!(FunctionRef::parse(&text), Ok(x));
            } else {
                prop_assert!(FunctionRef::parse(&text).is_err());
            }
        }

        #[test]
        fn any_char_outside_the_set_is_rejected(
            prefix in "[a-zA-Z0-9_-]{0,20}",
            bad in any::<char>().prop_filter("outside name set", |c| !patterns::is_name_char(*c) && *c != ':'),
            suffix in "[a-zA-Z0-9_-]{0,20}",
        ) {
            let input = format!("{prefix}{bad}{suffix}");
            prop_assert!(FunctionRef::parse(&input).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = FunctionRef::parse(&s);
            let _ = parse_qualifier(&s);
            let _ = validate_alias_name(&s);
        }
    }
}
