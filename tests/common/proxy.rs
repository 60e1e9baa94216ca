//! A fault-injecting TCP proxy (ENGINEERING habit 14): a test puts it between the program under
//! test and PostgreSQL or RabbitMQ, then cuts it (every open connection closed, new ones closed
//! at once), delays it, and restores it — so outages never touch the machine's shared servers.
//! It runs on a thread and runtime of its own, so it keeps forwarding while the test blocks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Open,
    Cut,
}

pub struct Proxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
    delay: Arc<Mutex<Duration>>,
    _thread: std::thread::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target` (`127.0.0.1:5432`).
    pub fn start(target: &str) -> Proxy {
        let target: SocketAddr = target.parse().expect("target address");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let (mode, mode_rx) = watch::channel(Mode::Open);
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let d = delay.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                tokio::select! {
                    () = accept_loop(listener, target, mode_rx, d) => {}
                    _ = stop_rx => {}
                }
            });
        });
        Proxy {
            port,
            mode,
            delay,
            _thread: thread,
            stop: Some(stop),
        }
    }

    /// `host:port` of the proxy, to put in a URL.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Closes every open connection and every new one at once, until [`Proxy::restore`].
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    pub fn restore(&self) {
        self.mode.send_replace(Mode::Open);
    }

    /// Holds every chunk this long before passing it on (0 for none).
    pub fn delay(&self, by: Duration) {
        *self.delay.lock().unwrap() = by;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    mode: watch::Receiver<Mode>,
    delay: Arc<Mutex<Duration>>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if *mode.borrow() == Mode::Cut {
            drop(client);
            continue;
        }
        let (mode, delay) = (mode.clone(), delay.clone());
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let mut cut = mode.clone();
            tokio::select! {
                () = pipe(cr, sw, delay.clone()) => {}
                () = pipe(sr, cw, delay) => {}
                _ = cut.wait_for(|m| *m == Mode::Cut) => {}
            }
            // Dropping both halves of both sockets closes the connection on both sides.
        });
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Arc<Mutex<Duration>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let wait = *delay.lock().unwrap();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
