//! Deployment types and their traffic schedules (CodeDeploy's predefined Lambda
//! configurations, `CodeDeployDefault.Lambda<Type>`): pure functions of the step reached.
//!
//! * `Canary10Percent{5,10,15,30}Minutes`: step 0 sends 10 % to the new version; N minutes
//!   later step 1 sends 100 %.
//! * `Linear10PercentEvery{1,2,3,10}Minute(s)`: step k sends 10 × (k + 1) %, one step every N
//!   minutes, so 100 % is reached 9 × N minutes after the first shift.
//! * `AllAtOnce`: one step, 100 %.

/// Share of the traffic a canary sends first, and each linear step adds.
pub const STEP_PERCENT: u32 = 10;
/// All of the traffic.
pub const FULL_PERCENT: u32 = 100;
/// One minute in ms (the unit of every predefined configuration).
const MINUTE_MS: i64 = 60_000;

/// How traffic moves to the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentType {
    /// 10 % for `minutes`, then 100 %.
    Canary {
        /// Minutes at 10 %.
        minutes: u32,
    },
    /// +10 % every `minutes` until 100 %.
    Linear {
        /// Minutes between steps.
        minutes: u32,
    },
    /// 100 % at once.
    AllAtOnce,
}

/// Every type Nimbus runs, by its SAM / CodeDeploy name.
const TYPES: [(&str, DeploymentType); 9] = [
    (
        "Canary10Percent5Minutes",
        DeploymentType::Canary { minutes: 5 },
    ),
    (
        "Canary10Percent10Minutes",
        DeploymentType::Canary { minutes: 10 },
    ),
    (
        "Canary10Percent15Minutes",
        DeploymentType::Canary { minutes: 15 },
    ),
    (
        "Canary10Percent30Minutes",
        DeploymentType::Canary { minutes: 30 },
    ),
    (
        "Linear10PercentEvery1Minute",
        DeploymentType::Linear { minutes: 1 },
    ),
    (
        "Linear10PercentEvery2Minutes",
        DeploymentType::Linear { minutes: 2 },
    ),
    (
        "Linear10PercentEvery3Minutes",
        DeploymentType::Linear { minutes: 3 },
    ),
    (
        "Linear10PercentEvery10Minutes",
        DeploymentType::Linear { minutes: 10 },
    ),
    ("AllAtOnce", DeploymentType::AllAtOnce),
];

impl DeploymentType {
    /// The type named `name` (also accepted with CodeDeploy's `CodeDeployDefault.Lambda`
    /// prefix); `None` for anything else.
    pub fn parse(name: &str) -> Option<DeploymentType> {
        let name = name
            .strip_prefix("CodeDeployDefault.Lambda")
            .unwrap_or(name);
        TYPES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Every valid name, for error messages.
    pub fn valid_names() -> Vec<&'static str> {
        TYPES.iter().map(|(n, _)| *n).collect()
    }

    /// The SAM / CodeDeploy name.
    pub fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("AllAtOnce")
    }

    /// Number of traffic steps.
    pub fn steps(self) -> u32 {
        match self {
            DeploymentType::Canary { .. } => 2,
            DeploymentType::Linear { .. } => FULL_PERCENT / STEP_PERCENT,
            DeploymentType::AllAtOnce => 1,
        }
    }

    /// True when `step` is the last one (100 %).
    pub fn is_last(self, step: u32) -> bool {
        step + 1 >= self.steps()
    }

    /// Percent of the traffic on the new version at `step`.
    pub fn percent_at(self, step: u32) -> u32 {
        match self {
            DeploymentType::Canary { .. } if step == 0 => STEP_PERCENT,
            DeploymentType::Linear { .. } => STEP_PERCENT
                .saturating_mul(step.saturating_add(1))
                .min(FULL_PERCENT),
            _ => FULL_PERCENT,
        }
    }

    /// Time between two steps, ms (0 for all at once).
    pub fn interval_ms(self) -> i64 {
        match self {
            DeploymentType::Canary { minutes } | DeploymentType::Linear { minutes } => {
                i64::from(minutes) * MINUTE_MS
            }
            DeploymentType::AllAtOnce => 0,
        }
    }

    /// Percent on the new version `elapsed_ms` after the first shift (what the engine
    /// reaches when every step is taken on time).
    pub fn percent_after(self, elapsed_ms: i64) -> u32 {
        let interval = self.interval_ms();
        if interval <= 0 || elapsed_ms < 0 {
            return self.percent_at(0);
        }
        let step = u32::try_from(elapsed_ms / interval).unwrap_or(u32::MAX);
        self.percent_at(step.min(self.steps() - 1))
    }
}

/// The traffic step a deployment is at: a pure transition the engine applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Step reached.
    pub step: u32,
    /// Percent on the new version.
    pub percent: u32,
    /// When the next step is due (absolute ms), if any.
    pub next_step_ms: Option<i64>,
}

impl Progress {
    /// The first step, taken at `now_ms`.
    pub fn first(kind: DeploymentType, now_ms: i64) -> Progress {
        Progress {
            step: 0,
            percent: kind.percent_at(0),
            next_step_ms: (!kind.is_last(0)).then(|| now_ms + kind.interval_ms()),
        }
    }

    /// Takes every step due by `now_ms`. Step times are absolute (each one interval after
    /// the previous one was due, not after it was taken), so a deployment resumed after a
    /// restart lands on the step it would have reached.
    pub fn catch_up(self, kind: DeploymentType, now_ms: i64) -> Progress {
        let mut p = self;
        while let Some(due) = p.next_step_ms
            && now_ms >= due
            && !kind.is_last(p.step)
        {
            p.step += 1;
            p.percent = kind.percent_at(p.step);
            p.next_step_ms = (!kind.is_last(p.step)).then(|| due + kind.interval_ms());
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = MINUTE_MS;

    #[test]
    fn every_name_parses_back_to_itself() {
        for name in DeploymentType::valid_names() {
            let t = DeploymentType::parse(name).expect(name);
            assert_eq!(t.name(), name);
        }
        assert_eq!(
            DeploymentType::parse("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
            Some(DeploymentType::Canary { minutes: 5 })
        );
        assert_eq!(DeploymentType::parse("Canary10Percent6Minutes"), None);
        assert_eq!(DeploymentType::parse(""), None);
    }

    #[test]
    fn canaries_send_ten_percent_for_their_minutes_then_everything() {
        for (name, minutes) in [
            ("Canary10Percent5Minutes", 5),
            ("Canary10Percent10Minutes", 10),
            ("Canary10Percent15Minutes", 15),
            ("Canary10Percent30Minutes", 30),
        ] {
            let t = DeploymentType::parse(name).expect(name);
            assert_eq!(t.steps(), 2, "{name}");
            assert_eq!(t.percent_after(0), 10, "{name}");
            assert_eq!(t.percent_after(minutes * MIN - 1), 10, "{name}");
            assert_eq!(t.percent_after(minutes * MIN), 100, "{name}");
            assert_eq!(t.percent_after(10 * minutes * MIN), 100, "{name}");
        }
    }

    #[test]
    fn linears_add_ten_percent_every_interval() {
        for (name, minutes) in [
            ("Linear10PercentEvery1Minute", 1),
            ("Linear10PercentEvery2Minutes", 2),
            ("Linear10PercentEvery3Minutes", 3),
            ("Linear10PercentEvery10Minutes", 10),
        ] {
            let t = DeploymentType::parse(name).expect(name);
            assert_eq!(t.steps(), 10, "{name}");
            let weights: Vec<u32> = (0..12)
                .map(|k| t.percent_after(k * minutes * MIN))
                .collect();
            assert_eq!(
                weights,
                [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100, 100],
                "{name}"
            );
            // Just before a step: still the previous weight.
            assert_eq!(t.percent_after(3 * minutes * MIN - 1), 30, "{name}");
        }
    }

    #[test]
    fn all_at_once_is_one_full_step() {
        let t = DeploymentType::AllAtOnce;
        assert_eq!(t.steps(), 1);
        assert!(t.is_last(0));
        assert_eq!(t.percent_after(0), 100);
        assert_eq!(Progress::first(t, 5).next_step_ms, None);
        assert_eq!(Progress::first(t, 5).percent, 100);
    }

    #[test]
    fn catch_up_takes_due_steps_on_absolute_times() {
        let t = DeploymentType::Linear { minutes: 2 };
        let start = 1_000;
        let p = Progress::first(t, start);
        assert_eq!(
            (p.step, p.percent, p.next_step_ms),
            (0, 10, Some(start + 2 * MIN))
        );
        // Nothing due yet.
        assert_eq!(p.catch_up(t, start + 2 * MIN - 1), p);
        // Late by a minute: the step is taken and the next one stays on the grid.
        let p = p.catch_up(t, start + 3 * MIN);
        assert_eq!(
            (p.step, p.percent, p.next_step_ms),
            (1, 20, Some(start + 4 * MIN))
        );
        // Down for an hour: jumps to the end in one call.
        let p = p.catch_up(t, start + 60 * MIN);
        assert_eq!((p.step, p.percent, p.next_step_ms), (9, 100, None));
        // Matches percent_after at every minute.
        for m in 0..25 {
            let now = start + m * MIN;
            assert_eq!(
                Progress::first(t, start).catch_up(t, now).percent,
                t.percent_after(now - start)
            );
        }
    }

    #[test]
    fn canary_catch_up_ends_at_full_traffic() {
        let t = DeploymentType::Canary { minutes: 5 };
        let p = Progress::first(t, 0);
        assert_eq!(p.percent, 10);
        let p = p.catch_up(t, 5 * MIN);
        assert_eq!((p.step, p.percent, p.next_step_ms), (1, 100, None));
    }
}
