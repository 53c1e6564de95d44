//! `Query<T>`: axum's query-string extractor with a Lambda-shaped rejection. axum's own
//! answers a repeated or mistyped parameter with a plain-text 400 that AWS clients cannot
//! read; this one answers `InvalidParameterValueException` in JSON like every other error.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use nimbus_api::error::ErrorCode;
use serde::de::DeserializeOwned;

/// The deserialised query string of a request.
#[derive(Debug)]
pub(crate) struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(q)| Query(q))
            .map_err(|e| ApiError::new(ErrorCode::InvalidParameterValue, e.body_text()))
    }
}
