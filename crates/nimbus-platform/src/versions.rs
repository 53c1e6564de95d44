//! Published versions: PublishVersion and ListVersionsByFunction. A version is an immutable
//! snapshot of `$LATEST`'s code and configuration (stored in the same transaction that
//! records it as published; see `Platform::write_latest`).

use crate::functions::{ControlError, Publish, page_size, violation};
use crate::platform::Platform;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::function::FunctionConfiguration;
use nimbus_api::validate::{self, ValidationFailure, Violation};
use nimbus_api::versions::{ListVersionsByFunctionResponse, PublishVersionRequest};

/// Longest version description (Lambda's `Description` limit).
const DESCRIPTION_CHARS_MAX: usize = 256;

impl Platform {
    /// PublishVersion. Publishing a `$LATEST` that has not changed since the last publication
    /// returns that version instead of creating a new one.
    pub async fn publish_version(
        &self,
        function: &str,
        req: PublishVersionRequest,
    ) -> Result<FunctionConfiguration, ControlError> {
        if let Some(d) = req.description.as_deref()
            && d.chars().count() > DESCRIPTION_CHARS_MAX
        {
            return Err(violation(Violation::new(
                d,
                "description",
                validate::max_length(DESCRIPTION_CHARS_MAX),
            )));
        }
        let name = self.unqualified_name(function)?;
        let current = self.latest_or_404(&name)?;
        if let Some(sha) = req.code_sha256.as_deref()
            && sha != current.code.sha256_b64
        {
            return Err(ControlError::Lambda(ErrorBody::new(
                ErrorCode::PreconditionFailed,
                format!(
                    "CodeSha256 ({sha}) is different from current CodeSha256 in $LATEST ({}). Please try again with the current CodeSha256.",
                    current.code.sha256_b64
                ),
            )));
        }
        if let Some(rev) = req.revision_id.as_deref()
            && rev != current.revision_id
        {
            return Err(ControlError::Lambda(ErrorBody::revision_mismatch()));
        }
        let unchanged = current.last_published > 0
            && current.published_from_revision.as_deref() == Some(current.revision_id.as_str());
        if unchanged {
            let latest_version = current.last_published.to_string();
            if let Some(v) = self
                .published(&name, &latest_version)
                .await
                .map_err(|e| ControlError::service("could not read the version", e))?
            {
                return Ok(self.render(&v));
            }
            // The version it was published as was deleted since: publish anew.
        }
        self.write_latest(
            &current,
            current.config.clone(),
            current.code.clone(),
            Some(Publish {
                description: req.description,
            }),
            true,
        )
        .await
    }

    /// ListVersionsByFunction: `$LATEST`, then the published versions in order. `Marker` is
    /// the last version number of the previous page.
    pub async fn list_versions_by_function(
        &self,
        function: &str,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListVersionsByFunctionResponse, ControlError> {
        let name = self.unqualified_name(function)?;
        let latest = self.latest_or_404(&name)?;
        let page = page_size(max_items)?;
        let after = match marker {
            Some(m) => Some(m.parse::<i64>().map_err(|_| {
                ControlError::Invalid(ValidationFailure::invalid_parameter(
                    "Invalid Marker value.",
                ))
            })?),
            None => None,
        };
        let mut versions = Vec::new();
        if after.is_none() {
            versions.push(self.render(&latest));
        }
        let want = page.saturating_sub(versions.len());
        let rows = self
            .store
            .list_versions(&name, after, want as u32 + 1)
            .await
            .map_err(|e| ControlError::service("could not list versions", e))?;
        let more = rows.len() > want;
        let mut last = None;
        for row in rows.into_iter().take(want) {
            last = Some(row.version);
            versions.push(self.render(&self.version_snapshot(&latest, &row)));
        }
        Ok(ListVersionsByFunctionResponse {
            versions: Some(versions),
            next_marker: if more {
                last.map(|v| v.to_string())
            } else {
                None
            },
        })
    }
}
