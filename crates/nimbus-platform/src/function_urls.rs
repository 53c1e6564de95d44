//! Function URLs: `Create/Get/Update/Delete/ListFunctionUrlConfig(s)` and the lookup the
//! gateway listener does by URL id.
//!
//! A function URL belongs to `$LATEST` or an alias (never a version number, as on Lambda).
//! Its id is 32 lowercase alphanumerics derived from (account, region, function, qualifier),
//! so it is stable: recreating a URL gives the same address (on Lambda a recreated URL gets a
//! new one). Nimbus serves it on the gateway listener as
//! `http://<url-id>.lambda-url.<region>.localhost:<gateway-port>/` (`*.localhost` resolves to
//! loopback), the gateway telling function URLs from API routes by the `Host` header.
//!
//! `AuthType: AWS_IAM` is recorded and returned but not enforced: Nimbus verifies no SigV4
//! signatures (see ARCHITECTURE.md, trust boundaries). `InvokeMode: RESPONSE_STREAM` is
//! recorded; responses are sent buffered.
//!
//! The store is the truth (a function's deletion deletes its URLs, an alias's deletion the
//! URL on it, in the same transaction); memory mirrors it by URL id for the gateway.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::names;
use nimbus_api::validate::{self, Violation};
use nimbus_store::{FunctionUrlRow, FunctionUrlStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::functions::ControlError;
use crate::platform::Platform;

/// The stored qualifier of an unqualified URL.
const LATEST: &str = "$LATEST";

/// Characters of a URL id (Lambda's are 32).
pub const URL_ID_CHARS: usize = nimbus_api::names::FUNCTION_URL_ID_CHARS;

/// Port the URL shows when the gateway listener's address is unknown (its default port).
pub const GATEWAY_PORT_DEFAULT: u16 = 3000;

/// `AuthType` values (model `FunctionUrlAuthType`).
pub const AUTH_TYPES: [&str; 2] = ["NONE", "AWS_IAM"];

/// `InvokeMode` values (model `InvokeMode`); `BUFFERED` when not given.
pub const INVOKE_MODES: [&str; 2] = ["BUFFERED", "RESPONSE_STREAM"];

/// Most configurations one ListFunctionUrlConfigs page holds (model `MaxItems` maximum).
pub const LIST_PAGE_MAX: usize = 50;

/// Model limits of the `Cors` member.
const CORS_LIST_ITEMS_MAX: usize = 100;
/// `AllowMethods` holds at most six methods (model `AllowMethodsList`).
const CORS_METHODS_MAX: usize = 6;
/// A method is at most 6 characters (`DELETE`, model `Method`).
const CORS_METHOD_CHARS_MAX: usize = 6;
/// An origin is at most a DNS name's 253 characters (model `Origin`).
const CORS_ORIGIN_CHARS_MAX: usize = 253;
/// A header name is at most 1,024 characters (model `Header`).
const CORS_HEADER_CHARS_MAX: usize = 1024;
/// `MaxAge` is at most a day (model `MaxAge`).
const CORS_MAX_AGE_S_MAX: i64 = 86_400;

/// Model pattern of a function URL qualifier: an alias name, not a version number.
const QUALIFIER_PATTERN: &str = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)";

/// The `Cors` member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    /// `Access-Control-Allow-Credentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// `Access-Control-Allow-Headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    /// `Access-Control-Allow-Methods`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    /// `Access-Control-Allow-Origin` candidates (`*` for any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    /// `Access-Control-Expose-Headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    /// `Access-Control-Max-Age`, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// The body of CreateFunctionUrlConfig and UpdateFunctionUrlConfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlConfigRequest {
    /// `NONE` or `AWS_IAM` (required on create).
    pub auth_type: Option<String>,
    /// CORS settings (replaced whole on update).
    pub cors: Option<Cors>,
    /// `BUFFERED` (default) or `RESPONSE_STREAM`.
    pub invoke_mode: Option<String>,
}

/// A function URL configuration as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlConfig {
    /// `http://<url-id>.lambda-url.<region>.localhost:<port>/`.
    pub function_url: String,
    /// The function's ARN, qualified when the URL is on an alias.
    pub function_arn: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// CORS settings, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// ISO 8601 creation time.
    pub creation_time: String,
    /// ISO 8601 last change (not in CreateFunctionUrlConfig's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<String>,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
}

/// ListFunctionUrlConfigs' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionUrlConfigsResponse {
    /// One page.
    pub function_url_configs: Vec<FunctionUrlConfig>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// What the gateway needs to serve a function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUrlTarget {
    /// Function name.
    pub function: String,
    /// Alias, or `None` for `$LATEST`.
    pub qualifier: Option<String>,
    /// The URL id.
    pub url_id: String,
    /// `NONE` or `AWS_IAM` (not enforced).
    pub auth_type: String,
    /// CORS settings the gateway applies.
    pub cors: Option<Cors>,
}

/// Function URL configurations: the store and, by URL id, their mirror.
pub(crate) struct FunctionUrls {
    store: Arc<dyn FunctionUrlStore>,
    by_id: RwLock<HashMap<String, FunctionUrlRow>>,
}

impl FunctionUrls {
    pub(crate) fn new(store: Arc<dyn FunctionUrlStore>) -> Self {
        FunctionUrls {
            store,
            by_id: RwLock::new(HashMap::new()),
        }
    }

    fn remember(&self, row: FunctionUrlRow) {
        if let Ok(mut m) = self.by_id.write() {
            m.insert(row.url_id.clone(), row);
        }
    }

    fn forget(&self, url_id: &str) {
        if let Ok(mut m) = self.by_id.write() {
            m.remove(url_id);
        }
    }

    fn find(&self, function: &str, qualifier: &str) -> Option<FunctionUrlRow> {
        let m = self.by_id.read().ok()?;
        m.values()
            .find(|r| r.function_name == function && r.qualifier == qualifier)
            .cloned()
    }
}

/// The URL id of (account, region, function, qualifier): 32 characters of `[a-z0-9]`.
pub fn url_id(account: &str, region: &str, function: &str, qualifier: &str) -> String {
    nimbus_api::names::function_url_id(account, region, function, qualifier)
}

/// ISO 8601 UTC with microseconds, as Lambda shows `CreationTime`
/// (`2021-10-14T18:55:08.045000Z`).
pub fn iso_time(epoch_ms: i64) -> String {
    const MS_PER_DAY: i64 = 86_400_000;
    let days = epoch_ms.div_euclid(MS_PER_DAY);
    let ms = epoch_ms.rem_euclid(MS_PER_DAY);
    let (y, mo, d) = nimbus_api::time::civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        (ms % 1000) * 1000
    )
}

/// Checks `AuthType`, `InvokeMode` and `Cors` against the model.
fn validate_request(req: &FunctionUrlConfigRequest, create: bool) -> Result<(), ControlError> {
    let mut v = Vec::new();
    match req.auth_type.as_deref() {
        None if create => v.push(Violation::null("authType")),
        Some(a) if !AUTH_TYPES.contains(&a) => v.push(Violation::new(
            a,
            "authType",
            validate::enum_set(&format!("[{}]", AUTH_TYPES.join(", "))),
        )),
        _ => {}
    }
    if let Some(m) = req.invoke_mode.as_deref()
        && !INVOKE_MODES.contains(&m)
    {
        v.push(Violation::new(
            m,
            "invokeMode",
            validate::enum_set(&format!("[{}]", INVOKE_MODES.join(", "))),
        ));
    }
    if let Some(cors) = &req.cors {
        check_cors(cors, &mut v);
    }
    match validate::validation_exception(&v) {
        Some(f) => Err(ControlError::Invalid(f)),
        None => Ok(()),
    }
}

fn check_cors(cors: &Cors, v: &mut Vec<Violation>) {
    let lists: [(&str, &Option<Vec<String>>, usize, usize); 4] = [
        (
            "cors.allowHeaders",
            &cors.allow_headers,
            CORS_LIST_ITEMS_MAX,
            CORS_HEADER_CHARS_MAX,
        ),
        (
            "cors.exposeHeaders",
            &cors.expose_headers,
            CORS_LIST_ITEMS_MAX,
            CORS_HEADER_CHARS_MAX,
        ),
        (
            "cors.allowMethods",
            &cors.allow_methods,
            CORS_METHODS_MAX,
            CORS_METHOD_CHARS_MAX,
        ),
        (
            "cors.allowOrigins",
            &cors.allow_origins,
            CORS_LIST_ITEMS_MAX,
            CORS_ORIGIN_CHARS_MAX,
        ),
    ];
    for (member, list, items_max, chars_max) in lists {
        let Some(list) = list else { continue };
        if list.len() > items_max {
            v.push(Violation::new(
                format!("{list:?}"),
                member,
                validate::max_length(items_max),
            ));
        }
        for item in list {
            if item.chars().count() > chars_max {
                v.push(Violation::new(
                    item,
                    member,
                    validate::max_length(chars_max),
                ));
            }
            if member == "cors.allowOrigins" && item.is_empty() {
                v.push(Violation::new(item, member, validate::min_length(1)));
            }
        }
    }
    if let Some(age) = cors.max_age {
        if age < 0 {
            v.push(Violation::new(
                age.to_string(),
                "cors.maxAge",
                validate::min_value(0),
            ));
        } else if age > CORS_MAX_AGE_S_MAX {
            v.push(Violation::new(
                age.to_string(),
                "cors.maxAge",
                validate::max_value(CORS_MAX_AGE_S_MAX),
            ));
        }
    }
}

fn not_found() -> ControlError {
    ControlError::Lambda(ErrorBody::new(
        ErrorCode::ResourceNotFound,
        "The resource you requested does not exist.",
    ))
}

impl Platform {
    /// Fills the URL-id mirror from the store (at start-up).
    pub(crate) async fn load_function_urls(&self) -> anyhow::Result<()> {
        let rows = self.function_urls.store.list_function_urls().await?;
        for row in rows {
            self.function_urls.remember(row);
        }
        Ok(())
    }

    /// Drops a deleted function's URLs from memory (the store deleted them with it).
    pub(crate) fn forget_function_urls(&self, function: &str) {
        if let Ok(mut m) = self.function_urls.by_id.write() {
            m.retain(|_, r| r.function_name != function);
        }
    }

    /// The host a URL is served under: `<url-id>.lambda-url.<region>.localhost`.
    pub fn function_url_domain(&self, url_id: &str) -> String {
        format!("{url_id}.lambda-url.{}.localhost", self.config.region)
    }

    /// The URL id of a `Host` (port already removed), if it names a function URL of this
    /// region.
    pub fn function_url_id_of_host<'a>(&self, host: &'a str) -> Option<&'a str> {
        let suffix = format!(".lambda-url.{}.localhost", self.config.region);
        let id = host.strip_suffix(suffix.as_str())?;
        let ok = id.len() == URL_ID_CHARS
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then_some(id)
    }

    /// What the gateway serves under `url_id`; `None` when no URL has it (or its alias is
    /// gone).
    pub fn function_url_target(&self, url_id: &str) -> Option<FunctionUrlTarget> {
        let row = self.function_urls.by_id.read().ok()?.get(url_id).cloned()?;
        let qualifier = (row.qualifier != LATEST).then(|| row.qualifier.clone());
        if let Some(alias) = &qualifier
            && self.alias(&row.function_name, alias).is_none()
        {
            self.function_urls.forget(url_id);
            return None;
        }
        Some(FunctionUrlTarget {
            function: row.function_name,
            qualifier,
            url_id: row.url_id,
            auth_type: row.auth_type,
            cors: row
                .cors_json
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        })
    }

    /// CreateFunctionUrlConfig (201).
    pub async fn create_function_url_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
        req: FunctionUrlConfigRequest,
    ) -> Result<FunctionUrlConfig, ControlError> {
        validate_request(&req, true)?;
        let (name, q) = self.function_url_target_of(function, qualifier)?;
        let _writes = self.writes.lock().await;
        let now = crate::clock::now_ms();
        let row = FunctionUrlRow {
            url_id: url_id(&self.config.account_id, &self.config.region, &name, &q),
            function_name: name.clone(),
            qualifier: q.clone(),
            auth_type: req.auth_type.clone().unwrap_or_default(),
            invoke_mode: req
                .invoke_mode
                .clone()
                .unwrap_or_else(|| INVOKE_MODES[0].to_string()),
            cors_json: cors_json(req.cors.as_ref())?,
            created_ms: now,
            modified_ms: now,
        };
        match self.function_urls.store.insert_function_url(&row).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(ControlError::Lambda(ErrorBody::new(
                    ErrorCode::ResourceConflict,
                    format!(
                        "Failed to create function url config for [functionArn = {}]. Error message:  FunctionUrlConfig exists for this Lambda function",
                        self.url_function_arn(&name, &q)
                    ),
                )));
            }
            Err(e) => return Err(ControlError::service("could not store the function URL", e)),
        }
        self.function_urls.remember(row.clone());
        let mut shown = self.render_function_url(&row);
        shown.last_modified_time = None;
        Ok(shown)
    }

    /// GetFunctionUrlConfig.
    pub async fn get_function_url_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionUrlConfig, ControlError> {
        let (name, q) = self.function_url_target_of(function, qualifier)?;
        let row = self.function_urls.find(&name, &q).ok_or_else(not_found)?;
        Ok(self.render_function_url(&row))
    }

    /// UpdateFunctionUrlConfig: members given replace the stored ones.
    pub async fn update_function_url_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
        req: FunctionUrlConfigRequest,
    ) -> Result<FunctionUrlConfig, ControlError> {
        validate_request(&req, false)?;
        let (name, q) = self.function_url_target_of(function, qualifier)?;
        let _writes = self.writes.lock().await;
        let mut row = self.function_urls.find(&name, &q).ok_or_else(not_found)?;
        if let Some(a) = req.auth_type {
            row.auth_type = a;
        }
        if let Some(m) = req.invoke_mode {
            row.invoke_mode = m;
        }
        if req.cors.is_some() {
            row.cors_json = cors_json(req.cors.as_ref())?;
        }
        row.modified_ms = crate::clock::now_ms();
        match self.function_urls.store.update_function_url(&row).await {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => return Err(not_found()),
            Err(e) => return Err(ControlError::service("could not store the function URL", e)),
        }
        self.function_urls.remember(row.clone());
        Ok(self.render_function_url(&row))
    }

    /// Creates the URL or updates it to these settings (what a stack deploy wants: the
    /// same result however often it runs).
    pub async fn put_function_url_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
        req: FunctionUrlConfigRequest,
    ) -> Result<FunctionUrlConfig, ControlError> {
        let (name, q) = self.function_url_target_of(function, qualifier)?;
        if self.function_urls.find(&name, &q).is_some() {
            self.update_function_url_config(function, qualifier, req)
                .await
        } else {
            self.create_function_url_config(function, qualifier, req)
                .await
        }
    }

    /// DeleteFunctionUrlConfig (204).
    pub async fn delete_function_url_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let (name, q) = self.function_url_target_of(function, qualifier)?;
        let _writes = self.writes.lock().await;
        let deleted = self
            .function_urls
            .store
            .delete_function_url(&name, &q)
            .await
            .map_err(|e| ControlError::service("could not delete the function URL", e))?;
        let id = url_id(&self.config.account_id, &self.config.region, &name, &q);
        self.function_urls.forget(&id);
        if deleted { Ok(()) } else { Err(not_found()) }
    }

    /// ListFunctionUrlConfigs: the URLs of `$LATEST` and the aliases, by qualifier.
    pub async fn list_function_url_configs(
        &self,
        function: &str,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListFunctionUrlConfigsResponse, ControlError> {
        let r = self.parse_ref(function)?;
        self.latest_or_404(&r.name)?;
        let page = crate::functions::page_size(max_items)?.min(LIST_PAGE_MAX);
        let mut rows: Vec<FunctionUrlRow> = self
            .function_urls
            .by_id
            .read()
            .map(|m| {
                m.values()
                    .filter(|row| row.function_name == r.name)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        rows.retain(|row| row.qualifier == LATEST || self.alias(&r.name, &row.qualifier).is_some());
        rows.sort_by(|a, b| a.qualifier.cmp(&b.qualifier));
        let start = marker
            .map(|m| {
                rows.iter()
                    .take_while(|row| row.qualifier.as_str() <= m)
                    .count()
            })
            .unwrap_or(0);
        let rest = rows.get(start..).unwrap_or_default();
        let shown: Vec<FunctionUrlConfig> = rest
            .iter()
            .take(page)
            .map(|row| self.render_function_url(row))
            .collect();
        let next_marker = (rest.len() > page)
            .then(|| rest.get(page - 1).map(|row| row.qualifier.clone()))
            .flatten();
        Ok(ListFunctionUrlConfigsResponse {
            function_url_configs: shown,
            next_marker,
        })
    }

    /// The function and stored qualifier a call names: `$LATEST` (also when unqualified) or
    /// an existing alias; a version number is refused by the model's pattern.
    fn function_url_target_of(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String), ControlError> {
        let (r, q) = self.parse_qualified(function, qualifier)?;
        self.latest_or_404(&r.name)?;
        match q.as_deref() {
            None | Some(LATEST) => Ok((r.name, LATEST.to_string())),
            Some(v) if names::is_version_number(v) => {
                let violation =
                    Violation::new(v, "qualifier", validate::pattern(QUALIFIER_PATTERN));
                Err(crate::functions::violation(violation))
            }
            Some(alias) => {
                if self.alias(&r.name, alias).is_none() {
                    return Err(ControlError::not_found(&format!(
                        "{}:{alias}",
                        self.function_arn(&r.name)
                    )));
                }
                Ok((r.name, alias.to_string()))
            }
        }
    }

    fn url_function_arn(&self, name: &str, qualifier: &str) -> String {
        if qualifier == LATEST {
            self.function_arn(name)
        } else {
            format!("{}:{qualifier}", self.function_arn(name))
        }
    }

    /// `http://<id>.lambda-url.<region>.localhost:<gateway port>/`.
    fn function_url_of(&self, url_id: &str) -> String {
        let port = self
            .server_info()
            .urls
            .and_then(|u| u.gateway_url)
            .and_then(|g| {
                g.trim_end_matches('/')
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
            })
            .unwrap_or(GATEWAY_PORT_DEFAULT);
        format!("http://{}:{port}/", self.function_url_domain(url_id))
    }

    fn render_function_url(&self, row: &FunctionUrlRow) -> FunctionUrlConfig {
        FunctionUrlConfig {
            function_url: self.function_url_of(&row.url_id),
            function_arn: self.url_function_arn(&row.function_name, &row.qualifier),
            auth_type: row.auth_type.clone(),
            cors: row
                .cors_json
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
            creation_time: iso_time(row.created_ms),
            last_modified_time: Some(iso_time(row.modified_ms)),
            invoke_mode: row.invoke_mode.clone(),
        }
    }
}

fn cors_json(cors: Option<&Cors>) -> Result<Option<String>, ControlError> {
    cors.map(serde_json::to_string)
        .transpose()
        .map_err(|e| ControlError::service("could not encode Cors", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_ids_are_stable_32_lowercase_alphanumerics() {
        let a = url_id("123456789012", "us-east-1", "fn", LATEST);
        assert_eq!(a.len(), URL_ID_CHARS);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(a, url_id("123456789012", "us-east-1", "fn", LATEST));
        assert_ne!(a, url_id("123456789012", "us-east-1", "fn", "live"));
        assert_ne!(a, url_id("123456789012", "us-east-1", "fn2", LATEST));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(url_id("1", "r", "ab", "c"), url_id("1", "r", "a", "bc"));
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(1_634_237_708_045), "2021-10-14T18:55:08.045000Z");
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000000Z");
    }

    fn req(auth: Option<&str>) -> FunctionUrlConfigRequest {
        FunctionUrlConfigRequest {
            auth_type: auth.map(str::to_string),
            ..Default::default()
        }
    }

    fn message(e: ControlError) -> String {
        e.body().message
    }

    #[test]
    fn validation_follows_the_model() {
        assert!(validate_request(&req(Some("NONE")), true).is_ok());
        assert!(validate_request(&req(None), false).is_ok());
        let missing = message(validate_request(&req(None), true).expect_err("required"));
        assert!(
            missing.contains("'authType'") && missing.contains("must not be null"),
            "{missing}"
        );
        let bad = message(validate_request(&req(Some("IAM")), true).expect_err("enum"));
        assert!(bad.contains("[NONE, AWS_IAM]"), "{bad}");
        let mut r = req(Some("AWS_IAM"));
        r.invoke_mode = Some("STREAM".into());
        assert!(validate_request(&r, true).is_err());
        let mut r = req(Some("NONE"));
        r.cors = Some(Cors {
            allow_methods: Some(vec!["OPTIONSX".into()]),
            max_age: Some(86_401),
            allow_origins: Some(vec![String::new()]),
            ..Default::default()
        });
        let m = message(validate_request(&r, true).expect_err("cors"));
        assert!(m.starts_with("3 validation errors detected"), "{m}");
    }

    #[test]
    fn requests_and_configs_use_lambda_casing() {
        let r: FunctionUrlConfigRequest = serde_json::from_value(serde_json::json!({
            "AuthType": "NONE",
            "Cors": {"AllowOrigins": ["*"], "MaxAge": 5, "AllowCredentials": true},
            "InvokeMode": "BUFFERED"
        }))
        .expect("parse");
        assert_eq!(r.auth_type.as_deref(), Some("NONE"));
        let cors = r.cors.clone().expect("cors");
        assert_eq!(cors.allow_origins, Some(vec!["*".to_string()]));
        let shown = FunctionUrlConfig {
            function_url: "http://x/".into(),
            function_arn: "arn".into(),
            auth_type: "NONE".into(),
            cors: Some(cors),
            creation_time: iso_time(0),
            last_modified_time: None,
            invoke_mode: "BUFFERED".into(),
        };
        let v = serde_json::to_value(&shown).expect("json");
        assert_eq!(
            v["Cors"],
            serde_json::json!({"AllowOrigins": ["*"], "MaxAge": 5, "AllowCredentials": true})
        );
        assert!(v.get("LastModifiedTime").is_none());
        assert_eq!(v["FunctionUrl"], "http://x/");
    }
}
