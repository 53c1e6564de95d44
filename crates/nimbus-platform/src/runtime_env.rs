//! The command line and the environment a function's runtime starts with (lambda-compat
//! §2.1). Built from scratch: nothing of the platform's own environment leaks in.

use crate::config::PlatformConfig;
use crate::limits::NODE_HEAP_PERCENT_OF_MEMORY;
use crate::model::FunctionVersion;
use crate::runtimes::{Family, Interpreter, NODE_BOOTSTRAP_PATH, PYTHON_BOOTSTRAP_PATH};
use nimbus_sandbox::InsidePaths;
use std::path::Path;

/// `PATH` Lambda gives every runtime (managed runtimes put their interpreter first).
const BASE_PATH: &str = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";

/// argv of the runtime process.
pub(crate) fn argv(
    function: &FunctionVersion,
    inside: &InsidePaths,
    interpreter: Option<&Interpreter>,
) -> Vec<String> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    match (
        crate::runtimes::family_of(&function.config.runtime),
        interpreter,
    ) {
        (Some(Family::Python { .. }), Some(py)) => vec![
            path(&py.path),
            // No `site`: host site-packages stay out, and startup is faster.
            "-S".into(),
            path(
                &inside
                    .runtime_dir
                    .join(py.bootstrap.as_deref().unwrap_or(PYTHON_BOOTSTRAP_PATH)),
            ),
        ],
        (Some(Family::Node { .. }), Some(node)) => {
            let memory = function.config.memory_mb;
            // Leave room for code, buffers and the semi-spaces; V8 collects before the
            // cgroup would kill it.
            let old_space =
                (u64::from(memory) * u64::from(NODE_HEAP_PERCENT_OF_MEMORY) / 100).max(32);
            vec![
                path(&node.path),
                format!("--max-old-space-size={old_space}"),
                path(&inside.runtime_dir.join(NODE_BOOTSTRAP_PATH)),
            ]
        }
        _ => vec![path(&inside.task_root.join("bootstrap"))],
    }
}

/// The complete environment of the runtime process, as `KEY=value` strings. User variables
/// come last and may override the unreserved defaults (`PATH`, `LANG`, …); reserved names
/// were refused when the configuration was written.
pub(crate) fn environment(
    function: &FunctionVersion,
    config: &PlatformConfig,
    inside: &InsidePaths,
    interpreter: Option<&Interpreter>,
    stream: &str,
    init_type: &str,
) -> Vec<String> {
    let c = &function.config;
    let task = inside.task_root.to_string_lossy();
    let runtime_dir = inside.runtime_dir.to_string_lossy();
    let family = crate::runtimes::family_of(&c.runtime);
    let mut vars: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_FUNCTION_NAME".into(), function.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            c.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_VERSION".into(),
            function.version.clone(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), init_type.into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), function.log_group()),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream.into()),
        ("AWS_REGION".into(), config.region.clone()),
        ("AWS_DEFAULT_REGION".into(), config.region.clone()),
        ("LAMBDA_TASK_ROOT".into(), task.to_string()),
        ("LAMBDA_RUNTIME_DIR".into(), runtime_dir.to_string()),
        ("_HANDLER".into(), c.handler.clone()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        (
            "LD_LIBRARY_PATH".into(),
            format!("/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task}:{task}/lib:/opt/lib"),
        ),
    ];
    let mut path = BASE_PATH.to_string();
    if let Some(i) = interpreter
        && let Some(bin) = i.path.parent()
        && !bin.starts_with("/usr/bin")
    {
        path = format!("{}:{path}", bin.display());
    }
    vars.push(("PATH".into(), path));
    match family {
        Some(Family::Python { .. }) | Some(Family::Node { .. }) => {
            vars.push((
                "AWS_EXECUTION_ENV".into(),
                format!("AWS_Lambda_{}", c.runtime),
            ));
        }
        _ => {}
    }
    if let Some(Family::Node { major }) = family {
        vars.push((
            "NODE_PATH".into(),
            format!("/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:{runtime_dir}/node_modules:{runtime_dir}:{task}"),
        ));
    }
    if let Some(format) = &c.log_format {
        vars.push(("AWS_LAMBDA_LOG_FORMAT".into(), format.clone()));
    }
    if let Some(level) = &c.application_log_level {
        vars.push(("AWS_LAMBDA_LOG_LEVEL".into(), level.clone()));
    }
    for (k, v) in &c.environment {
        vars.retain(|(existing, _)| existing != k);
        vars.push((k.clone(), v.clone()));
    }
    vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}
