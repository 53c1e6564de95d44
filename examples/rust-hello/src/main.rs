//! A custom-runtime (`provided.al2023`) function written against the official AWS
//! `lambda_runtime` crate, unmodified: it echoes the event with a few context fields, and
//! fails with the runtime's own error format for the event `{"fail": true}`.
//!
//! Build: `cargo build -p example-rust-hello --bin bootstrap`, then zip
//! `target/debug/bootstrap` as `bootstrap` (mode 0755).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    println!("rust-hello handling request {}", context.request_id);
    if payload.get("fail").and_then(Value::as_bool) == Some(true) {
        return Err(format!("asked to fail by request {}", context.request_id).into());
    }
    Ok(json!({
        "event": payload,
        "request_id": context.request_id,
        "function_name": context.env_config.function_name,
        "memory_mb": context.env_config.memory,
        "version": context.env_config.version,
        "invoked_function_arn": context.invoked_function_arn,
        "deadline_ms": context.deadline,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
