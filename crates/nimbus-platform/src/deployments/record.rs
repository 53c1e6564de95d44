//! A deployment as the engine works on it, its stored row, and its view.

use super::schedule::{DeploymentType, Progress};
use nimbus_api::stack::AlarmSpec;
use nimbus_store::DeploymentRow;
use serde::{Deserialize, Serialize};

/// Events kept in a deployment's timeline (the oldest are dropped): a linear deployment
/// has ten steps plus hooks and an outcome, far below this.
pub const EVENTS_MAX: usize = 64;
/// Characters of a hook's error kept in reasons and events.
pub const HOOK_ERROR_CHARS_MAX: usize = 512;

/// Where a deployment is in its lifecycle (CodeDeploy's, for Lambda):
/// `Created → PreTraffic → Shifting → PostTraffic → Succeeded`, or from any of the running
/// ones `→ RollingBack → RolledBack` (or `Failed` when the alias could not be restored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentStatus {
    /// Accepted, nothing done yet.
    Created,
    /// The PreTraffic hook runs; the alias has not moved.
    PreTraffic,
    /// Traffic moves step by step.
    Shifting,
    /// All traffic is on the new version; the PostTraffic hook runs.
    PostTraffic,
    /// A check, hook or request asked for a rollback; the alias is being restored.
    RollingBack,
    /// Done: the alias points at the new version.
    Succeeded,
    /// Done: the alias is back on the old version with no weights.
    RolledBack,
    /// Done: the alias could not be restored (it, its function or a version is gone).
    Failed,
}

impl DeploymentStatus {
    /// Every status, for parsing.
    const ALL: [DeploymentStatus; 8] = [
        DeploymentStatus::Created,
        DeploymentStatus::PreTraffic,
        DeploymentStatus::Shifting,
        DeploymentStatus::PostTraffic,
        DeploymentStatus::RollingBack,
        DeploymentStatus::Succeeded,
        DeploymentStatus::RolledBack,
        DeploymentStatus::Failed,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Created => "Created",
            DeploymentStatus::PreTraffic => "PreTraffic",
            DeploymentStatus::Shifting => "Shifting",
            DeploymentStatus::PostTraffic => "PostTraffic",
            DeploymentStatus::RollingBack => "RollingBack",
            DeploymentStatus::Succeeded => "Succeeded",
            DeploymentStatus::RolledBack => "RolledBack",
            DeploymentStatus::Failed => "Failed",
        }
    }

    /// The status stored as `word`.
    pub fn parse(word: &str) -> Option<DeploymentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// True once nothing more will happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Succeeded | DeploymentStatus::RolledBack | DeploymentStatus::Failed
        )
    }
}

/// Where a lifecycle hook is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookStatus {
    /// Not run yet.
    Pending,
    /// Invoked, no outcome yet (re-run after a restart).
    Running,
    /// Returned without a function error.
    Succeeded,
    /// A function error, or the invocation failed.
    Failed,
}

/// One lifecycle hook: a function invoked synchronously.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookState {
    /// The hook function.
    pub function_name: String,
    /// Where it is.
    pub status: HookStatus,
    /// `LifecycleEventHookExecutionId` of the latest run.
    #[serde(default)]
    pub execution_id: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

impl HookState {
    fn new(function_name: String) -> Self {
        HookState {
            function_name,
            status: HookStatus::Pending,
            execution_id: None,
            error: None,
        }
    }
}

/// The two hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Hooks {
    /// `BeforeAllowTraffic`.
    #[serde(default)]
    pub pre_traffic: Option<HookState>,
    /// `AfterAllowTraffic`.
    #[serde(default)]
    pub post_traffic: Option<HookState>,
}

impl Hooks {
    /// Hooks for the given functions, none run yet.
    pub fn new(pre: Option<String>, post: Option<String>) -> Self {
        Hooks {
            pre_traffic: pre.map(HookState::new),
            post_traffic: post.map(HookState::new),
        }
    }
}

/// One entry of a deployment's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentEvent {
    /// When, ms since the Unix epoch (the platform's clock).
    pub time_ms: i64,
    /// The status after it.
    pub status: DeploymentStatus,
    /// What happened.
    pub message: String,
}

/// A deployment as the engine works on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deployment {
    pub id: String,
    pub owner: String,
    pub function: String,
    pub alias: String,
    pub from_version: String,
    pub to_version: String,
    pub kind: DeploymentType,
    pub status: DeploymentStatus,
    pub progress: Progress,
    pub started_ms: i64,
    pub hooks: Hooks,
    pub alarms: Vec<AlarmSpec>,
    pub reason: Option<String>,
    pub events: Vec<DeploymentEvent>,
    pub updated_ms: i64,
}

impl Deployment {
    /// Appends to the timeline (bounded) and stamps the change.
    pub fn event(&mut self, now_ms: i64, message: impl Into<String>) {
        self.events.push(DeploymentEvent {
            time_ms: now_ms,
            status: self.status,
            message: message.into(),
        });
        if self.events.len() > EVENTS_MAX {
            let excess = self.events.len() - EVENTS_MAX;
            self.events.drain(..excess);
        }
        self.updated_ms = now_ms;
    }

    /// The row to store.
    pub fn to_row(&self) -> Result<DeploymentRow, serde_json::Error> {
        Ok(DeploymentRow {
            id: self.id.clone(),
            owner: self.owner.clone(),
            function_name: self.function.clone(),
            alias: self.alias.clone(),
            from_version: self.from_version.clone(),
            to_version: self.to_version.clone(),
            deployment_type: self.kind.name().to_string(),
            status: self.status.as_str().to_string(),
            in_progress: !self.status.is_terminal(),
            weight_percent: i64::from(self.progress.percent),
            step: i64::from(self.progress.step),
            started_ms: self.started_ms,
            next_step_ms: self.progress.next_step_ms,
            hooks_json: serde_json::to_string(&self.hooks)?,
            alarms_json: serde_json::to_string(&self.alarms)?,
            reason: self.reason.clone(),
            events_json: serde_json::to_string(&self.events)?,
            updated_ms: self.updated_ms,
        })
    }

    /// A stored row read back; the error says which field is unreadable.
    pub fn from_row(row: DeploymentRow) -> Result<Deployment, String> {
        let kind = DeploymentType::parse(&row.deployment_type)
            .ok_or_else(|| format!("unknown deployment type {:?}", row.deployment_type))?;
        let status = DeploymentStatus::parse(&row.status)
            .ok_or_else(|| format!("unknown status {:?}", row.status))?;
        let json = |what: &str, e: serde_json::Error| format!("unreadable {what}: {e}");
        Ok(Deployment {
            kind,
            status,
            progress: Progress {
                step: u32::try_from(row.step).unwrap_or(0),
                percent: u32::try_from(row.weight_percent).unwrap_or(0),
                next_step_ms: row.next_step_ms,
            },
            hooks: serde_json::from_str(&row.hooks_json).map_err(|e| json("hooks", e))?,
            alarms: serde_json::from_str(&row.alarms_json).map_err(|e| json("alarms", e))?,
            events: serde_json::from_str(&row.events_json).map_err(|e| json("events", e))?,
            id: row.id,
            owner: row.owner,
            function: row.function_name,
            alias: row.alias,
            from_version: row.from_version,
            to_version: row.to_version,
            started_ms: row.started_ms,
            reason: row.reason,
            updated_ms: row.updated_ms,
        })
    }

    /// What users see.
    pub fn view(&self) -> DeploymentView {
        DeploymentView {
            deployment_id: self.id.clone(),
            owner: self.owner.clone(),
            function_name: self.function.clone(),
            alias: self.alias.clone(),
            from_version: self.from_version.clone(),
            to_version: self.to_version.clone(),
            deployment_type: self.kind.name().to_string(),
            status: self.status,
            traffic_percent: self.progress.percent,
            step: self.progress.step,
            steps: self.kind.steps(),
            started_ms: self.started_ms,
            next_step_ms: self.progress.next_step_ms,
            pre_traffic_hook: self.hooks.pre_traffic.clone(),
            post_traffic_hook: self.hooks.post_traffic.clone(),
            alarms: self
                .alarms
                .iter()
                .map(|a| {
                    if a.alarm_name.is_empty() {
                        a.logical_id.clone()
                    } else {
                        a.alarm_name.clone()
                    }
                })
                .collect(),
            reason: self.reason.clone(),
            events: self.events.clone(),
            updated_ms: self.updated_ms,
        }
    }
}

/// A deployment as the API shows it (`/nimbus/v1/deployments`, PascalCase keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentView {
    /// `d-XXXXXXXXX`.
    pub deployment_id: String,
    /// Who started it.
    pub owner: String,
    /// Function name.
    pub function_name: String,
    /// The alias whose traffic moves.
    pub alias: String,
    /// Version traffic moves away from.
    pub from_version: String,
    /// Version traffic moves to.
    pub to_version: String,
    /// `Canary10Percent5Minutes`, …
    pub deployment_type: String,
    /// Lifecycle status.
    pub status: DeploymentStatus,
    /// Percent of the alias's traffic on `to_version` now.
    pub traffic_percent: u32,
    /// Traffic step reached (0-based).
    pub step: u32,
    /// Traffic steps in all.
    pub steps: u32,
    /// Start, ms since the Unix epoch.
    pub started_ms: i64,
    /// When the next step is due, ms since the Unix epoch.
    pub next_step_ms: Option<i64>,
    /// The PreTraffic hook, if any.
    pub pre_traffic_hook: Option<HookState>,
    /// The PostTraffic hook, if any.
    pub post_traffic_hook: Option<HookState>,
    /// Names of the alarms evaluated.
    pub alarms: Vec<String>,
    /// Why it rolled back or failed.
    pub reason: Option<String>,
    /// The timeline, oldest first.
    pub events: Vec<DeploymentEvent>,
    /// Last change, ms since the Unix epoch.
    pub updated_ms: i64,
}

/// `text` cut to `max` characters (hook errors may be whole payloads).
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Deployment {
        Deployment {
            id: "d-ABCDEFGHI".into(),
            owner: "stack".into(),
            function: "f".into(),
            alias: "live".into(),
            from_version: "1".into(),
            to_version: "2".into(),
            kind: DeploymentType::Linear { minutes: 1 },
            status: DeploymentStatus::Shifting,
            progress: Progress {
                step: 3,
                percent: 40,
                next_step_ms: Some(99),
            },
            started_ms: 7,
            hooks: Hooks::new(Some("pre".into()), None),
            alarms: vec![AlarmSpec {
                alarm_name: "high".into(),
                ..AlarmSpec::default()
            }],
            reason: None,
            events: Vec::new(),
            updated_ms: 8,
        }
    }

    #[test]
    fn a_row_round_trips() {
        let d = sample();
        let row = d.to_row().expect("row");
        assert!(row.in_progress);
        assert_eq!(row.weight_percent, 40);
        assert_eq!(Deployment::from_row(row), Ok(d));
    }

    #[test]
    fn unreadable_rows_say_why() {
        let mut row = sample().to_row().expect("row");
        row.status = "Baking".into();
        assert!(
            Deployment::from_row(row.clone())
                .unwrap_err()
                .contains("Baking")
        );
        row.status = "Shifting".into();
        row.hooks_json = "[".into();
        assert!(Deployment::from_row(row).unwrap_err().contains("hooks"));
    }

    #[test]
    fn the_timeline_is_bounded() {
        let mut d = sample();
        for i in 0..(EVENTS_MAX + 5) {
            d.event(i as i64, format!("e{i}"));
        }
        assert_eq!(d.events.len(), EVENTS_MAX);
        assert_eq!(d.events[0].message, "e5");
        assert_eq!(d.updated_ms, (EVENTS_MAX + 4) as i64);
    }

    #[test]
    fn the_view_uses_pascal_case_and_status_words() {
        let v = serde_json::to_value(sample().view()).expect("json");
        assert_eq!(v["DeploymentId"], "d-ABCDEFGHI");
        assert_eq!(v["Status"], "Shifting");
        assert_eq!(v["TrafficPercent"], 40);
        assert_eq!(v["Steps"], 10);
        assert_eq!(v["PreTrafficHook"]["FunctionName"], "pre");
        assert_eq!(v["PreTrafficHook"]["Status"], "Pending");
        assert_eq!(v["Alarms"][0], "high");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hi", 2), "hi");
    }
}
