//! End-to-end: the Lambda control plane over real HTTP: shapes, validation with Lambda's
//! errors, hostile packages, publishing, and durability across restarts and kill -9.

mod common;

use base64::Engine;
use common::{bin, lambda};
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
