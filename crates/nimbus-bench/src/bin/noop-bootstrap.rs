//! A minimal custom runtime (`provided.*` `bootstrap`) for benchmarks: it answers every event
//! with `{}`. Standard library only, no async: one HTTP/1.1 keep-alive connection to
//! `$AWS_LAMBDA_RUNTIME_API`, a loop of `GET …/invocation/next` → `POST …/{id}/response`,
//! and just enough parsing for Content-Length bodies (the platform always sends one).
//!
//! Its cold start is process start + one connect + one request, so the platform's
//! "Init Duration" for it is the platform's own floor.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

/// Lambda's Runtime API version prefix.
const API_PREFIX: &str = "/2018-06-01/runtime/invocation";
/// The response body of every event.
const RESPONSE_BODY: &[u8] = b"{}";
/// Longest response header line we accept (the platform's are far shorter).
const HEADER_LINE_BYTES_MAX: usize = 8 * 1024;
/// Largest body we read (Lambda's synchronous payload limit is 6 MB).
const BODY_BYTES_MAX: usize = 7 * 1024 * 1024;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("noop-bootstrap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| io::Error::other("AWS_LAMBDA_RUNTIME_API is not set"))?;
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let next = format!("GET {API_PREFIX}/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    loop {
        writer.write_all(next.as_bytes())?;
        let event = read_response(&mut reader)?;
        if event.status != 200 {
            return Err(io::Error::other(format!("/next answered {}", event.status)));
        }
        let id = event
            .request_id
            .ok_or_else(|| io::Error::other("/next without Lambda-Runtime-Aws-Request-Id"))?;
        let mut post = format!(
            "POST {API_PREFIX}/{id}/response HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            RESPONSE_BODY.len()
        )
        .into_bytes();
        post.extend_from_slice(RESPONSE_BODY);
        writer.write_all(&post)?;
        let ack = read_response(&mut reader)?;
        if !(200..300).contains(&ack.status) {
            return Err(io::Error::other(format!(
                "/response answered {}",
                ack.status
            )));
        }
    }
}

/// What we need from one response.
struct Response {
    status: u16,
    request_id: Option<String>,
}

/// Reads one response (status line, headers, Content-Length body; the body is discarded).
fn read_response(reader: &mut BufReader<TcpStream>) -> io::Result<Response> {
    let status_line = read_line(reader)?;
    // "HTTP/1.1 200 OK"
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut length = 0usize;
    let mut request_id = None;
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .parse()
                .map_err(|_| io::Error::other(format!("bad Content-Length {value:?}")))?;
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            request_id = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(io::Error::other("chunked responses are not supported"));
        }
    }
    if length > BODY_BYTES_MAX {
        return Err(io::Error::other(format!(
            "body of {length} bytes is too large"
        )));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(Response { status, request_id })
}

/// Reads one CRLF-terminated line without its terminator; EOF is an error.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = String::new();
    let n = reader
        .by_ref()
        .take(HEADER_LINE_BYTES_MAX as u64)
        .read_line(&mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with('\n') {
        return Err(io::Error::other("header line too long"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
