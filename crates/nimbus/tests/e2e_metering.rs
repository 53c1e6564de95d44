//! End-to-end: metering equals the REPORT lines. A known workload (sync invocations with
//! `LogType: Tail`, cold and warm, one function error, a concurrent burst, asynchronous
//! events) runs on a real server; every REPORT line is collected (the Tail header and the
//! CloudWatch Logs API) and the metering records must match them exactly: the same request
//! ids, billed ms, memory, max memory used, init; Σ billed ms and GB-s. The cost report and
//! `nimbus cost` agree, `nimbus cost model` reproduces the seed's worked examples, and
//! `--bill-init false` takes Init out of the billed duration.

mod common;

use common::{bin, run_with_deadline};
use nimbus_testkit::{Lambda, Server, python_zip, unique};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long invocations, events and log writes may take to settle.
const SETTLE_WITHIN: Duration = Duration::from_secs(120);
/// Bound on a CLI run.
const CLI_WITHIN: Duration = Duration::from_secs(60);
/// Memory of the metered function (MB).
const MEMORY_MB: i64 = 256;

const SOURCE: &str = r#"import time
time.sleep(0.05)


def handler(event, context):
    if event.get('fail'):
        raise ValueError('metered failure')
    time.sleep(event.get('sleep', 0))
    return {'ok': True}
"#;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1"]))
}

fn unbilled_init_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1", "--bill-init", "false"]))
}

fn create(l: &Lambda, name: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(SOURCE),
        json!({ "MemorySize": MEMORY_MB }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

/// A REPORT line's fields.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    line: String,
    request_id: String,
    duration: String,
    billed_ms: i64,
    memory_mb: i64,
    max_memory_used_mb: i64,
    init: Option<String>,
    error_type: Option<String>,
}

fn parse_report(line: &str) -> Report {
    let fields: BTreeMap<&str, &str> = line
        .trim_start_matches("REPORT ")
        .split('\t')
        .filter_map(|f| f.split_once(": "))
        .collect();
    let field = |k: &str| {
        fields
            .get(k)
            .copied()
            .unwrap_or_else(|| panic!("no {k} in {line:?}"))
    };
    let number = |k: &str, unit: &str| -> i64 {
        field(k)
            .strip_suffix(unit)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("bad {k} in {line:?}"))
    };
    Report {
        line: line.to_string(),
        request_id: field("RequestId").to_string(),
        duration: field("Duration").to_string(),
        billed_ms: number("Billed Duration", " ms"),
        memory_mb: number("Memory Size", " MB"),
        max_memory_used_mb: number("Max Memory Used", " MB"),
        init: fields.get("Init Duration").map(|v| v.to_string()),
        error_type: fields.get("Error Type").map(|v| v.to_string()),
    }
}

fn tail_report(tail: &str) -> Report {
    parse_report(&common::report_line(tail))
}

/// Every REPORT line of a function's log group (waits until there are `want`).
fn logged_reports(l: &Lambda, function: &str, want: usize) -> BTreeMap<String, Report> {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let resp = l.request(
            "POST",
            "/",
            &[
                ("x-amz-target", "Logs_20140328.FilterLogEvents"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Some(
                json!({ "logGroupName": format!("/aws/lambda/{function}") })
                    .to_string()
                    .into_bytes(),
            ),
        );
        let reports: BTreeMap<String, Report> = resp.json()["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .filter(|m| m.starts_with("REPORT RequestId: "))
                    .map(|m| {
                        let r = parse_report(m);
                        (r.request_id.clone(), r)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if reports.len() >= want {
            return reports;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {want} REPORT lines were logged",
            reports.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_succeeded(l: &Lambda, id: &str) {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let r = l.request("GET", &format!("/nimbus/v1/async-events/{id}"), &[], None);
        assert_eq!(r.status, 200, "{}", r.text());
        let e = r.json();
        match e["state"].as_str() {
            Some("succeeded") => return,
            Some("failed" | "expired") => panic!("event {id} did not succeed: {e}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "event {id} did not settle: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn records(l: &Lambda, function: &str) -> BTreeMap<String, Value> {
    let r = l.request(
        "GET",
        &format!("/nimbus/v1/metering?function={function}&limit=1000"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["RecordsDropped"], 0, "{v}");
    v["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|rec| {
            (
                rec["RequestId"].as_str().expect("id").to_string(),
                rec.clone(),
            )
        })
        .collect()
}

/// A record says exactly what its REPORT line says.
fn assert_record_matches(record: &Value, report: &Report) {
    let context = format!("record {record}\nREPORT {}", report.line);
    assert_eq!(record["BilledMs"], report.billed_ms, "{context}");
    assert_eq!(record["MemoryMb"], report.memory_mb, "{context}");
    assert_eq!(
        record["MaxMemoryUsedMb"], report.max_memory_used_mb,
        "{context}"
    );
    let duration = format!("{:.2} ms", record["DurationMs"].as_f64().expect("duration"));
    assert_eq!(duration, report.duration, "{context}");
    let init = record["InitMs"].as_f64().map(|ms| format!("{ms:.2} ms"));
    assert_eq!(init, report.init, "{context}");
    assert_eq!(
        record["ErrorType"].as_str().map(str::to_string),
        report.error_type,
        "{context}"
    );
}

#[test]
fn metering_records_equal_the_report_lines() {
    let l = server().lambda();
    let name = unique("metered");
    create(&l, &name);

    // 16 sequential sync invocations (the first is cold; the sixth fails).
    let mut tails: BTreeMap<String, Report> = BTreeMap::new();
    let mut failed = String::new();
    for i in 0..16 {
        let payload = if i == 5 {
            json!({ "fail": true })
        } else {
            json!({ "sleep": f64::from(i % 4) * 0.01 })
        };
        let r = l.invoke(&name, &payload.to_string());
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("x-amz-function-error").is_some(),
            i == 5,
            "{}",
            r.text()
        );
        let report = tail_report(&r.log_tail());
        assert_eq!(
            r.header("x-amzn-requestid").as_deref(),
            Some(report.request_id.as_str())
        );
        if i == 5 {
            failed = report.request_id.clone();
        }
        tails.insert(report.request_id.clone(), report);
    }
    // 4 at once: environments beyond the warm one start cold.
    let endpoint = server().endpoint.clone();
    let burst: Vec<_> = (0..4)
        .map(|_| {
            let endpoint = endpoint.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                let r = Lambda::new(&endpoint).invoke(&name, r#"{"sleep": 0.5}"#);
                assert_eq!(r.status, 200, "{}", r.text());
                tail_report(&r.log_tail())
            })
        })
        .collect();
    for t in burst {
        let report = t.join().expect("burst invocation");
        tails.insert(report.request_id.clone(), report);
    }
    assert_eq!(tails.len(), 20);

    // 3 asynchronous events.
    let mut events = BTreeSet::new();
    for _ in 0..3 {
        let r = l.request(
            "POST",
            &format!("/2015-03-31/functions/{name}/invocations"),
            &[("x-amz-invocation-type", "Event")],
            Some(br#"{"sleep": 0.01}"#.to_vec()),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        events.insert(r.header("x-amzn-requestid").expect("request id"));
    }
    for id in &events {
        wait_succeeded(&l, id);
    }

    // Every REPORT line: the logs have all 23; the tails agree with them.
    let logged = logged_reports(&l, &name, 23);
    assert_eq!(logged.len(), 23);
    for (id, tail) in &tails {
        assert_eq!(logged.get(id), Some(tail), "tail and log of {id}");
    }
    for id in &events {
        assert!(logged.contains_key(id), "no REPORT line for event {id}");
    }

    // The records are exactly the REPORT lines.
    let records = records(&l, &name);
    assert_eq!(
        records.keys().collect::<BTreeSet<_>>(),
        logged.keys().collect::<BTreeSet<_>>(),
        "one record per REPORT line"
    );
    for (id, report) in &logged {
        assert_record_matches(&records[id], report);
        let trigger = if events.contains(id) { "async" } else { "sync" };
        assert_eq!(records[id]["Trigger"], trigger, "{}", records[id]);
        assert_eq!(records[id]["FunctionName"], name.as_str());
        assert_eq!(
            records[id]["Cold"],
            report.init.is_some(),
            "{}",
            records[id]
        );
    }
    assert_eq!(records[&failed]["Outcome"], "function_error");
    let others_ok = records
        .iter()
        .filter(|(id, _)| **id != failed)
        .all(|(_, r)| r["Outcome"] == "success");
    assert!(others_ok, "{records:?}");
    let cold = logged.values().filter(|r| r.init.is_some()).count();
    assert!(
        cold >= 2,
        "the first call and the burst start environments: {cold}"
    );
    // Init is billed (the default): billed ≥ Duration + Init, rounded up to the ms.
    for r in logged.values().filter(|r| r.init.is_some()) {
        let ms = |s: &str| s.trim_end_matches(" ms").parse::<f64>().expect("ms");
        let exact = ms(&r.duration) + ms(r.init.as_deref().unwrap_or("0"));
        assert!(
            (r.billed_ms as f64) >= exact - 0.01 && (r.billed_ms as f64) <= exact + 1.01,
            "{}",
            r.line
        );
    }

    // Σ billed ms and GB-s = Σ billed/1000 × memory/1024.
    let billed: i64 = logged.values().map(|r| r.billed_ms).sum();
    let record_billed: i64 = records
        .values()
        .map(|r| r["BilledMs"].as_i64().expect("billed"))
        .sum();
    assert_eq!(record_billed, billed);
    let gb_seconds = billed as f64 / 1000.0 * MEMORY_MB as f64 / 1024.0;

    let r = l.request(
        "GET",
        &format!("/nimbus/v1/cost?function={name}&since=1h"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    let functions = report["Functions"].as_array().expect("functions");
    assert_eq!(functions.len(), 1, "{report}");
    let total = &report["Total"];
    assert_eq!(total["Requests"], 23, "{report}");
    assert_eq!(total["ColdStarts"], cold, "{report}");
    assert_eq!(total["Errors"], 1, "{report}");
    // Exact: MB-µs = Σ billed ms × 1000 × memory.
    assert_eq!(
        total["Usage"]["OnDemand"]["x86_64"],
        (billed * 1000 * MEMORY_MB).to_string(),
        "{report}"
    );
    let reported = total["GbSeconds"].as_f64().expect("gbSeconds");
    assert!(
        (reported - gb_seconds).abs() < 1e-9,
        "{reported} vs {gb_seconds}"
    );
    let record_gb: f64 = records
        .values()
        .map(|r| r["GbSeconds"].as_f64().expect("gbSeconds"))
        .sum();
    assert!(
        (record_gb - gb_seconds).abs() < 1e-9,
        "{record_gb} vs {gb_seconds}"
    );

    // The CLI prices the same quantities.
    let mut cmd = Command::new(bin());
    cmd.args([
        "cost",
        "--function",
        &name,
        "--since",
        "1h",
        "--output",
        "json",
    ])
    .args(["--endpoint", &server().endpoint]);
    let run = run_with_deadline(cmd, "nimbus cost", CLI_WITHIN);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    let cli: Value = serde_json::from_str(&run.stdout).expect("cost json");
    assert_eq!(cli["Total"]["Requests"], 23, "{cli}");
    let cli_gb = cli["Functions"][0]["GbSeconds"]
        .as_f64()
        .expect("gbSeconds");
    assert!((cli_gb - gb_seconds).abs() < 1e-9, "{cli}");
    assert_eq!(cli["Total"]["Bill"], report["Total"]["Bill"], "{cli}");

    let mut cmd = Command::new(bin());
    cmd.args([
        "cost",
        "--function",
        &name,
        "--endpoint",
        &server().endpoint,
    ]);
    let run = run_with_deadline(cmd, "nimbus cost", CLI_WITHIN);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    let row = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{}", run.stdout));
    assert!(row.contains(" 23 "), "{row}");
    assert!(run.stdout.contains("TOTAL"), "{}", run.stdout);
}

#[test]
fn init_is_not_billed_when_turned_off() {
    let l = unbilled_init_server().lambda();
    let name = unique("unbilled-init");
    create(&l, &name);
    let r = l.invoke(&name, "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    let report = tail_report(&r.log_tail());
    let init = report
        .init
        .clone()
        .expect("a cold start shows Init Duration");
    let ms = |s: &str| s.trim_end_matches(" ms").parse::<f64>().expect("ms");
    let duration = ms(&report.duration);
    // ⌈Duration⌉ alone; the 50 ms sleep at import is Init, not billed.
    assert!(ms(&init) >= 50.0, "{}", report.line);
    assert!(
        (report.billed_ms as f64) >= duration - 0.01
            && (report.billed_ms as f64) <= duration + 1.01,
        "{}",
        report.line
    );
    let records = records(&l, &name);
    assert_eq!(records.len(), 1);
    assert_record_matches(&records[&report.request_id], &report);
    assert_eq!(records[&report.request_id]["Cold"], true);
    let cost = l
        .request(
            "GET",
            &format!("/nimbus/v1/cost?function={name}"),
            &[],
            None,
        )
        .json();
    assert_eq!(cost["BillInit"], false, "{cost}");
}

fn cost_model(args: &[&str]) -> String {
    let mut cmd = Command::new(bin());
    cmd.args(["cost", "model"]).args(args);
    let run = run_with_deadline(cmd, "nimbus cost model", CLI_WITHIN);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    run.stdout
}

/// The line of a table whose first word is `item`.
fn line_of<'a>(table: &'a str, item: &str) -> &'a str {
    table
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(item))
        .unwrap_or_else(|| panic!("no {item} line in:\n{table}"))
}

#[test]
fn cost_model_reproduces_the_seed_examples() {
    // The seed's worked example, in its convention (256 MB = 0.256 GB).
    let seed = cost_model(&[
        "--memory",
        "256",
        "--duration",
        "200ms",
        "--invocations",
        "10M",
        "--mb-per-gb",
        "1000",
    ]);
    assert!(line_of(&seed, "requests").ends_with("$2.00"), "{seed}");
    assert!(
        line_of(&seed, "duration").contains("512,000.00 GB-s"),
        "{seed}"
    );
    assert!(line_of(&seed, "duration").ends_with("$8.53"), "{seed}");
    assert!(line_of(&seed, "TOTAL").ends_with("$10.53"), "{seed}");
    // AWS divides by 1,024: 500,000 GB-s.
    let aws = cost_model(&[
        "--memory",
        "256",
        "--duration",
        "200ms",
        "--invocations",
        "10M",
    ]);
    assert!(line_of(&aws, "TOTAL").ends_with("$10.33"), "{aws}");
    // The plain command shows the seed's figure too, to the cent.
    assert!(
        line_of(&aws, "With 1 GB = 1,000 MB")
            .ends_with("512,000.00 GB-s, requests $2.00 + duration $8.53 = $10.53"),
        "{aws}"
    );
    assert!(!seed.contains("With 1 GB"), "{seed}");
    // The seed's high-concurrency figure, corrected, and what its $3,686 really is.
    let steady = |hours: &str| {
        cost_model(&[
            "--memory",
            "256",
            "--concurrency",
            "1000",
            "--hours-per-day",
            hours,
            "--days",
            "30",
            "--mb-per-gb",
            "1000",
            "--output",
            "json",
        ])
    };
    let day: Value = serde_json::from_str(&steady("24")).expect("json");
    assert_eq!(day["GbSeconds"], 663_552_000.0);
    assert_eq!(day["Bill"]["Duration"], "11059.2221184");
    let eight: Value = serde_json::from_str(&steady("8")).expect("json");
    assert_eq!(eight["Bill"]["Duration"], "3686.4073728");
    // The largest workload a model takes is priced exactly, not saturated.
    let most = cost_model(&[
        "--memory",
        "10240",
        "--duration",
        "900s",
        "--invocations",
        "1e12",
        "--mb-per-gb",
        "1000",
    ]);
    assert!(
        line_of(&most, "duration").contains("9,216,000,000,000,000.00 GB-s"),
        "{most}"
    );
    assert!(
        line_of(&most, "requests").ends_with("$200,000.00"),
        "{most}"
    );
    // Bad input is refused with a reason.
    let refused = [
        (
            &["--memory", "256", "--invocations", "10M"][..],
            "--duration",
        ),
        (
            &["--memory", "127", "--duration", "1s", "--invocations", "10"],
            "--memory",
        ),
        (
            &[
                "--memory",
                "10241",
                "--duration",
                "1s",
                "--invocations",
                "10",
            ],
            "--memory",
        ),
        (
            &[
                "--memory",
                "256",
                "--duration",
                "901s",
                "--invocations",
                "10",
            ],
            "--duration",
        ),
        (
            &[
                "--memory",
                "256",
                "--duration",
                "1s",
                "--invocations",
                "1e19",
            ],
            "--invocations",
        ),
        (
            &[
                "--memory",
                "256",
                "--concurrency",
                "0",
                "--hours-per-day",
                "8",
            ],
            "--concurrency",
        ),
        (
            &[
                "--memory",
                "256",
                "--duration",
                "1s",
                "--invocations",
                "10",
                "--mb-per-gb",
                "999",
            ],
            "--mb-per-gb",
        ),
        (
            &[
                "--memory",
                "256",
                "--duration",
                "1s",
                "--invocations",
                "10",
                "--prices",
                "/dev/zero",
            ],
            "not a regular file",
        ),
    ];
    for (args, why) in refused {
        let mut cmd = Command::new(bin());
        cmd.args(["cost", "model"]).args(args);
        let run = run_with_deadline(cmd, "nimbus cost model", CLI_WITHIN);
        assert!(!run.status.success(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    }
}

fn send(l: &Lambda, method: &str, path: &str, body: Value) -> nimbus_testkit::Response {
    l.request(
        method,
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

#[test]
fn provisioned_concurrency_is_billed_while_configured() {
    let l = server().lambda();
    let name = unique("metered-pc");
    create(&l, &name);
    let r = send(
        &l,
        "POST",
        &format!("/2015-03-31/functions/{name}/versions"),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let pc_path = format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=1");
    let r = send(
        &l,
        "PUT",
        &pc_path,
        json!({ "ProvisionedConcurrentExecutions": 1 }),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let c = l.request("GET", &pc_path, &[], None).json();
        if c["Status"] == "READY" {
            break;
        }
        assert!(Instant::now() < deadline, "not READY: {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // An invocation of the version runs on the provisioned environment: warm, provisioned.
    let r = l.invoke(&format!("{name}:1"), "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    let report = tail_report(&r.log_tail());
    let records = records(&l, &name);
    let record = &records[&report.request_id];
    assert_record_matches(record, &report);
    assert_eq!(record["Provisioned"], true, "{record}");
    assert_eq!(record["Cold"], false, "{record}");
    assert_eq!(record["Version"], "1", "{record}");

    // The configuration accrues GB-s from when it was made, priced at its own rate; the
    // invocation it served is priced at the provisioned duration rate.
    let cost = l
        .request(
            "GET",
            &format!("/nimbus/v1/cost?function={name}"),
            &[],
            None,
        )
        .json();
    let total = &cost["Total"];
    assert!(
        total["ProvisionedGbSeconds"].as_f64().expect("pc GB-s") > 0.0,
        "{cost}"
    );
    assert_ne!(
        total["Usage"]["ProvisionedConfigured"]["x86_64"], "0",
        "{cost}"
    );
    assert_eq!(
        total["Usage"]["ProvisionedInvocations"]["x86_64"],
        (report.billed_ms * 1000 * MEMORY_MB).to_string(),
        "{cost}"
    );
    assert_eq!(total["Usage"]["OnDemand"]["x86_64"], "0", "{cost}");
    let items: Vec<&str> = total["Month"]["Lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["Item"].as_str())
        .collect();
    assert!(items.contains(&"provisioned-concurrency"), "{cost}");
    let r = l.request("DELETE", &pc_path, &[], None);
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Σ Init + Duration of a function's records, ms.
fn busy_ms(records: &BTreeMap<String, Value>) -> f64 {
    records
        .values()
        .map(|r| r["DurationMs"].as_f64().expect("duration") + r["InitMs"].as_f64().unwrap_or(0.0))
        .sum()
}

#[test]
fn crossover_advice_comes_from_the_measured_concurrency() {
    let l = server().lambda();
    let name = unique("crossover");
    create(&l, &name);
    // 4 at once for a second, then one more: a measured peak near 4 busy environments.
    let endpoint = server().endpoint.clone();
    let burst: Vec<_> = (0..4)
        .map(|_| {
            let endpoint = endpoint.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                let r = Lambda::new(&endpoint).invoke(&name, r#"{"sleep": 1.0}"#);
                assert_eq!(r.status, 200, "{}", r.text());
            })
        })
        .collect();
    for t in burst {
        t.join().expect("burst invocation");
    }
    assert_eq!(l.invoke(&name, r#"{"sleep": 0.2}"#).status, 200);
    let records = records(&l, &name);
    assert_eq!(records.len(), 5);

    let r = l.request(
        "GET",
        &format!("/nimbus/v1/cost/crossover?function={name}&since=1h"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    let functions = report["Functions"].as_array().expect("functions");
    assert_eq!(functions.len(), 1, "{report}");
    let f = &functions[0];
    assert_eq!(f["FunctionName"], name.as_str());
    assert_eq!(f["MemoryMb"], MEMORY_MB);
    // The per-minute concurrency holds exactly the records' busy time.
    let minutes: Vec<f64> = f["ConcurrencyPerMinute"]
        .as_array()
        .expect("series")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    assert!(!minutes.is_empty() && minutes.len() <= 3, "{minutes:?}");
    let measured = minutes.iter().sum::<f64>() * 60_000.0;
    let busy = busy_ms(&records);
    assert!(
        (measured - busy).abs() < 1e-6 * busy,
        "{measured} vs {busy}"
    );
    assert!(busy >= 4_200.0, "{busy}");
    let peak = f["PeakConcurrency"].as_f64().expect("peak");
    assert_eq!(peak, minutes.iter().copied().fold(0.0, f64::max));
    // FaaS cost is the function's bill over the same window.
    let since = f["SinceMs"].as_i64().expect("since");
    let r = l.request(
        "GET",
        &format!("/nimbus/v1/cost?function={name}&since={since}"),
        &[],
        None,
    );
    let bill: f64 = r.json()["Functions"][0]["Bill"]["Total"]
        .as_str()
        .expect("total")
        .parse()
        .expect("decimal");
    let faas = f["FaasUsd"].as_f64().expect("faas");
    assert!((faas - bill).abs() < 1e-12, "{faas} vs {bill}");
    // A few seconds of work in a minute: FaaS wins against any priced instance.
    assert_eq!(f["Verdict"], "stay on FaaS", "{f}");
    assert!(
        f["Explanation"]
            .as_str()
            .expect("why")
            .contains("FaaS cost")
    );
    let options = f["Options"].as_array().expect("options");
    let small = options
        .iter()
        .find(|o| o["Instance"] == "t3.small")
        .expect("t3.small");
    assert_eq!(small["PerInstance"], 7, "{small}");
    assert_eq!(f["Curve"].as_array().expect("curve").len(), 21);

    // A free instance type always wins: the verdict follows the table.
    let free = json!({ "Instances": [
        { "Name": "free.large", "Vcpus": 2, "MemoryMb": 8192, "HourlyUsd": 0 }
    ] });
    let r = l.request(
        "POST",
        &format!("/nimbus/v1/cost/crossover?function={name}&since=1h"),
        &[("content-type", "application/json")],
        Some(free.to_string().into_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // The all-functions report leaves the per-minute series out (it can be a month long).
    let all = l.request("GET", "/nimbus/v1/cost/crossover?since=1h", &[], None);
    assert_eq!(all.status, 200, "{}", all.text());
    let ours = all.json()["Functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["FunctionName"] == name.as_str())
        .cloned()
        .expect("our function");
    assert!(ours.get("ConcurrencyPerMinute").is_none(), "{ours}");
    assert_eq!(ours["PeakConcurrency"], f["PeakConcurrency"]);
    assert_eq!(
        r.json()["Functions"][0]["Verdict"],
        "move to reserved capacity",
        "{}",
        r.text()
    );
    // Bad tables and windows are refused with a reason.
    for (body, want) in [
        (
            json!({ "Instances": [{ "Name": "x", "Vcpus": 2, "MemoryMb": 2048, "HourlyUsd": -1 }] }),
            "HourlyUsd",
        ),
        (json!({ "Instances": [] }), "at least one"),
        (json!({ "Instances": [], "Extra": 1 }), "Extra"),
    ] {
        let r = l.request(
            "POST",
            "/nimbus/v1/cost/crossover",
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(want), "{want}: {}", r.text());
    }
    let r = l.request("GET", "/nimbus/v1/cost/crossover?since=soon", &[], None);
    assert_eq!(r.status, 400, "{}", r.text());

    // The CLI: the verdict, the options and text bars; an instance file changes them.
    let mut cmd = Command::new(bin());
    cmd.args(["cost", "crossover", "--function", &name, "--since", "1h"])
        .args(["--endpoint", &server().endpoint]);
    let run = run_with_deadline(cmd, "nimbus cost crossover", CLI_WITHIN);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Verdict: stay on FaaS"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("t3.xlarge"), "{}", run.stdout);
    assert!(run.stdout.contains("F #"), "{}", run.stdout);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("instances.toml");
    std::fs::write(
        &file,
        "[[Instances]]\nName = \"free.large\"\nVcpus = 2\nMemoryMb = 8192\nHourlyUsd = 0\n",
    )
    .expect("write");
    let mut cmd = Command::new(bin());
    cmd.args(["cost", "crossover", "--function", &name, "--since", "1h"])
        .arg("--instances")
        .arg(&file)
        .args(["--endpoint", &server().endpoint]);
    let run = run_with_deadline(cmd, "nimbus cost crossover", CLI_WITHIN);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Verdict: move to reserved capacity"),
        "{}",
        run.stdout
    );
}
