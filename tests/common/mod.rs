//! Helpers shared by the integration test binaries. Tests that need PostgreSQL fail with a clear
//! message when it is not reachable; they never skip.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod deployment;
pub mod process;
pub mod proxy;
pub mod tmux;
pub mod tools;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use restaurant_tui::store::{DatabaseTarget, Store, open};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The server tests create their databases on; override with `TEST_DATABASE_URL`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty PostgreSQL database for one test, dropped (with its connections) afterwards.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin = admin_url();
        let name = format!("rt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnectOptions::from_str(&admin)
            .expect("TEST_DATABASE_URL is a valid PostgreSQL URL")
            .connect()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "this test needs PostgreSQL at {admin} (set TEST_DATABASE_URL to point elsewhere, \
                     or start it; .ci/run shows how): {e}"
                )
            });
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{name}", &admin[..i]),
            None => panic!("TEST_DATABASE_URL has no database path: {admin}"),
        };
        TestDatabase { name, url }
    }

    pub fn target(&self) -> DatabaseTarget {
        DatabaseTarget::Postgres {
            options: Box::new(PgConnectOptions::from_str(&self.url).expect("valid url")),
            display: self.name.clone(),
            max_connections: 8,
        }
    }

    pub async fn connect(&self) -> sqlx::PgConnection {
        PgConnectOptions::from_str(&self.url)
            .expect("valid url")
            .connect()
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        clean_up(async move {
            let mut conn = PgConnectOptions::from_str(&admin_url())
                .ok()?
                .connect()
                .await
                .ok()?;
            sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                .execute(&mut conn)
                .await
                .ok()
        });
    }
}

/// Runs a `Drop`'s async cleanup to its end: `Drop` runs outside any runtime it can borrow, so
/// a short-lived one on a thread of its own does the work. A cleanup that fails leaves the
/// leftover to the next run; it never fails the test.
fn clean_up<T: Send + 'static>(
    work: impl std::future::Future<Output = Option<T>> + Send + 'static,
) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?
            .block_on(work)
    })
    .join();
}

/// A store plus whatever keeps its database alive for the test.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    _pg: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("restaurant.db");
    let store = open(&DatabaseTarget::Sqlite { path: path.clone() })
        .await
        .expect("open sqlite store");
    TestStore {
        store,
        backend: Backend::Sqlite(path),
        _pg: None,
        _dir: Some(dir),
    }
}

pub async fn pg_store() -> TestStore {
    let db = TestDatabase::create().await;
    let store = open(&db.target()).await.expect("open postgres store");
    TestStore {
        store,
        backend: Backend::Postgres(db.url.clone()),
        _pg: Some(db),
        _dir: None,
    }
}

/// The API on a real socket (`127.0.0.1:0`) over a test store, with helpers that read like it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: TestStore,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub fn options() -> restaurant_tui::api::ApiOptions {
    restaurant_tui::api::ApiOptions {
        // Suites send hundreds of requests a second from one address; the limit has its own test.
        rate_limit_per_second: 0,
        ..Default::default()
    }
}

impl TestApp {
    pub async fn spawn(store: TestStore) -> TestApp {
        TestApp::spawn_with(store, options(), None).await
    }

    /// `wrap` may put something between the service and the store (a gate, a fault).
    pub async fn spawn_with(
        store: TestStore,
        options: restaurant_tui::api::ApiOptions,
        wrap: Option<Arc<dyn Store>>,
    ) -> TestApp {
        use restaurant_tui::domain::SystemClock;
        use restaurant_tui::service::OrderService;
        let inner = wrap.unwrap_or_else(|| store.store.clone());
        let orders = OrderService::new(inner, Arc::new(SystemClock));
        let router = restaurant_tui::api::router(orders, &options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async {
            let _ = rx.await;
        };
        tokio::spawn(restaurant_tui::api::serve(
            listener,
            router,
            shutdown,
            restaurant_tui::api::ConnectionLimits::default(),
        ));
        TestApp {
            address,
            client: reqwest::Client::new(),
            store,
            _shutdown: tx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_order(&self, body: &serde_json::Value) -> reqwest::Response {
        self.post_raw("/orders", body.to_string(), Some("application/json"))
            .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Places a valid order and returns its number.
    pub async fn place(&self, body: &serde_json::Value) -> String {
        let r = self.post_order(body).await;
        assert_eq!(r.status(), 201, "placing {body}");
        let v: serde_json::Value = r.json().await.expect("json");
        v["order_number"]
            .as_str()
            .expect("order_number")
            .to_string()
    }

    pub async fn order_status(&self, number: &str) -> reqwest::Response {
        self.get(&format!("/orders/{number}/status")).await
    }

    pub async fn order_history(&self, number: &str) -> reqwest::Response {
        self.get(&format!("/orders/{number}/history")).await
    }

    /// A column of the `orders` row, read straight from the database.
    pub async fn orders_column(&self, number: &str, column: &str) -> String {
        let sql = format!("SELECT CAST({column} AS TEXT) FROM orders WHERE number = '{number}'");
        match &self.store.backend {
            Backend::Postgres(url) => {
                let mut conn = PgConnectOptions::from_str(url)
                    .expect("url")
                    .connect()
                    .await
                    .expect("connect");
                sqlx::query_scalar(&sql)
                    .fetch_one(&mut conn)
                    .await
                    .expect("row")
            }
            Backend::Sqlite(path) => {
                let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .connect()
                    .await
                    .expect("connect");
                sqlx::query_scalar(&sql)
                    .fetch_one(&mut conn)
                    .await
                    .expect("row")
            }
        }
    }
}

/// A valid takeout draft of one pizza at `price`, as the service takes it.
pub fn takeout_draft(price: &str) -> restaurant_tui::domain::OrderDraft {
    use restaurant_tui::domain::{Field, ItemDraft, OrderDraft};
    OrderDraft {
        customer_name: Field::Given("Ann".into()),
        order_type: Field::Given("takeout".into()),
        items: Field::Given(vec![Field::Given(ItemDraft {
            name: Field::Given("Pizza".into()),
            quantity: Field::Given(1),
            price: Field::Given(price.into()),
            ..ItemDraft::default()
        })]),
        ..OrderDraft::default()
    }
}

pub fn pizza_order() -> serde_json::Value {
    serde_json::json!({
        "customer_name": "Ann Lee",
        "order_type": "dine_in",
        "table_number": 7,
        "items": [{"name": "Margherita", "quantity": 2, "price": 12.50}]
    })
}

/// The broker the tests use: `TEST_AMQP_URL`, default guest on 127.0.0.1:5672.
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10".into())
}

/// RabbitMQ for one test: the test broker under a random name prefix, so parallel tests never
/// cross, with the guard that deletes that prefix's exchanges and queues when dropped (a
/// failing test too). Fails loudly if it cannot connect.
pub async fn rabbitmq() -> (restaurant_tui::broker::amqp::AmqpBroker, TestTopology) {
    let topology = TestTopology::new("t");
    let url = amqp_url();
    let broker =
        restaurant_tui::broker::amqp::AmqpBroker::start(url.clone(), topology.prefix.clone());
    broker.wait_connected(std::time::Duration::from_secs(15)).await.unwrap_or_else(|e| {
        panic!(
            "this test needs RabbitMQ at {url} (set TEST_AMQP_URL to point elsewhere, or start it; \
             .ci/run shows how): {e}"
        )
    });
    (broker, topology)
}

/// A queue-name prefix of one test; its exchanges and queues are deleted when it is dropped,
/// however the test ended.
pub struct TestTopology {
    pub prefix: String,
}

impl TestTopology {
    pub fn new(kind: &str) -> TestTopology {
        let id = uuid::Uuid::new_v4().simple().to_string();
        TestTopology {
            prefix: format!("{kind}{}.", &id[..12]),
        }
    }
}

impl Drop for TestTopology {
    fn drop(&mut self) {
        let (url, prefix) = (amqp_url(), self.prefix.clone());
        clean_up(async move {
            let broker = restaurant_tui::broker::amqp::AmqpBroker::start(url, prefix);
            let limit = std::time::Duration::from_secs(10);
            broker.wait_connected(limit).await.ok()?;
            broker.delete_topology().await.ok()
        });
    }
}
