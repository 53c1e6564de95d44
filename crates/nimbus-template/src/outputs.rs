//! `Outputs` → [`OutputSpec`]s in template order, each value resolved to a string.
//!
//! SAM templates print their API as
//! `https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/`.
//! Nimbus serves every route of every API on one gateway listener, without the stage
//! prefix, so such a value is rewritten to `{gateway_url}/hello/` (with a note saying so).

use nimbus_api::stack::OutputSpec;

use crate::ast::Node;
use crate::diag::{Diags, Fail, Res};
use crate::eval::Env;
use crate::limits::OUTPUTS_MAX;
use crate::names;
use crate::props::{Known, Props};
use crate::resources::DEFAULT_HTTP_STAGE;

/// Reads the `Outputs` section; outputs whose `Condition` is false are left out.
pub(crate) fn build(
    section: Option<&Node>,
    env: &Env<'_>,
    diags: &mut Diags,
) -> Res<Vec<OutputSpec>> {
    let Some(section) = section else {
        return Ok(Vec::new());
    };
    let map = section.map("Outputs")?;
    if map.entries.len() > OUTPUTS_MAX {
        return Err(Fail::limit(
            section.pos,
            format!("a template has at most {OUTPUTS_MAX} outputs"),
        ));
    }
    let mut out = Vec::new();
    for entry in &map.entries {
        if !names::is_alphanumeric_id(&entry.key) {
            return Err(Fail::invalid(
                entry.key_pos,
                format!("output name '{}' must be alphanumeric", entry.key),
            ));
        }
        let definition = entry.value.map(&format!("output '{}'", entry.key))?;
        if let Some(c) = definition.get("Condition") {
            let name = c.text("Condition")?;
            if !env.condition(&name, c.pos)? {
                continue;
            }
        }
        let evaluated = env.eval(&entry.value)?;
        let mut p = Props::new(evaluated, &format!("output '{}'", entry.key), entry.key_pos)?;
        p.take("Condition");
        let pos = p.pos;
        let (value, value_pos) = p
            .text_at("Value")?
            .ok_or_else(|| Fail::missing(pos, format!("output '{}': Value", entry.key)))?;
        let description = p.text("Description")?;
        p.finish(
            diags,
            &[(
                "Export",
                Known::Note("has no effect: cross-stack exports are not supported"),
            )],
        );
        let value = match gateway_url(&value, env) {
            Some(rewritten) => {
                diags.note(
                    value_pos,
                    format!(
                        "output '{}': API Gateway URL rewritten to {rewritten}: Nimbus serves every route on its gateway listener, without the stage prefix",
                        entry.key
                    ),
                );
                rewritten
            }
            None => value,
        };
        out.push(OutputSpec {
            key: entry.key.clone(),
            value,
            description,
        });
    }
    Ok(out)
}

/// `value` with an API Gateway URL of one of the stack's APIs pointed at the gateway.
fn gateway_url(value: &str, env: &Env<'_>) -> Option<String> {
    let gateway = env.ctx.gateway_url.trim_end_matches('/');
    env.resources.apis().find_map(|(_, api_id, stage, http)| {
        let base = names::execute_api_base(env.ctx, api_id);
        let rest = value.strip_prefix(&base)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let staged = !(http && stage == DEFAULT_HTTP_STAGE);
        let rest = if staged {
            let prefix = format!("/{stage}");
            match rest.strip_prefix(&prefix) {
                Some(r) if r.is_empty() || r.starts_with('/') => r,
                _ => rest,
            }
        } else {
            rest
        };
        Some(format!("{gateway}{rest}"))
    })
}
