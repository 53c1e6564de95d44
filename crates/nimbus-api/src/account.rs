//! `GetAccountSettings` (`GET /2016-08-19/account-settings`).

use serde::{Deserialize, Serialize};

use crate::limits;

/// `AccountLimit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLimit {
    /// Code storage quota, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_code_size: Option<i64>,
    /// Unzipped code + layers per function, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_size_unzipped: Option<i64>,
    /// Zipped upload per function, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_size_zipped: Option<i64>,
    /// Account concurrency quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrent_executions: Option<i64>,
    /// Concurrency not reserved by any function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreserved_concurrent_executions: Option<i64>,
}

/// `AccountUsage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountUsage {
    /// Code stored, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_code_size: Option<i64>,
    /// Number of functions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_count: Option<i64>,
}

/// `GetAccountSettings` response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSettings {
    /// Quotas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_limit: Option<AccountLimit>,
    /// Usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_usage: Option<AccountUsage>,
}

impl AccountSettings {
    /// Settings with Nimbus's default limits and the given usage figures.
    ///
    /// `concurrent_executions` is the account quota, `reserved_total` the sum
    /// of all functions' reserved concurrency.
    pub fn with_defaults(
        concurrent_executions: u32,
        reserved_total: u32,
        total_code_size: u64,
        function_count: u64,
    ) -> AccountSettings {
        let unreserved = concurrent_executions.saturating_sub(reserved_total);
        AccountSettings {
            account_limit: Some(AccountLimit {
                total_code_size: Some(clamp_i64(limits::TOTAL_CODE_SIZE_BYTES)),
                code_size_unzipped: Some(clamp_i64(limits::CODE_UNZIPPED_BYTES_MAX)),
                code_size_zipped: Some(clamp_i64(limits::CODE_ZIP_BYTES_MAX)),
                concurrent_executions: Some(i64::from(concurrent_executions)),
                unreserved_concurrent_executions: Some(i64::from(unreserved)),
            }),
            account_usage: Some(AccountUsage {
                total_code_size: Some(clamp_i64(total_code_size)),
                function_count: Some(clamp_i64(function_count)),
            }),
        }
    }
}

/// u64 → i64, saturating (the wire type is `Long`).
fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_match_lambda_example() {
        let s = AccountSettings::with_defaults(1000, 0, 9426, 4);
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            json!({"AccountLimit":{"TotalCodeSize":80530636800_i64,"CodeSizeUnzipped":262144000,"CodeSizeZipped":52428800,"ConcurrentExecutions":1000,"UnreservedConcurrentExecutions":1000},"AccountUsage":{"TotalCodeSize":9426,"FunctionCount":4}})
        );
        let s = AccountSettings::with_defaults(1000, 300, 0, 0);
        assert_eq!(
            s.account_limit
                .and_then(|l| l.unreserved_concurrent_executions),
            Some(700)
        );
    }
}
