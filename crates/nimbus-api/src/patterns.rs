//! Hand-written matchers for the model's regular expressions (no regex crate).
//!
//! Each matcher is a full match, as Coral applies model patterns, and names
//! the pattern it implements.

/// `[a-zA-Z0-9-_]`: characters of a function name, alias or qualifier.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `[a-zA-Z0-9-_]+`.
pub fn is_name_chars(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_name_char)
}

/// `\d{12}`: an account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `aws[a-zA-Z-]*`: a partition (`aws`, `aws-cn`, `aws-us-gov`, ...).
pub fn is_partition(s: &str) -> bool {
    match s.strip_prefix("aws") {
        Some(rest) => rest.chars().all(|c| c.is_ascii_alphabetic() || c == '-'),
        None => false,
    }
}

/// `[a-z]+`.
fn is_lower_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// `-[a-z]+-\d` (the tail of a region).
fn is_region_tail(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    let Some((word, digit)) = rest.rsplit_once('-') else {
        return false;
    };
    is_lower_word(word) && digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit())
}

/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d`: a region
/// (`us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `eusc-de-east-1`).
///
/// Tries every way the optional groups can match, as a backtracking regex would.
pub fn is_region(s: &str) -> bool {
    let starts = [Some(s), s.strip_prefix("eusc-")];
    for start in starts.into_iter().flatten() {
        let bytes = start.as_bytes();
        if bytes.len() < 2 || !bytes[0].is_ascii_lowercase() || !bytes[1].is_ascii_lowercase() {
            continue;
        }
        let rest = &start[2..];
        let mut tails: Vec<&str> = vec![rest];
        if let Some(t) = rest.strip_prefix("-gov") {
            tails.push(t);
        }
        if let Some(t) = rest.strip_prefix("-iso") {
            tails.push(t);
            if let Some(c) = t.chars().next()
                && c.is_ascii_lowercase()
            {
                tails.push(&t[1..]);
            }
        }
        if tails.into_iter().any(is_region_tail) {
            return true;
        }
    }
    false
}

/// The whitespace class of Java's `\s`: `[ \t\n\x0B\f\r]`.
pub fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// `[^\s]+`: the Handler pattern.
pub fn is_handler(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(is_java_space)
}

/// `[a-zA-Z]([a-zA-Z0-9_])+`: an environment variable name (two characters or more).
pub fn is_env_key(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    let rest = chars.as_str();
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`: an IAM role ARN.
pub fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !partition.is_empty() && !is_partition(partition) {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    if rest.len() < 12 || !rest.is_char_boundary(12) {
        return false;
    }
    let (account, rest) = rest.split_at(12);
    if !is_account_id(account) {
        return false;
    }
    let Some(path) = rest.strip_prefix(":role") else {
        return false;
    };
    // `/?` followed by `[...]+`; `/` is in the class, so this is "one or more of the class".
    !path.is_empty()
        && path.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-' | '/')
        })
}

/// `[0-9]+`.
pub fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Layer version ARN:
/// `(arn:(aws[a-zA-Z-]*)?:lambda:<region>:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`.
pub fn is_layer_version_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [
            "arn",
            partition,
            "lambda",
            region,
            account,
            "layer",
            name,
            version,
        ] => {
            (partition.is_empty() || is_partition(partition))
                && is_region(region)
                && is_account_id(account)
                && is_name_chars(name)
                && is_digits(version)
        }
        ["arn", partition, "lambda", "", "", "awslayer", name] => {
            !partition.is_empty()
                && partition
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && is_name_chars(name)
        }
        _ => false,
    }
}

/// `[\.\-_/#A-Za-z0-9]+`: a log group name.
pub fn is_log_group_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'))
}

/// `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`: a generic resource ARN, or empty
/// (`ResourceArn`, `KMSKeyArn`).
pub fn is_resource_arn_or_empty(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !partition.is_empty() && !is_partition(partition) {
        return false;
    }
    let Some((service, _)) = rest.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        // `.*` does not match line terminators.
        && !s.contains(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-west-3",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eusc-de-east-1",
            "us-gov-1", // `[a-z]+` may itself be "gov", as the regex allows.
            "ap-southeast-2",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "us-east-12",
            "US-east-1",
            "u-east-1",
            "us--1",
            "us-east-a",
            "use-east-1",
            "us-east-1 ",
            "us-gov-west-1-",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn roles() {
        for ok in [
            "arn:aws:iam::123456789012:role/lambda-role",
            "arn:aws:iam::123456789012:role/service-role/x+y=z,a.b@c-d_e",
            "arn::iam::123456789012:role/r",
            "arn:aws-cn:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:rolex",
        ] {
            assert!(is_role_arn(ok), "{ok}");
        }
        for bad in [
            "lambda-role",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam::123456789012:role",
            "arn:gcp:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:user/r",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::123456789012:role/é",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        // `/?` may match nothing and `/` is in the class, so a bare "role/" passes.
        assert!(is_role_arn("arn:aws:iam::123456789012:role/"));
    }

    #[test]
    fn env_keys_handlers_layers() {
        assert!(is_env_key("A1"));
        assert!(is_env_key("my_var"));
        assert!(!is_env_key("A"));
        assert!(!is_env_key("1A"));
        assert!(!is_env_key("A-B"));
        assert!(!is_env_key("_AB"));
        assert!(is_handler("app.handler"));
        assert!(is_handler("a\u{a0}b")); // Java \s is ASCII-only.
        assert!(!is_handler("a b"));
        assert!(!is_handler(""));
        assert!(is_layer_version_arn(
            "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
        ));
        assert!(is_layer_version_arn(
            "arn:aws:lambda:::awslayer:AmazonLinux1703"
        ));
        assert!(!is_layer_version_arn(
            "arn:aws:lambda:us-east-1:123456789012:layer:deps"
        ));
        assert!(is_log_group_name("/aws/lambda/my-fn"));
        assert!(!is_log_group_name("/aws/lambda/my fn"));
        assert!(is_resource_arn_or_empty(""));
        assert!(is_resource_arn_or_empty(
            "arn:aws:sqs:us-east-1:123456789012:q"
        ));
        assert!(!is_resource_arn_or_empty("sqs-queue"));
    }
}
