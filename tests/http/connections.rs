//! Hostile clients against a real `serve` (CONTRACT §6): slow bodies, silent and idle sockets,
//! more connections than the cap, oversized headers. Short limits are configured so each test
//! waits seconds, not minutes; every wait is a deadline on a condition.

use crate::common;

use std::time::Duration;

use common::process::Process;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn serve(extra: &[(&str, &str)]) -> Process {
    let mut env = vec![
        ("RESTAURANT_SERVER__HEADER_READ_TIMEOUT", "1s"),
        ("RESTAURANT_SERVER__BODY_READ_TIMEOUT", "1s"),
    ];
    env.extend_from_slice(extra);
    Process::serve(
        &[
            "serve",
            "--port",
            "0",
            "--rate-limit",
            "0",
            "--max-concurrent",
            "2",
        ],
        &env,
    )
}

/// Reads until the server closes the connection (or the deadline): what it sent.
async fn until_closed(mut s: TcpStream, within: Duration) -> String {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read)
        .await
        .expect("the server closes the connection");
    String::from_utf8_lossy(&got).into_owned()
}

async fn place(p: &Process) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(p.url("/orders"))
        .json(&json!({"customer_name": "Ann", "order_type": "takeout",
                      "items": [{"name": "Pizza", "quantity": 1, "price": 5}]}))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("an answer")
        .status()
}

#[tokio::test]
async fn slow_bodies_get_408_and_never_hold_an_order_creation_place() {
    let p = serve(&[]);
    let addr = format!("127.0.0.1:{}", p.port);
    // Ten clients (five times the creation places) that send a head and one byte of body.
    let mut slow = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
        slow.push(s);
    }
    // A genuine order is placed meanwhile.
    assert_eq!(place(&p).await, 201);
    for s in slow {
        let answer = until_closed(s, Duration::from_secs(30)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "a JSON body: {answer}");
    }
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_after_the_header_timeout() {
    let p = serve(&[]);
    let addr = format!("127.0.0.1:{}", p.port);
    let silent = TcpStream::connect(&addr).await.unwrap();
    let half = TcpStream::connect(&addr).await.unwrap();
    let mut half = half;
    half.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    until_closed(silent, Duration::from_secs(30)).await;
    until_closed(half, Duration::from_secs(30)).await;
    let answered = until_closed(idle, Duration::from_secs(30)).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test]
async fn beyond_the_connection_cap_new_ones_are_closed_and_the_server_serves_on() {
    let p = serve(&[
        ("RESTAURANT_SERVER__MAX_CONNECTIONS", "5"),
        ("RESTAURANT_SERVER__HEADER_READ_TIMEOUT", "60s"),
    ]);
    let addr = format!("127.0.0.1:{}", p.port);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Give the server a moment to take the five; then the sixth is closed at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut extra = TcpStream::connect(&addr).await.unwrap();
        let _ = extra
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let answer = until_closed(extra, Duration::from_secs(30)).await;
        if answer.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never refused: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ok = reqwest::get(p.url("/health/live"))
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_and_the_connection_closed() {
    let p = serve(&[]);
    let mut s = TcpStream::connect(format!("127.0.0.1:{}", p.port))
        .await
        .unwrap();
    let big = format!(
        "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let _ = s.write_all(big.as_bytes()).await; // the server may close before all of it
    let answer = until_closed(s, Duration::from_secs(30)).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    let live: Value = reqwest::get(p.url("/health/live"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live["status"], "ok");
}

#[tokio::test]
async fn a_body_sent_without_its_length_is_still_held_to_the_limit() {
    let p = serve(&[]);
    let mut s = TcpStream::connect(format!("127.0.0.1:{}", p.port))
        .await
        .unwrap();
    // Chunked, so nothing can be refused from a Content-Length: cut off at the 64 KiB limit.
    let chunk = "a".repeat(100 * 1024);
    let request = format!(
        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let _ = s.write_all(request.as_bytes()).await; // the server may answer before reading it all
    let answer = until_closed(s, Duration::from_secs(30)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}
