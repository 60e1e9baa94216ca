//! TLS where the URL asks for it (CONTRACT §6): PostgreSQL with `sslmode=require` against the
//! local server, `amqps://` through a TLS-terminating proxy this test starts in front of
//! RabbitMQ (with a certificate it makes), and `amqps://` to a plaintext port, which must never
//! see the credentials.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::deployment::Deployment;
use common::process::Process;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn postgresql_with_sslmode_require_is_reached_over_tls() {
    let d = Deployment::new().await;
    let url = format!("{}?sslmode=require", d.db.url);
    let serve = Process::serve(&["serve", "--port", "0"], &[("DATABASE_URL", url.as_str())]);
    let client = reqwest::Client::new();
    let ready = serve.get_json(&client, "/health/ready").await;
    assert_eq!(ready["database"]["status"], "up", "{ready}");
    let mut conn = d.db.connect().await;
    let (connections, all_tls): (i64, Option<bool>) = sqlx::query_as(
        "SELECT count(*), bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(connections > 0, "serve holds connections");
    assert_eq!(all_tls, Some(true), "every one of them over TLS");
}

/// Listens in plaintext and keeps the first bytes a client sends.
async fn plaintext_trap() -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let keep = keep.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await
                {
                    keep.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                // Answer like a plaintext AMQP server would: its protocol header.
                let _ = tokio::io::AsyncWriteExt::write_all(&mut s, b"AMQP\x00\x00\x09\x01").await;
            });
        }
    });
    (port, seen)
}

// Multi-threaded: the trap must run while this test blocks reading the process's log.
#[tokio::test(flavor = "multi_thread")]
async fn amqps_to_a_plaintext_port_never_sends_the_credentials() {
    let (port, seen) = plaintext_trap().await;
    let url = format!("amqps://guest:topsecret@127.0.0.1:{port}/%2f");
    // The start fails with the handshake's reason: never plaintext, not retried for ever.
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        common::process::run(&["notify"], &[("AMQP_URL", url.as_str())], &[])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("TLS with RabbitMQ at 127.0.0.1"),
        "{stderr}"
    );
    assert!(!stderr.contains("topsecret"), "{stderr}");
    let bytes = seen.lock().unwrap().clone();
    assert!(!bytes.is_empty(), "the client spoke first");
    assert_eq!(
        bytes[0], 0x16,
        "a TLS handshake record, not AMQP: {bytes:?}"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("topsecret") && !text.contains("PLAIN") && !text.starts_with("AMQP"),
        "{text:?}"
    );
}

/// A TLS server for `localhost` (certificate made here) that forwards to RabbitMQ in plaintext.
async fn tls_terminator() -> (u16, tempfile::NamedTempFile) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut broker) = tokio::net::TcpStream::connect("127.0.0.1:5672").await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
            });
        }
    });
    (port, ca)
}

#[tokio::test(flavor = "multi_thread")]
async fn amqps_through_a_tls_proxy_cooks_an_order_trusting_the_configured_ca() {
    let d = Deployment::new().await;
    let (port, ca) = tls_terminator().await;
    let url = format!("amqps://guest:guest@localhost:{port}/%2f");
    let ca_path = ca.path().display().to_string();
    let env = [
        ("DATABASE_URL", d.db.url.as_str()),
        ("AMQP_URL", url.as_str()),
        ("RESTAURANT_RABBITMQ__PREFIX", d.prefix.as_str()),
        ("RESTAURANT_RABBITMQ__CA_FILE", ca_path.as_str()),
    ];
    let serve = Process::serve(&["serve", "--port", "0", "--rate-limit", "0"], &env);
    let _worker = Process::ready(
        &["worker", "--name", "chef", "--cook-time", "takeout=50ms"],
        &env,
        false,
    );
    let n = d.place(&serve, "takeout", 5.0).await;
    let s = d
        .wait_status(&serve, &n, "ready", Duration::from_secs(60))
        .await;
    assert_eq!(s["processed_by"], "chef");
    d.cleanup().await;
}
