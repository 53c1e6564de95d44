//! Physical names, ids and ARNs, all derived deterministically from the stack and the
//! logical id so a redeploy of the same template names the same things.

use crate::Context;
use crate::limits::API_ID_CHARS;

/// `aws`, `aws-cn`, … for the region (`AWS::Partition`).
pub(crate) fn partition(region: &str) -> &'static str {
    nimbus_api::names::partition_for_region(region)
}

/// `AWS::URLSuffix`: `amazonaws.com.cn` in China, else `amazonaws.com`.
pub(crate) fn url_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// `AWS::StackId`: an ARN whose last part is a hash of the stack and account instead of
/// CloudFormation's random UUID.
pub(crate) fn stack_id(ctx: &Context) -> String {
    let h = fnv1a(&format!("{}/{}", ctx.account_id, ctx.stack_name));
    format!(
        "arn:{}:cloudformation:{}:{}:stack/{}/{:016x}",
        partition(&ctx.region),
        ctx.region,
        ctx.account_id,
        ctx.stack_name,
        h
    )
}

/// Logical ids and parameter names are ASCII letters and digits (CloudFormation's rule).
pub(crate) fn is_alphanumeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// True for a valid Lambda function name or SQS queue name character.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `<stack>-<LogicalId>` with characters outside `[A-Za-z0-9_-]` replaced by `-`, cut to
/// `max` characters: the name SAM would give, minus CloudFormation's random suffix.
pub(crate) fn generated(ctx: &Context, logical_id: &str, max: usize) -> String {
    format!("{}-{logical_id}", ctx.stack_name)
        .chars()
        .map(|c| if is_name_char(c) { c } else { '-' })
        .take(max)
        .collect()
}

/// A 10-character API id (`[a-z0-9]`, as API Gateway's) from the stack and logical id.
pub(crate) fn api_id(ctx: &Context, logical_id: &str) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut h = fnv1a(&format!(
        "{}/{}/{logical_id}",
        ctx.account_id, ctx.stack_name
    ));
    let mut id = String::with_capacity(API_ID_CHARS);
    for _ in 0..API_ID_CHARS {
        id.push(char::from(DIGITS[(h % 36) as usize]));
        h /= 36;
    }
    id
}

/// `https://{api}.execute-api.{region}.{suffix}`: the base URL API Gateway gives an API.
pub(crate) fn execute_api_base(ctx: &Context, api_id: &str) -> String {
    format!(
        "https://{api_id}.execute-api.{}.{}",
        ctx.region,
        url_suffix(&ctx.region)
    )
}

/// The gateway listener's port when `gateway_url` names none (`nimbus serve`'s default).
const GATEWAY_PORT_DEFAULT: u16 = 3000;

/// The URL Nimbus serves a function URL at:
/// `http://<url-id>.lambda-url.<region>.localhost:<gateway port>/`, with the id the
/// platform serves it under (`nimbus_api::names::function_url_id`).
pub(crate) fn function_url(ctx: &Context, function: &str, qualifier: &str) -> String {
    let id = nimbus_api::names::function_url_id(&ctx.account_id, &ctx.region, function, qualifier);
    let port = ctx
        .gateway_url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(GATEWAY_PORT_DEFAULT);
    format!("http://{id}.lambda-url.{}.localhost:{port}/", ctx.region)
}

/// `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`.
pub(crate) fn function_arn(ctx: &Context, name: &str, qualifier: Option<&str>) -> String {
    nimbus_api::names::function_arn(&ctx.region, &ctx.account_id, name, qualifier)
}

/// `arn:aws:sqs:{region}:{account}:{name}`.
pub(crate) fn queue_arn(ctx: &Context, name: &str) -> String {
    nimbus_api::sqs::queue_arn(&ctx.region, &ctx.account_id, name)
}

/// `{base}/{account}/{name}`.
pub(crate) fn queue_url(ctx: &Context, name: &str) -> String {
    nimbus_api::sqs::queue_url(&ctx.queue_url_base, &ctx.account_id, name)
}

/// `arn:aws:iam::{account}:role/{name}`.
pub(crate) fn role_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:{}:iam::{}:role/{name}",
        partition(&ctx.region),
        ctx.account_id
    )
}

/// `arn:aws:iam::{account}:policy/{name}`.
pub(crate) fn policy_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:{}:iam::{}:policy/{name}",
        partition(&ctx.region),
        ctx.account_id
    )
}

/// `arn:aws:cloudwatch:{region}:{account}:alarm:{name}`.
pub(crate) fn alarm_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:{}:cloudwatch:{}:{}:alarm:{name}",
        partition(&ctx.region),
        ctx.region,
        ctx.account_id
    )
}

/// A stable id with an IAM-like prefix (`AROA…`) from a name.
pub(crate) fn unique_id(prefix: &str, name: &str) -> String {
    format!("{prefix}{:016X}", fnv1a(name))
}

/// FNV-1a, 64 bits: tiny, stable across releases and platforms (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            stack_name: "my.app".into(),
            region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            ..Context::default()
        }
    }

    #[test]
    fn generated_names_are_sanitised_and_cut() {
        assert_eq!(generated(&ctx(), "Hello", 64), "my-app-Hello");
        let long = "L".repeat(100);
        assert_eq!(generated(&ctx(), &long, 64).len(), 64);
    }

    #[test]
    fn api_ids_are_stable_short_and_distinct() {
        let a = api_id(&ctx(), "ServerlessRestApi");
        assert_eq!(a.len(), API_ID_CHARS);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(a, api_id(&ctx(), "ServerlessRestApi"));
        assert_ne!(a, api_id(&ctx(), "ServerlessHttpApi"));
    }

    #[test]
    fn pseudo_values() {
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(url_suffix("cn-north-1"), "amazonaws.com.cn");
        assert!(
            stack_id(&ctx())
                .starts_with("arn:aws:cloudformation:eu-west-1:123456789012:stack/my.app/")
        );
    }
}
