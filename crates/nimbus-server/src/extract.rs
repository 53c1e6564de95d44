//! `Query<T>` and `Path<T>`: axum's extractors with Lambda-shaped rejections. axum's own
//! answer a repeated or mistyped parameter, or a path segment that is not UTF-8, with a
//! plain-text 400 that AWS clients cannot read; these answer
//! `InvalidParameterValueException` in JSON like every other error.

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

/// The deserialised path parameters of a request.
#[derive(Debug)]
pub(crate) struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(p)| Path(p))
            .map_err(|e| ApiError::new(ErrorCode::InvalidParameterValue, e.body_text()))
    }
}
