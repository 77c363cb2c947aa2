//! The browser verifier end to end: headless Chromium loads verifier-web/www (the WebAssembly build)
//! from a local HTTP server, verifies a real proof (VALID), a tampered one (INVALID) and a file that is
//! no proof (UNREADABLE), and its rendered DOM carries each verdict. One more run in real time (no
//! virtual time, which stops the page's clock) reports how long the check took in the browser.
//!
//! Needs Debian's `chromium` and the page built first (`.ci/run` does both):
//! `verifier-web/build.sh && cargo test -p zkinfer-verifier-web --test chromium -- --ignored --nocapture`.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

fn www() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// One request: GET a file of `www/` or of `files` (under `/files/`), or POST a report to the test.
fn handle(
    mut stream: TcpStream,
    files: &HashMap<String, Vec<u8>>,
    posted: &Sender<Vec<u8>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split('?').next().unwrap_or("/");
    let body = match method {
        "POST" => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            posted.send(body).ok();
            Some(Vec::new())
        }
        "GET" => match path.strip_prefix("/files/") {
            Some(name) => files.get(name).cloned(),
            None if path.split('/').any(|c| c == "..") => None,
            None => {
                let rel = path.trim_start_matches('/');
                std::fs::read(www().join(if rel.is_empty() { "index.html" } else { rel })).ok()
            }
        },
        _ => None,
    };
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        content_type(path),
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

/// Serve on a free loopback port for the rest of the test process; POSTed bodies come out of the
/// receiver.
fn serve(files: HashMap<String, Vec<u8>>) -> (u16, Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (files, tx) = (files.clone(), tx.clone());
            std::thread::spawn(move || handle(stream, &files, &tx));
        }
    });
    (port, rx)
}

#[path = "../../verifier/tests/support/headless_chromium.rs"]
mod headless;
use headless::headless_chromium as chromium;

/// The `data-verdict` of the rendered `#verdict` element.
fn dom_verdict(dom: &str) -> Option<&str> {
    let rest = &dom[dom.find("id=\"verdict\" data-verdict=\"")? + 27..];
    Some(&rest[..rest.find('"')?])
}

#[test]
#[ignore = "needs chromium and verifier-web/build.sh: cargo test -p zkinfer-verifier-web --test chromium -- --ignored"]
fn chromium_verifies_in_the_page() {
    assert!(
        www().join("pkg/verifier_web_bg.wasm").is_file(),
        "build the page first: verifier-web/build.sh"
    );
    let f = common::digits_mlp();
    let files = HashMap::from([
        ("m.zkm".to_string(), f.model),
        ("p.zkp".to_string(), f.proof),
        ("tampered.zkp".to_string(), f.tampered),
        ("junk.zkp".to_string(), b"not a proof".to_vec()),
    ]);
    let (port, posted) = serve(files);
    let dir = tempfile::tempdir().unwrap();
    // The fixture is on the development SRS: accepted only with the page's box ticked.
    let strict =
        |zkp: &str| format!("http://127.0.0.1:{port}/index.html?zkp=/files/{zkp}&zkm=/files/m.zkm");
    let page = |zkp: &str| format!("{}&allow_dev_srs=1", strict(zkp));

    for (i, (url, verdict)) in [
        (page("p.zkp"), "valid"),
        (page("tampered.zkp"), "invalid"),
        (page("junk.zkp"), "unreadable"),
        (strict("p.zkp"), "invalid"),
    ]
    .into_iter()
    .enumerate()
    {
        let zkp = &url;
        // Virtual time lets --dump-dom wait for the fetches, the WebAssembly and the check.
        let o = chromium(
            &dir.path().join(format!("profile-{i}")),
            &["--dump-dom", "--virtual-time-budget=60000"],
            &url,
        )
        .output()
        .expect("chromium runs (install Debian's chromium package)");
        let dom = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            dom_verdict(&dom),
            Some(verdict),
            "{zkp}: Chromium's DOM:\n{dom}"
        );
        assert!(
            dom.contains(&format!(">{}</div>", verdict.to_uppercase())),
            "{zkp}: the page does not show {}:\n{dom}",
            verdict.to_uppercase()
        );
        if verdict == "valid" {
            assert!(
                dom.contains("digits_mlp") && dom.contains("top class"),
                "{dom}"
            );
        }
        if i == 3 {
            // The reason shown, not the checkbox's label.
            assert!(dom.contains("is proven with the development SRS"), "{dom}");
        }
    }

    // In real time: the page posts its verdict and timings, then closes.
    let mut child = chromium(
        &dir.path().join("profile-timed"),
        &[],
        &format!("{}&post=/report", page("p.zkp")),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("chromium runs");
    let started = Instant::now();
    let report = posted.recv_timeout(Duration::from_secs(180));
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(190) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().ok();
        child.wait().ok();
    }
    let r: Value = serde_json::from_slice(&report.expect("the page reported its verdict")).unwrap();
    assert_eq!(r["verdict"], "valid", "{r}");
    assert!(r["dom"]
        .as_str()
        .unwrap()
        .contains("data-verdict=\"valid\""));
    let ms = |key: &str| r[key].as_f64().unwrap() * 1e3;
    eprintln!(
        "in Chromium: WebAssembly loaded in {:.0} ms; digits MLP proof verified in {:.0} ms \
         (SRS points {:.0} ms, verifying key {:.0} ms, proof check {:.0} ms)",
        r["load_ms"].as_f64().unwrap(),
        r["page_ms"].as_f64().unwrap(),
        ms("params_s"),
        ms("keygen_vk_s"),
        ms("verify_s")
    );
}
