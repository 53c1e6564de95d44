//! Packages uploaded ahead of a deploy. `nimbus deploy` uploads each distinct zip once
//! (content-addressed: a package already here is not sent again), then names it by hash in
//! the spec. An upload no function references yet is protected from code garbage collection
//! for [`UPLOAD_KEEP_MS`], long enough for the deploy that follows it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nimbus_api::error::ErrorBody;

use crate::Platform;
use crate::functions::ControlError;
use crate::package::CodeHash;

/// How long an unreferenced upload survives garbage collection (a deploy follows at once).
pub const UPLOAD_KEEP_MS: i64 = 60 * 60 * 1000;
/// Uploads protected at once (older ones lose protection first; each is ≤ 50 MB on disk).
pub const UPLOADS_TRACKED_MAX: usize = 1_000;

/// Uploads not yet referenced by a function, with the time their protection ends.
#[derive(Debug, Default)]
pub(crate) struct Uploads(Mutex<HashMap<String, i64>>);

impl Uploads {
    fn protect(&self, sha256_hex: &str, until_ms: i64, now_ms: i64) {
        let Ok(mut m) = self.0.lock() else { return };
        m.retain(|_, until| *until > now_ms);
        if m.len() >= UPLOADS_TRACKED_MAX
            && let Some(oldest) = m.iter().min_by_key(|(_, u)| **u).map(|(k, _)| k.clone())
        {
            m.remove(&oldest);
        }
        m.insert(sha256_hex.to_string(), until_ms);
    }

    /// Hashes garbage collection must keep.
    pub(crate) fn protected(&self, now_ms: i64) -> Vec<String> {
        self.0
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|(_, until)| **until > now_ms)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The answer to an upload.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadedCode {
    /// Hex SHA-256 of the zip (what a spec names).
    pub code_sha256: String,
    /// Zip size in bytes.
    pub code_size: u64,
}

impl Platform {
    /// Stores a package (validated and extracted as for CreateFunction).
    pub async fn put_code(self: &Arc<Self>, zip: Vec<u8>) -> Result<UploadedCode, ControlError> {
        if zip.len() as u64 > nimbus_api::limits::CODE_ZIP_BYTES_MAX {
            return Err(ControlError::Lambda(ErrorBody::request_entity_too_large(
                "UploadCode",
            )));
        }
        let _no_gc = self.code_gc.read().await;
        let code = Arc::clone(&self.code);
        let stored = tokio::task::spawn_blocking(move || code.put(&zip))
            .await
            .map_err(|e| ControlError::service("package extraction failed", e))?
            .map_err(crate::functions::package_error)?;
        let hex = stored.sha256_hex.as_str().to_string();
        let now = self.config.clock.now_ms();
        self.stacks
            .uploads
            .protect(&hex, now.saturating_add(UPLOAD_KEEP_MS), now);
        Ok(UploadedCode {
            code_sha256: hex,
            code_size: stored.size,
        })
    }

    /// Whether a package with this hash is stored.
    pub fn has_code(&self, sha256_hex: &str) -> bool {
        CodeHash::from_hex(sha256_hex).is_some_and(|h| self.code.exists(&h))
    }

    /// Reads a stored package back.
    pub(crate) async fn read_uploaded_code(
        &self,
        sha256_hex: &str,
    ) -> Result<Vec<u8>, ControlError> {
        let missing = || {
            super::invalid(format!(
                "Code {sha256_hex} has not been uploaded (upload it with POST /nimbus/v1/code first)."
            ))
        };
        let hash = CodeHash::from_hex(sha256_hex).ok_or_else(missing)?;
        let path = self.code.zip_path(&hash);
        tokio::fs::read(&path).await.map_err(|_| missing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_protected_for_a_while_and_bounded() {
        let u = Uploads::default();
        u.protect("a", 100, 0);
        assert_eq!(u.protected(50), ["a"]);
        assert!(u.protected(100).is_empty());
        for i in 0..UPLOADS_TRACKED_MAX + 5 {
            u.protect(&i.to_string(), 1_000 + i as i64, 0);
        }
        assert_eq!(u.protected(0).len(), UPLOADS_TRACKED_MAX);
        // The oldest lost protection first.
        assert!(!u.protected(0).contains(&"0".to_string()));
    }
}
