//! G10 "Cron and clocks" (`bad-inputs.md`): a seeded simulation of 1,000 hours of schedule
//! time per scenario on a real `SqliteStore` with a `ManualClock`, driving the engine's fire
//! pass directly as the scheduler task would, through DST changes in two zones, random clock
//! jumps of up to ±3 h and 20 crashes (the store dropped unclosed and reopened, a fresh engine
//! on it).
//!
//! **Steps.** A pass costs about a millisecond in a debug build (a store read and a
//! `fire_slot` transaction), so 60,000 one-minute passes per scenario would take minutes.
//! The clock therefore alternates between *dense* stretches (30 min to 2 h of one-minute
//! steps: every slot gets its own pass, and every one must fire) and *coarse* stretches (8 to
//! 24 h of steps of 2 to 59 minutes: each is a small forward jump, under the same oracle as
//! the ±3 h jumps: only the latest slot it passes fires). About 7% of the time is dense;
//! each DST change is always walked densely. Random ±3 h jumps are drawn per simulated minute
//! (so they land in both kinds of stretch), and crashes at 20 random instants. Stepping by
//! seconds would only add empty passes; the "fires within 1 s" lag of G10 is the scheduler
//! loop's wake-up, not this pass, and is not measured here.
//!
//! **Oracle.** Every async event row the store holds is read back, and per schedule: no slot
//! fired twice (request ids and payload `time`s, and the committed `fire_slot`s counted
//! against the rows); every fired slot is a slot of its expression; fired slots strictly
//! increase; a forward move into new time (coarse step, jump, downtime) fires exactly the
//! latest slot it passed, if any (the missed-slot policy); a pass at or below the highest
//! clock reading fires nothing (a backward jump replays nothing); every slot a one-minute
//! step into new time passes fires; the daily zoned crons fire at their wall time, at its
//! first occurrence only; and around each DST change exactly the expected slots fire (no
//! jump, coarse step or downtime crosses a window around a change, so this holds for any
//! seed). One `RESULT` line per scenario summarises the run.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{TimeZone, Timelike, Utc};
use nimbus_schedule::ScheduleExpression;
use nimbus_store::{EventStore, ScheduleRow, ScheduleStore, SqliteStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ScheduleSpec;
use super::engine::{FireHooks, Schedules};
use super::payload::request_id;
use crate::clock::{Clock, ManualClock};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// Simulated hours per scenario: G10's figure.
const SIM_HOURS: i64 = 1_000;
/// Crashes per scenario: G10's figure.
const CRASHES: usize = 20;
/// Largest clock jump either way: G10's ±3 h.
const JUMP_MAX_MS: i64 = 3 * HOUR;
/// A random jump (each way) per this many simulated minutes: ~60 of each in 1,000 hours.
const JUMP_EVERY_MINUTES: i64 = 1_000;
/// Length of a dense stretch (one-minute steps): long enough to pass several `0/7` slots.
const DENSE_MS: (i64, i64) = (30 * MIN, 2 * HOUR);
/// Length of a coarse stretch: dense stretches then cover about 7% of the time.
const COARSE_MS: (i64, i64) = (8 * HOUR, 24 * HOUR);
/// A coarse step: more than a minute (it skips slots), less than an hour (many per day).
const COARSE_STEP_MS: (i64, i64) = (2 * MIN, 59 * MIN);
/// Longest downtime of a crash (half the crashes restart at the same instant).
const DOWNTIME_MAX_MS: i64 = 3 * HOUR;
/// Around each DST change, no jump or downtime crosses this margin, so the change is walked
/// minute by minute at least once.
const DST_QUIET_MS: i64 = 90 * MIN;
/// Rows read back per claim: the store's largest batch.
const READ_BATCH: u32 = nimbus_store::events::EVENT_BATCH_LIMIT_MAX;
/// Replays another seed: `NIMBUS_SIM_SEED=<u64> cargo test -p nimbus-platform simulation`.
const SEED_ENV: &str = "NIMBUS_SIM_SEED";
const OWNER: &str = "sim";
/// Linux's RAM-backed directory (see [`sim_dir`]).
const RAM_DIR: &str = "/dev/shm";

/// One schedule of the simulation.
struct Sched {
    name: &'static str,
    expression: &'static str,
    timezone: Option<&'static str>,
    /// The wall time (hour, minute) a daily zoned cron must fire at.
    wall: Option<(u32, u32)>,
}

const SCHEDULES: [Sched; 5] = [
    Sched {
        name: "every-minute",
        expression: "rate(1 minute)",
        timezone: None,
        wall: None,
    },
    Sched {
        name: "every-7",
        expression: "cron(0/7 * * * ? *)",
        timezone: None,
        wall: None,
    },
    Sched {
        name: "ny-0130",
        expression: "cron(30 1 * * ? *)",
        timezone: Some("America/New_York"),
        wall: Some((1, 30)),
    },
    Sched {
        name: "berlin-0230",
        expression: "cron(30 2 * * ? *)",
        timezone: Some("Europe/Berlin"),
        wall: Some((2, 30)),
    },
    Sched {
        name: "berlin-15",
        expression: "cron(0/15 * * * ? *)",
        timezone: Some("Europe/Berlin"),
        wall: None,
    },
];

/// ms since the epoch of a UTC wall time.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
        .timestamp_millis()
}

/// What a scenario expects of one schedule around a DST change: exactly `fired` in
/// `[from, to]` (walked minute by minute, so nothing there is skipped by a jump).
struct DstExpect {
    schedule: &'static str,
    from: i64,
    to: i64,
    fired: Vec<i64>,
}

struct Scenario {
    label: &'static str,
    seed: u64,
    start_ms: i64,
    /// DST changes inside the scenario (UTC instants).
    transitions: Vec<i64>,
    expects: Vec<DstExpect>,
}

/// Counts what the engine tells the async machinery: `enqueued` is the number of
/// `fire_slot` calls that committed.
#[derive(Default)]
struct Counting {
    enqueued: AtomicU64,
}

impl FireHooks for Counting {
    fn reserve(&self) {}
    fn unreserve(&self) {}
    fn enqueued(&self, _function: &str) {
        self.enqueued.fetch_add(1, Ordering::SeqCst);
    }
}

fn engine(store: &Arc<SqliteStore>, clock: &Arc<ManualClock>) -> Schedules {
    Schedules::new(
        store.clone(),
        clock.clone(),
        "us-east-1".to_string(),
        "123456789012".to_string(),
    )
}

fn specs() -> Vec<ScheduleSpec> {
    SCHEDULES
        .iter()
        .map(|s| ScheduleSpec {
            name: s.name.to_string(),
            function: "worker".to_string(),
            qualifier: None,
            expression: s.expression.to_string(),
            timezone: s.timezone.map(str::to_string),
            input: None,
            v2: s.timezone.is_some(),
            enabled: true,
        })
        .collect()
}

/// A clock jump: the clock before, after, and the highest reading before it.
struct Jump {
    from: i64,
    to: i64,
    high_before: i64,
}

/// What the run saw, for the oracle.
#[derive(Default)]
struct Run {
    ticks: u64,
    /// Every forward move of more than a minute: coarse steps, jumps, downtime.
    forward: Vec<Jump>,
    dense_steps: u64,
    coarse_steps: u64,
    jumps_forward: u64,
    jumps_backward: u64,
    crashes: usize,
    /// Slots each schedule fired, tick by tick (from the stored `last_slot_ms`).
    observed: HashMap<String, Vec<i64>>,
    /// Slots that plain minute steps into new time passed and so must fire.
    must_fire: HashMap<String, BTreeSet<i64>>,
    /// Slots fired by ticks at or below the highest clock reading (must be none).
    replayed: Vec<(String, i64)>,
}

/// The simulation's state: the store (reopened at each crash), the clock, the engine.
struct Sim {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    engine: Schedules,
    hooks: Counting,
    exprs: HashMap<String, ScheduleExpression>,
    last: HashMap<String, Option<i64>>,
    high: i64,
    run: Run,
}

impl Sim {
    async fn new(start_ms: i64) -> Self {
        let dir = sim_dir();
        let store = Arc::new(SqliteStore::open(dir.path()).await.expect("open"));
        let clock = Arc::new(ManualClock::new(start_ms));
        let engine = engine(&store, &clock);
        engine.put(OWNER, specs()).await.expect("put");
        let mut sim = Sim {
            dir,
            store,
            clock,
            engine,
            hooks: Counting::default(),
            exprs: HashMap::new(),
            last: HashMap::new(),
            high: start_ms,
            run: Run::default(),
        };
        for row in sim.rows().await {
            let expr = ScheduleExpression::parse(&row.expression, row.timezone.as_deref())
                .expect("valid")
                .with_anchor(row.anchor_ms);
            sim.exprs.insert(row.name.clone(), expr);
            sim.last.insert(row.name.clone(), row.last_slot_ms);
        }
        sim
    }

    async fn rows(&self) -> Vec<ScheduleRow> {
        ScheduleStore::list_schedules(&*self.store)
            .await
            .expect("list")
    }

    /// A crash: the engine and the store dropped without closing, the store reopened from
    /// its files and a new engine built on it.
    async fn crash(&mut self) {
        let fresh = Arc::new(SqliteStore::open(self.dir.path()).await.expect("reopen"));
        self.store = fresh;
        self.engine = engine(&self.store, &self.clock);
        self.run.crashes += 1;
    }

    /// One fire pass at the current clock, recording what fired.
    async fn tick(&mut self) {
        let now = self.clock.now_ms();
        self.engine.tick(&self.hooks).await.expect("tick");
        self.run.ticks += 1;
        for row in self.rows().await {
            let before = self
                .last
                .insert(row.name.clone(), row.last_slot_ms)
                .flatten();
            if let Some(slot) = row.last_slot_ms
                && before != Some(slot)
            {
                self.run
                    .observed
                    .entry(row.name.clone())
                    .or_default()
                    .push(slot);
                if now <= self.high && self.run.ticks > 1 {
                    self.run.replayed.push((row.name.clone(), slot));
                }
            }
        }
        self.high = self.high.max(now);
    }

    /// A step of the clock: one minute (dense; every slot it passes into new time must
    /// fire) or more (coarse; a small forward jump).
    fn step(&mut self, by: i64) {
        if by > MIN {
            self.run.coarse_steps += 1;
            self.forward(by);
            return;
        }
        self.run.dense_steps += 1;
        let from = self.clock.now_ms();
        let to = from + by;
        if from >= self.high {
            for (name, expr) in &self.exprs {
                let mut at = from;
                while let Some(slot) = expr.next_after(at).filter(|&s| s <= to) {
                    self.run
                        .must_fire
                        .entry(name.clone())
                        .or_default()
                        .insert(slot);
                    at = slot;
                }
            }
        }
        self.clock.set_ms(to);
    }

    /// Moves the clock forward by more than a minute, recorded for the missed-slot oracle.
    fn forward(&mut self, by: i64) {
        let from = self.clock.now_ms();
        self.run.forward.push(Jump {
            from,
            to: from + by,
            high_before: self.high,
        });
        self.clock.set_ms(from + by);
    }
}

/// Where the store lives: a RAM-backed directory where there is one. The crashes here are
/// process restarts, not power loss (G4 covers that), so fsync durability is not under test,
/// and without its cost the run fits the test budget.
fn sim_dir() -> tempfile::TempDir {
    let ram = std::path::Path::new(RAM_DIR);
    if ram.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(ram)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

/// True when moving the clock over `[from, to]` would cross a DST quiet window.
fn crosses_quiet(transitions: &[i64], from: i64, to: i64) -> bool {
    transitions
        .iter()
        .any(|&t| from <= t + DST_QUIET_MS && to >= t - DST_QUIET_MS)
}

fn seed_or(default: u64) -> u64 {
    std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs a scenario, then checks the store against the oracle; panics with every violation.
async fn simulate(scenario: Scenario) {
    let seed = seed_or(scenario.seed);
    println!("SEED g10-schedules-{} seed={seed}", scenario.label);
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let end_ms = scenario.start_ms + SIM_HOURS * HOUR;
    // Crashes happen when the clock first passes these instants, so all 20 happen.
    let mut crash_at: Vec<i64> = (0..CRASHES)
        .map(|_| rng.random_range(scenario.start_ms + MIN..end_ms))
        .collect();
    crash_at.sort_unstable();
    crash_at.reverse();

    let mut sim = Sim::new(scenario.start_ms).await;
    // The first pass fires what is due at creation (a rate's anchor).
    for (name, expr) in &sim.exprs {
        if let Some(slot) = expr.next_after(scenario.start_ms - 1)
            && slot == scenario.start_ms
        {
            sim.run
                .must_fire
                .entry(name.clone())
                .or_default()
                .insert(slot);
        }
    }
    sim.tick().await;
    let quiet = |from: i64, to: i64| crosses_quiet(&scenario.transitions, from, to);
    let mut dense = true;
    let mut stretch_end = scenario.start_ms + rng.random_range(DENSE_MS.0..=DENSE_MS.1);
    while sim.clock.now_ms() < end_ms {
        let now = sim.clock.now_ms();
        if now >= stretch_end {
            dense = !dense;
            let (lo, hi) = if dense { DENSE_MS } else { COARSE_MS };
            stretch_end = now + rng.random_range(lo..=hi);
        }
        let mut by = if dense {
            MIN
        } else {
            rng.random_range(COARSE_STEP_MS.0..=COARSE_STEP_MS.1)
        };
        if quiet(now, now + by) {
            by = MIN;
        }
        let jump = rng.random_range(MIN + 1..=JUMP_MAX_MS);
        let roll = rng.random_range(0..JUMP_EVERY_MINUTES * MIN);
        if crash_at.last().is_some_and(|&c| now >= c) {
            crash_at.pop();
            sim.crash().await;
            let downtime = if rng.random_bool(0.5) {
                rng.random_range(MIN..=DOWNTIME_MAX_MS)
            } else {
                0
            };
            if downtime > 0 && !quiet(now, now + downtime) {
                sim.run.jumps_forward += 1;
                sim.forward(downtime);
            } else {
                sim.step(by);
            }
        } else if roll < by && !quiet(now, now + jump) {
            sim.run.jumps_forward += 1;
            sim.forward(jump);
        } else if roll >= JUMP_EVERY_MINUTES * MIN - by {
            sim.run.jumps_backward += 1;
            sim.clock.set_ms(now - jump);
        } else {
            sim.step(by);
        }
        sim.tick().await;
    }
    let elapsed = started.elapsed();
    check(&scenario, seed, &sim, elapsed).await;
}

/// A fired slot as the store holds it: schedule name and slot, from the event's payload.
fn parse_event(event: &nimbus_store::EventRow) -> (String, i64) {
    let json: serde_json::Value = serde_json::from_slice(&event.payload).expect("payload JSON");
    let arn = json["resources"][0].as_str().expect("resources[0]");
    let name = arn.rsplit('/').next().expect("name in ARN").to_string();
    let time = json["time"].as_str().expect("time");
    let slot = chrono::DateTime::parse_from_rfc3339(time)
        .expect("RFC 3339 time")
        .timestamp_millis();
    (name, slot)
}

/// Every event row the store holds (claimed in batches with a lease that never ends, so
/// each is read once).
async fn read_events(store: &SqliteStore) -> Vec<nimbus_store::EventRow> {
    let mut all = Vec::new();
    loop {
        let batch = store
            .claim_due_events(i64::MAX - 1, i64::MAX, READ_BATCH)
            .await
            .expect("claim");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

async fn check(scenario: &Scenario, seed: u64, sim: &Sim, elapsed: std::time::Duration) {
    let mut violations: Vec<String> = Vec::new();
    let ids: HashMap<String, String> = sim
        .rows()
        .await
        .into_iter()
        .map(|r| (r.name, r.id))
        .collect();
    let stored_count: i64 = sim
        .store
        .count_events_by_state()
        .await
        .expect("count")
        .iter()
        .map(|(_, n)| n)
        .sum();
    let events = read_events(&sim.store).await;
    if usize::try_from(stored_count).ok() != Some(events.len()) {
        violations.push(format!(
            "read {} events of {stored_count} stored",
            events.len()
        ));
    }

    // Duplicates: two rows of one (schedule, slot), or a committed fire_slot whose row is
    // not there (its insert met an existing id: the same slot fired again).
    let mut fired: HashMap<String, BTreeSet<i64>> = HashMap::new();
    let mut duplicates = 0u64;
    for event in &events {
        let (name, slot) = parse_event(event);
        match ids.get(&name) {
            Some(id) if request_id(id, slot) == event.id => {}
            _ => violations.push(format!(
                "{name} {slot}: request id {} not its slot's",
                event.id
            )),
        }
        if !fired.entry(name).or_default().insert(slot) {
            duplicates += 1;
        }
    }
    let committed = sim.hooks.enqueued.load(Ordering::SeqCst);
    duplicates += committed.saturating_sub(u64::try_from(events.len()).unwrap_or(u64::MAX));
    if duplicates > 0 {
        violations.push(format!(
            "{duplicates} duplicate firings ({committed} committed, {} rows)",
            events.len()
        ));
    }

    for sched in &SCHEDULES {
        let name = sched.name;
        let expr = &sim.exprs[name];
        let stored = fired.remove(name).unwrap_or_default();
        let observed = sim.run.observed.get(name).cloned().unwrap_or_default();
        // Strictly increasing in firing order, and the store holds exactly what fired.
        if let Some(w) = observed.windows(2).find(|w| w[0] >= w[1]) {
            violations.push(format!("{name}: fired {} after {}", w[1], w[0]));
        }
        if observed.iter().copied().collect::<BTreeSet<_>>() != stored {
            violations.push(format!("{name}: stored events differ from the slots fired"));
        }
        for &slot in &stored {
            if expr.next_after(slot - 1) != Some(slot) {
                violations.push(format!(
                    "{name}: {slot} is not a slot of {}",
                    sched.expression
                ));
            }
            if let Some(wall) = sched.wall {
                let tz = expr.timezone();
                let local = tz
                    .timestamp_millis_opt(slot)
                    .single()
                    .expect("instant")
                    .naive_local();
                let first = tz.from_local_datetime(&local).earliest();
                if (local.hour(), local.minute()) != wall
                    || first.map(|t| t.timestamp_millis()) != Some(slot)
                {
                    violations.push(format!(
                        "{name}: {slot} is {local} local, not the first {wall:?}"
                    ));
                }
            }
        }
        // Missed-slot policy: a jump into new time fires at most its latest slot.
        for jump in &sim.run.forward {
            let lo = jump.from.max(jump.high_before);
            if jump.to <= lo {
                continue;
            }
            let in_jump: Vec<i64> = stored.range(lo + 1..=jump.to).copied().collect();
            let latest = expr.last_at_or_before(jump.to).filter(|&s| s > lo);
            if in_jump != latest.into_iter().collect::<Vec<_>>() {
                violations.push(format!(
                    "{name}: jump {}..{} fired {in_jump:?}, expected {latest:?}",
                    jump.from, jump.to
                ));
            }
        }
        let missed: Vec<i64> = sim
            .run
            .must_fire
            .get(name)
            .map(|m| m.difference(&stored).copied().collect())
            .unwrap_or_default();
        if !missed.is_empty() {
            violations.push(format!("{name}: minute steps missed {missed:?}"));
        }
    }
    if !sim.run.replayed.is_empty() {
        violations.push(format!(
            "ticks below the highest clock fired {:?}",
            sim.run.replayed
        ));
    }
    for expect in &scenario.expects {
        let stored: Vec<i64> = sim
            .run
            .observed
            .get(expect.schedule)
            .map(|o| {
                o.iter()
                    .copied()
                    .filter(|s| (expect.from..=expect.to).contains(s))
                    .collect()
            })
            .unwrap_or_default();
        if stored != expect.fired {
            violations.push(format!(
                "{}: around DST fired {stored:?}, expected {:?}",
                expect.schedule, expect.fired
            ));
        }
    }

    let slots: usize = sim.run.observed.values().map(Vec::len).sum();
    let verdict = if violations.is_empty() {
        "PASS"
    } else {
        "FAIL"
    };
    println!(
        "RESULT g10-schedules-{} seed={seed} hours={SIM_HOURS} ticks={} slots_fired={slots} \
         rate_slots={} dense_steps={} coarse_steps={} jumps_forward={} jumps_backward={} \
         crashes={} duplicates={duplicates} violations={} secs={:.1} {verdict}",
        scenario.label,
        sim.run.ticks,
        sim.run.observed.get("every-minute").map_or(0, Vec::len),
        sim.run.dense_steps,
        sim.run.coarse_steps,
        sim.run.jumps_forward,
        sim.run.jumps_backward,
        sim.run.crashes,
        violations.len(),
        elapsed.as_secs_f64(),
    );
    assert_eq!(sim.run.crashes, CRASHES, "crashes");
    assert!(
        violations.is_empty(),
        "seed {seed}: {} violations:\n{}",
        violations.len(),
        violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Autumn: Berlin falls back on 2026-10-25 (03:00 CEST → 02:00 CET, at 01:00Z) and New York
/// on 2026-11-01 (02:00 EDT → 01:00 EST, at 06:00Z). The repeated wall times run once, at
/// their first occurrence.
#[tokio::test]
async fn g10_autumn_1000_hours_jumps_crashes_and_dst() {
    let berlin = utc(2026, 10, 25, 1, 0);
    let ny = utc(2026, 11, 1, 6, 0);
    simulate(Scenario {
        label: "autumn",
        seed: 0x6710_2026_1025,
        start_ms: utc(2026, 10, 21, 0, 0),
        transitions: vec![berlin, ny],
        expects: vec![
            // 02:30 CEST (00:30Z) runs; 02:30 CET (01:30Z) is the repeat.
            DstExpect {
                schedule: "berlin-0230",
                from: berlin - 90 * MIN,
                to: berlin + 90 * MIN,
                fired: vec![berlin - 30 * MIN],
            },
            // 02:00–02:45 CEST run; the repeated 02:00–02:45 CET do not; 03:00 CET does.
            DstExpect {
                schedule: "berlin-15",
                from: berlin - 60 * MIN,
                to: berlin + 60 * MIN,
                fired: vec![
                    berlin - 60 * MIN,
                    berlin - 45 * MIN,
                    berlin - 30 * MIN,
                    berlin - 15 * MIN,
                    berlin + 60 * MIN,
                ],
            },
            // 01:30 EDT (05:30Z) runs; 01:30 EST (06:30Z) is the repeat.
            DstExpect {
                schedule: "ny-0130",
                from: ny - 90 * MIN,
                to: ny + 90 * MIN,
                fired: vec![ny - 30 * MIN],
            },
        ],
    })
    .await;
}

/// Spring: New York springs forward on 2026-03-08 (02:00 EST → 03:00 EDT, at 07:00Z) and
/// Berlin on 2026-03-29 (02:00 CET → 03:00 CEST, at 01:00Z). Berlin's 02:30 does not exist
/// that day, so it does not run (croner alone would run it at 03:00).
#[tokio::test]
async fn g10_spring_1000_hours_jumps_crashes_and_dst() {
    let ny = utc(2026, 3, 8, 7, 0);
    let berlin = utc(2026, 3, 29, 1, 0);
    simulate(Scenario {
        label: "spring",
        seed: 0x6710_2026_0308,
        start_ms: utc(2026, 3, 5, 0, 0),
        transitions: vec![ny, berlin],
        expects: vec![
            // 01:30 EST (06:30Z) runs, half an hour before the change.
            DstExpect {
                schedule: "ny-0130",
                from: ny - 90 * MIN,
                to: ny + 90 * MIN,
                fired: vec![ny - 30 * MIN],
            },
            DstExpect {
                schedule: "berlin-0230",
                from: berlin - 90 * MIN,
                to: berlin + 90 * MIN,
                fired: vec![],
            },
            // Every quarter hour of UTC still runs: 01:00–01:45 CET, then 03:00 CEST on.
            DstExpect {
                schedule: "berlin-15",
                from: berlin - 60 * MIN,
                to: berlin + 60 * MIN,
                fired: (0..=8).map(|k| berlin - 60 * MIN + k * 15 * MIN).collect(),
            },
        ],
    })
    .await;
}
