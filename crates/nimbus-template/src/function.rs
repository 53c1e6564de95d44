//! `AWS::Serverless::Function` → [`FunctionSpec`] and its [`CodeSource`].

use std::path::{Path, PathBuf};

use nimbus_api::async_invoke::{Destination, DestinationConfig};
use nimbus_api::limits::{
    EPHEMERAL_MB_MAX, EPHEMERAL_MB_MIN, MEMORY_MB_DEFAULT, MEMORY_MB_MAX, MEMORY_MB_MIN,
    TIMEOUT_S_DEFAULT, TIMEOUT_S_MAX, TIMEOUT_S_MIN,
};
use nimbus_api::stack::{
    DeploymentPreferenceSpec, EventInvokeConfigSpec, FunctionSpec, FunctionUrlSpec,
};
use nimbus_api::{RuntimeFamily, SupportedRuntime, async_invoke};

use crate::CodeSource;
use crate::diag::{Diags, Fail, Pos, Res};
use crate::eval::Env;
use crate::events;
use crate::props::{Known, Props};
use crate::resources::{Kind, Raw};

const OWNER: &str = "AWS::Serverless::Function";

/// `Architectures` values Lambda knows.
const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];

/// `Tracing` values.
const TRACING_MODES: &[&str] = &["Active", "PassThrough"];

/// `DeploymentPreference.Type` values SAM documents.
const DEPLOYMENT_TYPES: &[&str] = &[
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
    "AllAtOnce",
];

/// The deployment type of a disabled preference without `Type`: everything at once.
const ALL_AT_ONCE: &str = "AllAtOnce";

/// Function URL `AuthType` values.
const URL_AUTH_TYPES: &[&str] = &["NONE", "AWS_IAM"];
/// Function URL `InvokeMode` values.
const URL_INVOKE_MODES: &[&str] = &["BUFFERED", "RESPONSE_STREAM"];

/// Highest `ReservedConcurrentExecutions` / provisioned concurrency Lambda accepts per
/// function (its default account limit).
const CONCURRENCY_MAX: i64 = 1_000;

/// Function properties Nimbus recognises but does not act on.
const KNOWN: &[(&str, Known)] = &[
    (
        "AutoPublishAliasAllProperties",
        Known::Note(
            "has no effect: Nimbus publishes a version whenever code or configuration changes",
        ),
    ),
    (
        "AutoPublishCodeSha256",
        Known::Note(
            "has no effect: Nimbus publishes a version whenever code or configuration changes",
        ),
    ),
    ("VersionDescription", Known::Note("is not recorded")),
    (
        "VersionDeletionPolicy",
        Known::Note("has no effect: Nimbus keeps the versions an alias routes to"),
    ),
    (
        "PropagateTags",
        Known::Note("has no effect: the stack has no generated resources to tag"),
    ),
    (
        "AssumeRolePolicyDocument",
        Known::Note("has no effect: Nimbus has no IAM engine"),
    ),
    (
        "PermissionsBoundary",
        Known::Note("has no effect: Nimbus has no IAM engine"),
    ),
    (
        "RolePath",
        Known::Note("has no effect: Nimbus has no IAM engine"),
    ),
    (
        "RuntimeManagementConfig",
        Known::Note("has no effect: Nimbus runs the runtime it has"),
    ),
    (
        "SnapStart",
        Known::Note("has no effect: Nimbus has no snapshots"),
    ),
    (
        "RecursiveLoop",
        Known::Note("has no effect: Nimbus does not detect recursive loops"),
    ),
    (
        "KmsKeyArn",
        Known::Warn("is not supported: environment variables are not encrypted with KMS"),
    ),
    (
        "CodeSigningConfigArn",
        Known::Warn("is not supported: code signatures are not checked"),
    ),
    (
        "Layers",
        Known::Warn("is not supported, ignored: the function runs without its layers"),
    ),
    ("VpcConfig", Known::Warn("is not supported, ignored")),
    (
        "FileSystemConfigs",
        Known::Warn("is not supported, ignored: no EFS mounts"),
    ),
    (
        "LoggingConfig",
        Known::Warn("is not supported, ignored: logs use Lambda's text format"),
    ),
    (
        "ImageUri",
        Known::Warn("is not supported, ignored: container images are not supported"),
    ),
    (
        "ImageConfig",
        Known::Warn("is not supported, ignored: container images are not supported"),
    ),
    (
        "CapacityProviderConfig",
        Known::Warn("is not supported, ignored"),
    ),
    ("DurableConfig", Known::Warn("is not supported, ignored")),
    ("TenancyConfig", Known::Warn("is not supported, ignored")),
    (
        "FunctionScalingConfig",
        Known::Warn("is not supported, ignored"),
    ),
];

/// A function read from the template.
pub(crate) struct Built {
    pub spec: FunctionSpec,
    pub code: CodeSource,
}

/// Reads one (enabled) function.
pub(crate) fn build(raw: &Raw, env: &Env<'_>, base: &Path, diags: &mut Diags) -> Res<Built> {
    let (name, alias) = match env.resources.get(&raw.id) {
        Some(Kind::Function { name, alias }) => (name.clone(), alias.clone()),
        _ => {
            return Err(Fail::invalid(
                raw.id_pos,
                "internal error: function not planned",
            ));
        }
    };
    let evaluated = match &raw.props {
        Some(p) => env.eval(p)?,
        None => None,
    };
    let mut p = Props::new(evaluated, OWNER, raw.id_pos)?;
    p.take("FunctionName");
    if let Some((a, pos)) = p.text_at("AutoPublishAlias")? {
        nimbus_api::names::validate_alias_name(&a).map_err(|_| {
            Fail::invalid(
                pos,
                format!("AutoPublishAlias '{a}' is not a valid alias name (letters, digits, '-', '_'; not only digits)"),
            )
        })?;
    }
    if let Some((package_type, pos)) = p.text_at("PackageType")?
        && package_type != "Zip"
    {
        return Err(Fail::unsupported(
            pos,
            format!("PackageType {package_type} is not supported: only Zip (no container images)"),
        ));
    }
    let inline_pos = p.entry_pos("InlineCode");
    let code = code(&mut p, base, raw.id_pos, diags)?;
    let handler = p.required_text("Handler")?;
    let runtime = runtime(&mut p)?;
    if let (CodeSource::Inline(_), Some(pos)) = (&code, inline_pos) {
        let family = SupportedRuntime::parse(&runtime).map(SupportedRuntime::family);
        if !matches!(
            family,
            Some(RuntimeFamily::Python { .. } | RuntimeFamily::Node { .. })
        ) {
            return Err(Fail::unsupported(
                pos,
                format!("InlineCode needs a Python or Node.js runtime, not {runtime}"),
            ));
        }
    }
    let mut spec = FunctionSpec {
        logical_id: raw.id.clone(),
        function_name: name,
        runtime,
        handler,
        code_sha256: String::new(),
        memory_size: p
            .int_in("MemorySize", MEMORY_MB_MIN, MEMORY_MB_MAX)?
            .unwrap_or(MEMORY_MB_DEFAULT),
        timeout: p
            .int_in("Timeout", TIMEOUT_S_MIN, TIMEOUT_S_MAX)?
            .unwrap_or(TIMEOUT_S_DEFAULT),
        architectures: architectures(&mut p)?,
        ephemeral_storage: ephemeral_storage(&mut p, diags)?,
        environment: environment(&mut p, diags)?,
        description: p.text("Description")?,
        role: p.text("Role")?,
        policies: p.take("Policies").map(|n| n.to_json()),
        tracing: one_of(&mut p, "Tracing", TRACING_MODES)?,
        reserved_concurrency: p.int_in("ReservedConcurrentExecutions", 0, CONCURRENCY_MAX)?,
        provisioned_concurrency: None,
        auto_publish_alias: alias,
        deployment_preference: None,
        dead_letter_target_arn: dead_letter_queue(&mut p, diags)?,
        event_invoke_config: event_invoke_config(&mut p, diags)?,
        events: Vec::new(),
        function_url: function_url(&mut p, diags)?,
        tags: string_map(&mut p, "Tags")?,
    };
    spec.provisioned_concurrency = provisioned(&mut p, &spec, diags)?;
    spec.deployment_preference = deployment_preference(&mut p, &spec, env, diags)?;
    if let Some(e) = p.take_entry("Events") {
        spec.events = events::build(e.value, diags)?;
    }
    p.finish(diags, KNOWN);
    Ok(Built { spec, code })
}

/// `CodeUri` (a directory or a `.zip`), `InlineCode`, or neither (the template's directory).
fn code(p: &mut Props, base: &Path, fn_pos: Pos, diags: &mut Diags) -> Res<CodeSource> {
    let uri = p.take_entry("CodeUri");
    let inline = p.take_entry("InlineCode");
    match (uri, inline) {
        (Some(u), Some(_)) => Err(Fail::invalid(
            u.key_pos,
            "CodeUri and InlineCode cannot both be set",
        )),
        (None, Some(i)) => {
            let text = i.value.text("InlineCode")?;
            if text.is_empty() {
                return Err(Fail::invalid(i.value.pos, "InlineCode is empty"));
            }
            Ok(CodeSource::Inline(text))
        }
        (Some(u), None) => {
            let upload = || {
                Fail::unsupported(
                    u.value.pos,
                    "CodeUri: upload not supported, use a local path (Nimbus cannot fetch S3 objects)",
                )
            };
            if u.value.as_map().is_some() {
                return Err(upload());
            }
            let text = u.value.text("CodeUri")?;
            if text.starts_with("s3://") {
                return Err(upload());
            }
            local_code(&text, base, u.value.pos)
        }
        (None, None) => {
            diags.note(
                fn_pos,
                "no CodeUri or InlineCode: the template's directory is packaged, as `sam build` does",
            );
            Ok(CodeSource::Dir(base.to_path_buf()))
        }
    }
}

/// A local `CodeUri`, resolved against the template's directory.
fn local_code(text: &str, base: &Path, pos: Pos) -> Res<CodeSource> {
    let path = Path::new(text);
    let full: PathBuf = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let is_zip = full
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if full.is_dir() {
        Ok(CodeSource::Dir(full))
    } else if full.is_file() && is_zip {
        Ok(CodeSource::Zip(full))
    } else if full.exists() {
        Err(Fail::invalid(
            pos,
            format!(
                "CodeUri '{text}' ({}) is neither a directory nor a .zip file",
                full.display()
            ),
        ))
    } else {
        Err(Fail::invalid(
            pos,
            format!("CodeUri '{text}' does not exist ({})", full.display()),
        ))
    }
}

fn runtime(p: &mut Props) -> Res<String> {
    let pos = p.pos;
    let (runtime, rpos) = p
        .text_at("Runtime")?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: Runtime")))?;
    if SupportedRuntime::parse(&runtime).is_none() {
        let supported: Vec<&str> = SupportedRuntime::ALL.iter().map(|r| r.as_str()).collect();
        return Err(Fail::unsupported(
            rpos,
            format!(
                "Runtime '{runtime}' is not supported by Nimbus (supported: {})",
                supported.join(", ")
            ),
        ));
    }
    Ok(runtime)
}

/// A string property restricted to `allowed`.
fn one_of(p: &mut Props, key: &str, allowed: &[&str]) -> Res<Option<String>> {
    let name = p.name(key);
    match p.text_at(key)? {
        Some((v, _)) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some((v, pos)) => Err(Fail::invalid(
            pos,
            format!("{name} '{v}' is not one of: {}", allowed.join(", ")),
        )),
        None => Ok(None),
    }
}

fn architectures(p: &mut Props) -> Res<Vec<String>> {
    let Some(node) = p.take("Architectures") else {
        return Ok(Vec::new());
    };
    let list = node.texts("Architectures")?;
    match list.as_slice() {
        [a] if ARCHITECTURES.contains(&a.as_str()) => Ok(list),
        _ => Err(Fail::invalid(
            node.pos,
            "Architectures must be exactly one of [x86_64] or [arm64]",
        )),
    }
}

fn ephemeral_storage(p: &mut Props, diags: &mut Diags) -> Res<Option<i64>> {
    let Some(mut storage) = p.map("EphemeralStorage")? else {
        return Ok(None);
    };
    let size = storage.int_in("Size", EPHEMERAL_MB_MIN, EPHEMERAL_MB_MAX)?;
    if size.is_none() {
        return Err(Fail::missing(storage.pos, "EphemeralStorage.Size"));
    }
    storage.finish(diags, &[]);
    Ok(size)
}

fn environment(
    p: &mut Props,
    diags: &mut Diags,
) -> Res<std::collections::BTreeMap<String, String>> {
    let Some(mut env) = p.map("Environment")? else {
        return Ok(Default::default());
    };
    let vars = string_map(&mut env, "Variables")?;
    env.finish(diags, &[]);
    Ok(vars)
}

/// A map of strings (`Environment.Variables`, `Tags`): numbers and booleans as written.
fn string_map(p: &mut Props, key: &str) -> Res<std::collections::BTreeMap<String, String>> {
    let name = p.name(key);
    let Some(node) = p.take(key) else {
        return Ok(Default::default());
    };
    let map = node.map(&name)?;
    map.entries
        .iter()
        .map(|e| Ok((e.key.clone(), e.value.text(&format!("{name}.{}", e.key))?)))
        .collect()
}

fn provisioned(p: &mut Props, spec: &FunctionSpec, diags: &mut Diags) -> Res<Option<i64>> {
    let Some(mut config) = p.map("ProvisionedConcurrencyConfig")? else {
        return Ok(None);
    };
    if spec.auto_publish_alias.is_none() {
        return Err(Fail::invalid(
            config.pos,
            "ProvisionedConcurrencyConfig needs AutoPublishAlias (it is set on the alias)",
        ));
    }
    let n = config.int_in("ProvisionedConcurrentExecutions", 1, CONCURRENCY_MAX)?;
    if n.is_none() {
        return Err(Fail::missing(
            config.pos,
            "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions",
        ));
    }
    config.finish(diags, &[]);
    Ok(n)
}

fn deployment_preference(
    p: &mut Props,
    spec: &FunctionSpec,
    env: &Env<'_>,
    diags: &mut Diags,
) -> Res<Option<DeploymentPreferenceSpec>> {
    let Some(mut dp) = p.map("DeploymentPreference")? else {
        return Ok(None);
    };
    // As in SAM, a disabled preference needs neither a Type nor an alias.
    let enabled = dp.boolean("Enabled")?.unwrap_or(true);
    if enabled && spec.auto_publish_alias.is_none() {
        return Err(Fail::invalid(
            dp.pos,
            "DeploymentPreference needs AutoPublishAlias (traffic shifts between versions of the alias)",
        ));
    }
    let kind = match one_of(&mut dp, "Type", DEPLOYMENT_TYPES)? {
        Some(kind) => kind,
        None if !enabled => ALL_AT_ONCE.to_string(),
        None => return Err(Fail::missing(dp.pos, "DeploymentPreference.Type")),
    };
    // Alarms are named by `!Ref` (which gives the alarm's name): map them back to the
    // logical ids the spec uses; alarms from outside the stack keep their name.
    let alarms = dp
        .texts("Alarms")?
        .unwrap_or_default()
        .into_iter()
        .map(|name| {
            env.resources
                .alarm_by_name(&name)
                .map_or(name.clone(), str::to_string)
        })
        .collect();
    let (mut pre, mut post) = (None, None);
    if let Some(mut hooks) = dp.map("Hooks")? {
        pre = hooks.text("PreTraffic")?;
        post = hooks.text("PostTraffic")?;
        hooks.finish(diags, &[]);
    }
    dp.finish(
        diags,
        &[
            (
                "Role",
                Known::Note("has no effect: Nimbus shifts traffic itself, without CodeDeploy"),
            ),
            ("PassthroughCondition", Known::Note("has no effect")),
            (
                "TriggerConfigurations",
                Known::Warn("is not supported, ignored: no notifications are sent"),
            ),
        ],
    );
    if spec.auto_publish_alias.is_none() {
        // Disabled, and no alias to shift: nothing to record.
        return Ok(None);
    }
    Ok(Some(DeploymentPreferenceSpec {
        kind,
        enabled,
        alarms,
        pre_traffic_hook: pre,
        post_traffic_hook: post,
    }))
}

fn dead_letter_queue(p: &mut Props, diags: &mut Diags) -> Res<Option<String>> {
    let Some(mut dlq) = p.map("DeadLetterQueue")? else {
        return Ok(None);
    };
    let pos = dlq.pos;
    let kind = dlq
        .text("Type")?
        .ok_or_else(|| Fail::missing(pos, "DeadLetterQueue.Type"))?;
    let target = dlq
        .text("TargetArn")?
        .ok_or_else(|| Fail::missing(pos, "DeadLetterQueue.TargetArn"))?;
    dlq.finish(diags, &[]);
    match kind.as_str() {
        "SQS" => Ok(Some(target)),
        "SNS" => {
            diags.warn(pos, "DeadLetterQueue of Type SNS is not supported, ignored");
            Ok(None)
        }
        other => Err(Fail::invalid(
            pos,
            format!("DeadLetterQueue.Type '{other}' is not SQS or SNS"),
        )),
    }
}

fn event_invoke_config(p: &mut Props, diags: &mut Diags) -> Res<Option<EventInvokeConfigSpec>> {
    let Some(mut c) = p.map("EventInvokeConfig")? else {
        return Ok(None);
    };
    let maximum_event_age_in_seconds = c.int_in(
        "MaximumEventAgeInSeconds",
        async_invoke::EVENT_AGE_S_MIN,
        async_invoke::EVENT_AGE_S_MAX,
    )?;
    let maximum_retry_attempts =
        c.int_in("MaximumRetryAttempts", 0, async_invoke::RETRY_ATTEMPTS_MAX)?;
    let mut destination_config = None;
    if let Some(mut d) = c.map("DestinationConfig")? {
        let on_success = destination(&mut d, "OnSuccess", diags)?;
        let on_failure = destination(&mut d, "OnFailure", diags)?;
        d.finish(diags, &[]);
        if on_success.is_some() || on_failure.is_some() {
            destination_config = Some(DestinationConfig {
                on_success,
                on_failure,
            });
        }
    }
    c.finish(diags, &[]);
    Ok(Some(EventInvokeConfigSpec {
        maximum_retry_attempts,
        maximum_event_age_in_seconds,
        destination_config,
    }))
}

/// One `OnSuccess` / `OnFailure`: SQS and Lambda destinations are kept; the others (and
/// the resources SAM would create when `Destination` is missing) are warned about.
fn destination(d: &mut Props, key: &str, diags: &mut Diags) -> Res<Option<Destination>> {
    let Some(mut target) = d.map(key)? else {
        return Ok(None);
    };
    let pos = target.pos;
    let kind = target
        .text("Type")?
        .ok_or_else(|| Fail::missing(pos, format!("DestinationConfig.{key}.Type")))?;
    let arn = target.text("Destination")?;
    target.finish(diags, &[]);
    match (kind.as_str(), arn) {
        ("SQS" | "Lambda", Some(arn)) => Ok(Some(Destination {
            destination: Some(arn),
        })),
        ("SQS" | "Lambda", None) => {
            diags.warn(
                pos,
                format!(
                    "DestinationConfig.{key} without Destination: SAM would create the target, Nimbus does not; ignored"
                ),
            );
            Ok(None)
        }
        ("SNS" | "EventBridge" | "S3Bucket", _) => {
            diags.warn(
                pos,
                format!("DestinationConfig.{key} of Type {kind} is not supported, ignored"),
            );
            Ok(None)
        }
        (other, _) => Err(Fail::invalid(
            pos,
            format!(
                "DestinationConfig.{key}.Type '{other}' is not SQS, Lambda, SNS, EventBridge or S3Bucket"
            ),
        )),
    }
}

fn function_url(p: &mut Props, diags: &mut Diags) -> Res<Option<FunctionUrlSpec>> {
    let Some(mut url) = p.map("FunctionUrlConfig")? else {
        return Ok(None);
    };
    let auth_type = one_of(&mut url, "AuthType", URL_AUTH_TYPES)?
        .ok_or_else(|| Fail::missing(url.pos, "FunctionUrlConfig.AuthType"))?;
    let invoke_mode = one_of(&mut url, "InvokeMode", URL_INVOKE_MODES)?;
    url.finish(diags, &[("Cors", Known::Warn("is not supported, ignored"))]);
    Ok(Some(FunctionUrlSpec {
        auth_type,
        invoke_mode,
    }))
}
