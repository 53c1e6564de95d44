//! Versions, aliases, reserved and provisioned concurrency: request and response shapes
//! (botocore `lambda` 2015-03-31 member names).

use crate::function::FunctionConfiguration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `PublishVersion` body (`POST /2015-03-31/functions/{FunctionName}/versions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishVersionRequest {
    /// Only publish if `$LATEST`'s code has this hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// Description of the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only publish if `$LATEST` has this revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `ListVersionsByFunction` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListVersionsByFunctionResponse {
    /// `$LATEST` then the published versions, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<FunctionConfiguration>>,
    /// Marker of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// `RoutingConfig` of an alias.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    /// The one additional version and its share of the traffic (0.0–1.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_version_weights: Option<BTreeMap<String, f64>>,
}

/// `CreateAlias` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAliasRequest {
    /// Alias name (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `$LATEST` or a version number (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    /// Free text, ≤ 256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Weighted routing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
}

/// `UpdateAlias` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAliasRequest {
    /// New target version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New routing (an empty map removes the additional version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    /// Only update if the alias has this revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `AliasConfiguration`: response of Create/Get/UpdateAlias and list items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    /// `arn:aws:lambda:<region>:<account>:function:<name>:<alias>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_arn: Option<String>,
    /// Alias name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Weighted routing, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    /// Changes on every update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `ListAliases` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    /// Aliases, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<AliasConfiguration>>,
    /// Marker of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// `PutFunctionConcurrency` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutFunctionConcurrencyRequest {
    /// ≥ 0; 0 disables the function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<i64>,
}

/// `GetFunctionConcurrency` response (empty when no reservation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionConcurrencyResponse {
    /// The reservation, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<i64>,
}

/// `PutProvisionedConcurrencyConfig` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutProvisionedConcurrencyConfigRequest {
    /// ≥ 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrent_executions: Option<i64>,
}

/// Status of a provisioned-concurrency configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisionedConcurrencyStatus {
    /// Environments are being initialised.
    #[serde(rename = "IN_PROGRESS")]
    InProgress,
    /// All requested environments are ready.
    #[serde(rename = "READY")]
    Ready,
    /// Initialisation failed (see `StatusReason`).
    #[serde(rename = "FAILED")]
    Failed,
}

/// `Get/PutProvisionedConcurrencyConfig` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedConcurrencyConfig {
    /// Environments requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_provisioned_concurrent_executions: Option<i64>,
    /// Environments allocated (initialised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_provisioned_concurrent_executions: Option<i64>,
    /// Environments ready to take invocations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_provisioned_concurrent_executions: Option<i64>,
    /// `IN_PROGRESS`, `READY` or `FAILED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProvisionedConcurrencyStatus>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// ISO 8601 time of the last change (`2019-11-21T19:32:12+0000`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// One item of `ListProvisionedConcurrencyConfigs`: the configuration and whose it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedConcurrencyConfigListItem {
    /// Qualified ARN of the version or alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// The configuration's members, inline.
    #[serde(flatten)]
    pub config: ProvisionedConcurrencyConfig,
}

/// `ListProvisionedConcurrencyConfigs` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListProvisionedConcurrencyConfigsResponse {
    /// The configurations of the function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency_configs: Option<Vec<ProvisionedConcurrencyConfigListItem>>,
    /// Marker of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_use_lambdas_member_names() {
        let alias = AliasConfiguration {
            alias_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:f:live".into()),
            name: Some("live".into()),
            function_version: Some("1".into()),
            description: Some(String::new()),
            routing_config: Some(AliasRoutingConfiguration {
                additional_version_weights: Some([("2".to_string(), 0.1)].into()),
            }),
            revision_id: Some("r".into()),
        };
        let json = serde_json::to_value(&alias).expect("json");
        assert_eq!(json["RoutingConfig"]["AdditionalVersionWeights"]["2"], 0.1);
        assert_eq!(
            json["AliasArn"],
            "arn:aws:lambda:us-east-1:000000000000:function:f:live"
        );
        let pc = ProvisionedConcurrencyConfig {
            status: Some(ProvisionedConcurrencyStatus::InProgress),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&pc).expect("json")["Status"],
            "IN_PROGRESS"
        );
        let req: PutFunctionConcurrencyRequest =
            serde_json::from_str(r#"{"ReservedConcurrentExecutions": 5}"#).expect("parse");
        assert_eq!(req.reserved_concurrent_executions, Some(5));
    }
}
