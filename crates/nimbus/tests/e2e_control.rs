//! End-to-end: the Lambda control plane over real HTTP: shapes, validation with Lambda's
//! errors, hostile packages, publishing, and durability across restarts and kill -9.

mod common;

use base64::Engine;
use common::{bin, lambda, server};
use nimbus_testkit::{File, Server, python_zip, unique, zip};
use serde_json::{Value, json};
use sha2::Digest;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn put_json(l: &nimbus_testkit::Lambda, path: &str, body: Value) -> nimbus_testkit::Response {
    l.request(
        "PUT",
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

#[test]
fn function_lifecycle_has_lambdas_shapes() {
    let l = lambda();
    let name = unique("life");
    let code = python_zip("def handler(e, c):\n    return 1\n");
    let created = l.create(
        &name,
        "python3.12",
        "app.handler",
        &code,
        json!({ "MemorySize": 256, "Timeout": 15, "Description": "d", "Environment": { "Variables": { "AA": "1" } } }),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let c = created.json();
    assert_eq!(c["FunctionName"], json!(name));
    assert_eq!(
        c["FunctionArn"],
        json!(format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}"
        ))
    );
    assert_eq!(c["Runtime"], json!("python3.12"));
    assert_eq!(c["Handler"], json!("app.handler"));
    assert_eq!(c["MemorySize"], json!(256));
    assert_eq!(c["Timeout"], json!(15));
    assert_eq!(c["Version"], json!("$LATEST"));
    assert_eq!(c["State"], json!("Active"));
    assert_eq!(c["LastUpdateStatus"], json!("Successful"));
    assert_eq!(c["PackageType"], json!("Zip"));
    assert_eq!(c["Architectures"], json!(["x86_64"]));
    assert_eq!(c["EphemeralStorage"], json!({ "Size": 512 }));
    assert_eq!(c["Environment"], json!({ "Variables": { "AA": "1" } }));
    assert_eq!(c["CodeSize"], json!(code.len()));
    assert_eq!(
        c["CodeSha256"],
        json!(b64(&sha2::Sha256::digest(&code))),
        "base64 of the zip's SHA-256"
    );
    let modified = c["LastModified"].as_str().unwrap_or_default();
    assert_eq!(
        modified.len(),
        28,
        "YYYY-MM-DDThh:mm:ss.sss+0000: {modified}"
    );
    assert!(
        modified.ends_with("+0000") && modified.as_bytes()[10] == b'T',
        "{modified}"
    );
    let rev1 = c["RevisionId"].as_str().unwrap_or_default().to_string();
    assert_eq!(rev1.len(), 36);

    let got = l.get(&name).json();
    assert_eq!(got["Configuration"]["RevisionId"], json!(rev1));
    assert_eq!(got["Code"]["RepositoryType"], json!("S3"));
    // Code.Location downloads the very zip.
    let location = got["Code"]["Location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let downloaded = reqwest::blocking::get(&location)
        .expect("download")
        .bytes()
        .expect("bytes");
    assert_eq!(downloaded.as_ref(), code.as_slice());
    let cfg = l
        .request(
            "GET",
            &format!("/2015-03-31/functions/{name}/configuration"),
            &[],
            None,
        )
        .json();
    assert_eq!(cfg["RevisionId"], json!(rev1));

    // Configuration update: Environment replaces the whole map; RevisionId changes.
    let upd = put_json(
        &l,
        &format!("/2015-03-31/functions/{name}/configuration"),
        json!({ "MemorySize": 512, "Environment": { "Variables": { "BB": "2" } } }),
    );
    assert_eq!(upd.status, 200, "{}", upd.text());
    let u = upd.json();
    assert_eq!(u["MemorySize"], json!(512));
    assert_eq!(u["Environment"], json!({ "Variables": { "BB": "2" } }));
    assert_eq!(u["Timeout"], json!(15), "untouched members stay");
    let rev2 = u["RevisionId"].as_str().unwrap_or_default().to_string();
    assert_ne!(rev2, rev1);
    // A stale RevisionId is refused with 412 and changes nothing.
    let stale = put_json(
        &l,
        &format!("/2015-03-31/functions/{name}/configuration"),
        json!({ "Timeout": 30, "RevisionId": rev1 }),
    );
    assert_eq!(stale.status, 412, "{}", stale.text());
    assert_eq!(
        stale.error_type().as_deref(),
        Some("PreconditionFailedException")
    );
    assert_eq!(l.get(&name).json()["Configuration"]["Timeout"], json!(15));

    // Code update.
    let code2 = python_zip("def handler(e, c):\n    return 2\n");
    let upd = put_json(
        &l,
        &format!("/2015-03-31/functions/{name}/code"),
        json!({ "ZipFile": b64(&code2) }),
    );
    assert_eq!(upd.status, 200, "{}", upd.text());
    assert_eq!(
        upd.json()["CodeSha256"],
        json!(b64(&sha2::Sha256::digest(&code2)))
    );
    assert_ne!(upd.json()["RevisionId"], json!(rev2));
    assert_eq!(l.invoke(&name, "{}").text(), "2");

    // Delete: 204, then 404 everywhere.
    let del = l.delete(&name);
    assert_eq!(del.status, 204);
    let gone = l.get(&name);
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.error_type().as_deref(),
        Some("ResourceNotFoundException")
    );
    assert_eq!(l.delete(&name).status, 404);
}

#[test]
fn list_functions_pages_with_markers() {
    let server = Server::start(bin(), &["--shell-pool", "0"]);
    let l = server.lambda();
    let code = python_zip("def handler(e, c):\n    return 1\n");
    let mut names: Vec<String> = (0..5).map(|i| format!("page-{i}")).collect();
    for n in &names {
        assert_eq!(
            l.create(n, "python3.11", "app.handler", &code, json!({}))
                .status,
            201
        );
    }
    names.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let path = match &marker {
            Some(m) => format!("/2015-03-31/functions?MaxItems=2&Marker={m}"),
            None => "/2015-03-31/functions?MaxItems=2".to_string(),
        };
        let page = l.request("GET", &path, &[], None).json();
        let fns = page["Functions"].as_array().cloned().unwrap_or_default();
        assert!(fns.len() <= 2);
        for f in &fns {
            seen.push(f["FunctionName"].as_str().unwrap_or_default().to_string());
            assert!(f.get("State").is_none(), "list items carry no state");
        }
        marker = page["NextMarker"].as_str().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(seen, names);
    let bad = l.request("GET", "/2015-03-31/functions?Marker=zz", &[], None);
    assert_eq!(bad.status, 400);
    let settings = l
        .request("GET", "/2016-08-19/account-settings", &[], None)
        .json();
    assert_eq!(settings["AccountUsage"]["FunctionCount"], json!(5));
    assert_eq!(
        settings["AccountLimit"]["CodeSizeZipped"],
        json!(52_428_800)
    );
    assert_eq!(
        settings["AccountLimit"]["CodeSizeUnzipped"],
        json!(262_144_000)
    );
    assert_eq!(
        settings["AccountLimit"]["ConcurrentExecutions"],
        json!(1000)
    );
}

#[test]
fn validation_uses_lambdas_errors() {
    let l = lambda();
    let code = python_zip("def handler(e, c):\n    return 1\n");
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({ "MemorySize": 10241 }),
            400,
            "ValidationException",
            "Member must have value less than or equal to 10240",
        ),
        (
            json!({ "Timeout": 901 }),
            400,
            "ValidationException",
            "Member must have value less than or equal to 900",
        ),
        (
            json!({ "EphemeralStorage": { "Size": 100 } }),
            400,
            "ValidationException",
            "greater than or equal to 512",
        ),
        (
            json!({ "Environment": { "Variables": { "AWS_REGION": "x" } } }),
            400,
            "InvalidParameterValueException",
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            json!({ "Environment": { "Variables": { "BIG": "x".repeat(5000) } } }),
            400,
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
        (
            json!({ "Runtime": "java21" }),
            400,
            "InvalidParameterValueException",
            "java21",
        ),
        (
            json!({ "Runtime": "cobol" }),
            400,
            "InvalidParameterValueException",
            "cobol",
        ),
    ];
    for (extra, status, code_name, text) in cases {
        let name = unique("val");
        let r = l.create(&name, "python3.11", "app.handler", &code, extra.clone());
        assert_eq!(r.status, status, "{extra}: {}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some(code_name),
            "{extra}: {}",
            r.text()
        );
        let message = r.json()["message"]
            .as_str()
            .or(r.json()["Message"].as_str())
            .unwrap_or_default()
            .to_string();
        assert!(message.contains(text), "{extra}: {message}");
        assert_eq!(l.get(&name).status, 404, "a refused create writes nothing");
    }
    for bad in ["a/b", "..", "white space", &"x".repeat(65), "", "naïve"] {
        let r = l.create(bad, "python3.11", "app.handler", &code, json!({}));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text());
    }
    // Duplicate names conflict; names differing in case are different functions.
    let name = unique("Dup");
    assert_eq!(
        l.create(&name, "python3.11", "app.handler", &code, json!({}))
            .status,
        201
    );
    let dup = l.create(&name, "python3.11", "app.handler", &code, json!({}));
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.error_type().as_deref(),
        Some("ResourceConflictException")
    );
    let lower = name.to_lowercase();
    assert_eq!(
        l.create(&lower, "python3.11", "app.handler", &code, json!({}))
            .status,
        201
    );
    l.delete(&name);
    l.delete(&lower);
    // Malformed JSON body.
    let r = l.request(
        "POST",
        "/2015-03-31/functions",
        &[("content-type", "application/json")],
        Some(b"{".to_vec()),
    );
    assert_eq!(r.status, 400);
}

/// Files under the data dir's code store (to check that refused uploads write nothing).
fn code_entries(server: &Server) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(server.data_dir().join("code"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn hostile_packages_are_refused_and_leave_nothing() {
    let server = Server::start(bin(), &["--shell-pool", "0"]);
    let l = server.lambda();
    let before = code_entries(&server);
    let mut traversal = zip(&[File {
        name: "app.py",
        data: b"x",
        mode: 0o644,
    }]);
    // Rewrite the entry name in place (local header and central directory) to "../p.py".
    let from = b"app.py".to_vec();
    let to = b"../p.p".to_vec();
    let mut i = 0;
    while i + from.len() <= traversal.len() {
        if traversal[i..i + from.len()] == from[..] {
            traversal[i..i + from.len()].copy_from_slice(&to);
        }
        i += 1;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not a zip", b"this is not a zip file".to_vec()),
        ("traversal", traversal),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        let name = unique("bad-zip");
        let r = l.create(&name, "python3.11", "app.handler", &bytes, json!({}));
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some("InvalidParameterValueException"),
            "{what}"
        );
        assert_eq!(l.get(&name).status, 404, "{what}");
        assert_eq!(code_entries(&server), before, "{what}: nothing written");
    }
    // A body over Lambda's CreateFunction limit is refused before it is read.
    let huge = vec![b'a'; 69_905_068];
    let r = l.request(
        "POST",
        "/2015-03-31/functions",
        &[("content-type", "application/json")],
        Some(huge),
    );
    assert_eq!(r.status, 413);
    assert_eq!(
        r.error_type().as_deref(),
        Some("RequestEntityTooLargeException")
    );
    assert!(r.text().contains("69905067"), "{}", r.text());
    // An unzipped-size bomb (300 MB of zeros) is stopped at Lambda's 250 MB cap.
    let zeros = vec![0u8; 300 * 1024 * 1024];
    let bomb = zip(&[File {
        name: "zeros.bin",
        data: &zeros,
        mode: 0o644,
    }]);
    drop(zeros);
    let r = l.create(
        &unique("bomb"),
        "python3.11",
        "app.handler",
        &bomb,
        json!({}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text()
            .contains("Unzipped size must be smaller than 262144000 bytes"),
        "{}",
        r.text()
    );
    assert_eq!(code_entries(&server), before, "bomb: nothing left behind");
}

#[test]
fn publish_creates_immutable_versions() {
    let l = lambda();
    let name = unique("pub");
    let v1 = python_zip("def handler(e, c):\n    return 'one'\n");
    let created = l.create(
        &name,
        "python3.11",
        "app.handler",
        &v1,
        json!({ "Publish": true }),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["Version"], json!("1"));
    assert_eq!(
        created.json()["FunctionArn"],
        json!(format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}:1"
        ))
    );
    let v2 = python_zip("def handler(e, c):\n    return 'two'\n");
    let r = put_json(
        &l,
        &format!("/2015-03-31/functions/{name}/code"),
        json!({ "ZipFile": b64(&v2), "Publish": true }),
    );
    assert_eq!(r.json()["Version"], json!("2"), "{}", r.text());
    let r = put_json(
        &l,
        &format!("/2015-03-31/functions/{name}/code"),
        json!({ "ZipFile": b64(&python_zip("def handler(e, c):\n    return 'three'\n")) }),
    );
    assert_eq!(r.json()["Version"], json!("$LATEST"));
    assert_eq!(l.invoke(&format!("{name}:1"), "{}").text(), "\"one\"");
    let r = l.invoke(&format!("{name}:2"), "{}");
    assert_eq!(r.text(), "\"two\"");
    assert_eq!(r.header("x-amz-executed-version").as_deref(), Some("2"));
    assert_eq!(l.invoke(&name, "{}").text(), "\"three\"");
    let all = l
        .request(
            "GET",
            "/2015-03-31/functions?FunctionVersion=ALL",
            &[],
            None,
        )
        .json();
    let versions: Vec<String> = all["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["FunctionName"] == name.as_str())
        .filter_map(|f| f["Version"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        versions,
        ["$LATEST", "1", "2"],
        "FunctionVersion=ALL lists versions"
    );
    let got = l
        .request(
            "GET",
            &format!("/2015-03-31/functions/{name}?Qualifier=1"),
            &[],
            None,
        )
        .json();
    assert_eq!(got["Configuration"]["Version"], json!("1"));
    l.delete(&name);
}

#[test]
fn everything_survives_restart_and_kill_9() {
    let mut server = Server::start(bin(), &["--shell-pool", "1"]);
    let l = server.lambda();
    let code = python_zip("def handler(e, c):\n    return 'persisted'\n");
    assert_eq!(
        l.create(
            "durable",
            "python3.11",
            "app.handler",
            &code,
            json!({ "MemorySize": 200, "Publish": true })
        )
        .status,
        201
    );
    assert_eq!(l.invoke("durable", "{}").text(), "\"persisted\"");
    let before = l.get("durable").json();

    // Restart right away: logs written just before a graceful stop are flushed, not lost.
    server.restart();
    let l = server.lambda();
    let logs = l.request(
        "POST",
        "/",
        &[
            ("x-amz-target", "Logs_20140328.FilterLogEvents"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        Some(
            json!({ "logGroupName": "/aws/lambda/durable" })
                .to_string()
                .into_bytes(),
        ),
    );
    assert!(logs.text().contains("REPORT RequestId"), "{}", logs.text());
    let after = l.get("durable").json();
    assert_eq!(
        after["Configuration"], before["Configuration"],
        "graceful restart keeps everything"
    );
    assert_eq!(l.invoke("durable", "{}").text(), "\"persisted\"");
    assert_eq!(l.invoke("durable:1", "{}").text(), "\"persisted\"");

    // kill -9 right after an acknowledged create: it must be there.
    assert_eq!(
        l.create("acked", "python3.11", "app.handler", &code, json!({}))
            .status,
        201
    );
    server.kill9();
    server.start_again();
    let l = server.lambda();
    assert_eq!(
        l.get("acked").status,
        200,
        "an acknowledged create survives kill -9"
    );
    assert_eq!(
        l.get("durable").json()["Configuration"],
        before["Configuration"]
    );
    assert_eq!(l.invoke("acked", "{}").text(), "\"persisted\"");
    // No cgroups or mounts of the killed server's sandboxes are left running its code.
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// Reads what the server sends on `stream` until it closes the connection or `within`
/// passes; `None` if it was still open then.
fn read_until_closed(
    stream: &mut std::net::TcpStream,
    within: std::time::Duration,
) -> Option<String> {
    use std::io::Read;
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Some(String::from_utf8_lossy(&got).into_owned())
        }
        Err(_) => None,
    }
}

#[test]
fn slow_clients_are_cut_off() {
    use std::io::Write;
    // Headers: 10 s; a body may pause 30 s and take 30 s + 1 s per MiB allowed (the
    // crossover body allows 64 KiB: 31 s). Scheduling slack on top.
    const CUT_WITHIN: std::time::Duration = std::time::Duration::from_secs(45);
    const CROSSOVER_HEAD: &[u8] = b"POST /nimbus/v1/cost/crossover HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    let addr = server().endpoint.trim_start_matches("http://").to_string();
    let connect = |addr: &str| std::net::TcpStream::connect(addr).expect("connect");
    // Headers that never end.
    let headers = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut s = connect(&addr);
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                .expect("send");
            read_until_closed(&mut s, CUT_WITHIN).map(|_| started.elapsed())
        })
    };
    // A body that stops arriving.
    let stalled = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut s = connect(&addr);
            s.write_all(CROSSOVER_HEAD).expect("send");
            s.write_all(b"{\"Insta").expect("send");
            read_until_closed(&mut s, CUT_WITHIN)
        })
    };
    // A body that trickles (a byte a second never pauses long enough to be idle).
    let trickle = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut s = connect(&addr);
            s.write_all(CROSSOVER_HEAD).expect("send");
            let started = std::time::Instant::now();
            while started.elapsed() < CUT_WITHIN {
                if s.write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
                s.set_nonblocking(true).expect("nonblocking");
                let mut peek = [0u8; 1];
                let answered = s.peek(&mut peek).is_ok_and(|n| n > 0);
                s.set_nonblocking(false).expect("blocking");
                if answered {
                    break;
                }
            }
            read_until_closed(&mut s, CUT_WITHIN)
        })
    };
    // A header block over the 32 KiB cap.
    let mut big = connect(&addr);
    let filler = "a".repeat(1024);
    let mut request = String::from("GET /health HTTP/1.1\r\nHost: x\r\n");
    for i in 0..64 {
        request.push_str(&format!("x-filler-{i}: {filler}\r\n"));
    }
    request.push_str("\r\n");
    big.write_all(request.as_bytes()).expect("send");
    let big = read_until_closed(&mut big, CUT_WITHIN).expect("answered");
    assert!(big.starts_with("HTTP/1.1 431"), "{big}");

    let elapsed = headers.join().expect("thread").unwrap_or_else(|| {
        panic!("a request with unfinished headers was still open after {CUT_WITHIN:?}")
    });
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "headers cut off after {elapsed:?}"
    );
    for (what, answer) in [("stalled", stalled), ("trickled", trickle)] {
        let answer = answer
            .join()
            .expect("thread")
            .unwrap_or_else(|| panic!("a {what} body was still open after {CUT_WITHIN:?}"));
        assert!(answer.starts_with("HTTP/1.1 408"), "{what}: {answer}");
        assert!(
            answer.contains("RequestTimeoutException"),
            "{what}: {answer}"
        );
    }
    // The server still serves.
    assert_eq!(lambda().request("GET", "/health", &[], None).status, 200);
}

#[test]
fn bad_query_strings_and_methods_get_lambda_shaped_errors() {
    let l = lambda();
    let json_error = |r: &nimbus_testkit::Response, status: u16, kind: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert_eq!(r.error_type().as_deref(), Some(kind), "{}", r.text());
        let body = r.json();
        assert!(
            body["message"].is_string() || body["Message"].is_string(),
            "{body}"
        );
    };
    for path in [
        "/nimbus/v1/cost?since=1h&since=2h",
        "/nimbus/v1/cost/crossover?function=a&function=b",
        "/nimbus/v1/console/series?function=f&minutes=-1",
        "/nimbus/v1/console/series",
        "/2015-03-31/functions?MaxItems=1&MaxItems=2",
        // A window past the year 9999 or before 1970 (this overflowed and panicked).
        "/nimbus/v1/cost?since=0000-01-01T00:00:00Z&until=9223372036854775807",
        "/nimbus/v1/cost?since=106751991167d&until=9999999999999999",
    ] {
        let r = l.request("GET", path, &[], None);
        json_error(&r, 400, "InvalidParameterValueException");
    }
    // The widest window that is accepted still answers.
    let r = l.request(
        "GET",
        "/nimbus/v1/cost?since=1970-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = l.request(
        "GET",
        "/nimbus/v1/console/series?function=no-such-function",
        &[],
        None,
    );
    json_error(&r, 404, "ResourceNotFoundException");
    let r = l.request("PUT", "/nimbus/v1/cost", &[], None);
    json_error(&r, 405, "UnknownOperationException");
    // Instance tables: an absurd price would make every cost infinite; names are unique.
    let table = |rows: Value| {
        l.request(
            "POST",
            "/nimbus/v1/cost/crossover",
            &[("content-type", "application/json")],
            Some(json!({ "Instances": rows }).to_string().into_bytes()),
        )
    };
    let row = |name: &str, hourly: f64| json!({ "Name": name, "Vcpus": 2, "MemoryMb": 2048, "HourlyUsd": hourly });
    let r = table(json!([row("huge", 1.7976931348623157e308)]));
    json_error(&r, 400, "InvalidParameterValueException");
    assert!(r.text().contains("HourlyUsd"), "{}", r.text());
    let r = table(json!([row("t3.small", 0.02), row("t3.small", 0.03)]));
    json_error(&r, 400, "InvalidParameterValueException");
    let r = table(json!([row("t3\n<script>", 0.02)]));
    json_error(&r, 400, "InvalidParameterValueException");
    let r = table(json!([row("t3.small", 0.0208)]));
    assert_eq!(r.status, 200, "{}", r.text());
    // The 413 names the operation's own limit.
    let r = l.request(
        "POST",
        "/nimbus/v1/cost/crossover",
        &[("content-type", "application/json")],
        Some(vec![b' '; 70 * 1024]),
    );
    json_error(&r, 413, "RequestEntityTooLargeException");
    assert!(
        r.text().contains("smaller than 65536 bytes"),
        "{}",
        r.text()
    );
    // FilterLogEvents (the console's log tail): too many streams, both stream selectors,
    // or a pattern syntax that is not implemented are InvalidParameterException, not a 500
    // or a silent empty page.
    let name = unique("logq");
    let created = l.create(
        &name,
        "python3.12",
        "app.handler",
        &python_zip("def handler(e, c):\n    return 1\n"),
        json!({}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(l.invoke(&name, "{}").status, 200);
    let group = format!("/aws/lambda/{name}");
    let filter = |body: Value| {
        l.request(
            "POST",
            "/",
            &[
                ("x-amz-target", "Logs_20140328.FilterLogEvents"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Some(body.to_string().into_bytes()),
        )
    };
    let streams: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
    for body in [
        json!({ "logGroupName": group, "logStreamNames": streams }),
        json!({ "logGroupName": group, "logStreamNames": ["a"], "logStreamNamePrefix": "a" }),
        json!({ "logGroupName": group, "filterPattern": "[[[" }),
        json!({ "logGroupName": group, "filterPattern": "\"unclosed" }),
    ] {
        let r = filter(body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(
            r.json()["__type"],
            "InvalidParameterException",
            "{body}: {}",
            r.text()
        );
    }
    // Logs are written in batches: the REPORT line shows up shortly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = filter(json!({ "logGroupName": group, "filterPattern": "REPORT" }));
        assert_eq!(r.status, 200, "{}", r.text());
        let found = r.json()["events"].as_array().map_or(0, Vec::len);
        if found == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", r.text());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn hostile_markers_headers_arns_and_path_segments_are_refused() {
    let l = lambda();
    let name = unique("hostile");
    let created = l.create(
        &name,
        "python3.12",
        "app.handler",
        &python_zip("def handler(e, c):\n    return 1\n"),
        json!({}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let invalid = |r: &nimbus_testkit::Response| {
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some("InvalidParameterValueException"),
            "{}",
            r.text()
        );
    };
    // A marker with a multi-byte character used to panic the handler (no answer at all).
    for marker in ["%E2%82%AC0", "%ff%00", "zz"] {
        let r = l.request(
            "GET",
            &format!("/2015-03-31/functions?Marker={marker}"),
            &[],
            None,
        );
        invalid(&r);
    }
    let r = l.request(
        "GET",
        &format!("/2015-03-31/functions/{name}/aliases?Marker=%E2%82%AC"),
        &[],
        None,
    );
    invalid(&r);
    // A header that decides what happens, unreadable: refused, not taken as absent (an
    // unreadable "Event" must not run synchronously).
    let invoke_path = format!("/2015-03-31/functions/{name}/invocations");
    for header in [
        "x-amz-invocation-type",
        "x-amz-log-type",
        "x-amz-client-context",
    ] {
        let r = l.request("POST", &invoke_path, &[(header, "Ev\u{ff}ent")], None);
        invalid(&r);
    }
    // Another partition's ARN is not this server's function.
    for partition in ["aws-cn", "aws-us-gov"] {
        let arn = format!("arn:{partition}:lambda:us-east-1:000000000000:function:{name}");
        let r = l.request(
            "POST",
            &format!("/2015-03-31/functions/{arn}/invocations"),
            &[],
            Some(b"{}".to_vec()),
        );
        assert_eq!(r.status, 404, "{arn}: {}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some("ResourceNotFoundException"),
            "{}",
            r.text()
        );
    }
    // A path segment that is not UTF-8: a JSON error, like every other.
    for path in [
        "/2015-03-31/functions/%ff/invocations",
        "/nimbus/v1/code/%ff",
    ] {
        let method = if path.ends_with("invocations") {
            "POST"
        } else {
            "GET"
        };
        let r = l.request(method, path, &[], None);
        invalid(&r);
    }
    assert_eq!(l.invoke(&name, "{}").status, 200);
}
