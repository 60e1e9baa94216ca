//! A deployment for process tests: a database and a queue prefix of its own, and helpers that
//! read like what an operator does.

use std::time::Duration;

use serde_json::Value;

use super::process::Process;
use super::proxy::Proxy;

pub const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

pub struct Deployment {
    pub db: super::TestDatabase,
    /// Deleted (exchanges and queues) when the deployment is dropped, a failing test's too.
    topology: super::TestTopology,
    pub prefix: String,
    pub client: reqwest::Client,
    /// What the processes are given: the servers themselves, or the proxies in front of them.
    pub db_url: String,
    pub amqp_url: String,
    /// Between the processes and PostgreSQL / RabbitMQ, when the test asked for them.
    pub pg_proxy: Option<Proxy>,
    pub amqp_proxy: Option<Proxy>,
}

impl Deployment {
    pub async fn new() -> Deployment {
        // Fails loudly here when RabbitMQ is not reachable; the probe's own topology goes with
        // its guard.
        drop(super::rabbitmq().await);
        let db = super::TestDatabase::create().await;
        let topology = super::TestTopology::new("k");
        Deployment {
            db_url: db.url.clone(),
            db,
            prefix: topology.prefix.clone(),
            topology,
            client: reqwest::Client::new(),
            amqp_url: AMQP.to_string(),
            pg_proxy: None,
            amqp_proxy: None,
        }
    }

    /// A deployment whose processes reach PostgreSQL and RabbitMQ through fault proxies.
    pub async fn behind_proxies() -> Deployment {
        let mut d = Deployment::new().await;
        let pg = Proxy::start("127.0.0.1:5432");
        let amqp = Proxy::start("127.0.0.1:5672");
        d.db_url = d.db.url.replace("127.0.0.1:5432", &pg.addr());
        assert_ne!(
            d.db_url, d.db.url,
            "TEST_DATABASE_URL must name 127.0.0.1:5432 here"
        );
        // Heartbeats every 2 s: a silent (delayed) link is noticed quickly too.
        d.amqp_url = format!("amqp://guest:guest@{}/%2f?heartbeat=2", amqp.addr());
        d.pg_proxy = Some(pg);
        d.amqp_proxy = Some(amqp);
        d
    }

    pub fn pg_proxy(&self) -> &Proxy {
        self.pg_proxy.as_ref().expect("a deployment behind proxies")
    }

    pub fn amqp_proxy(&self) -> &Proxy {
        self.amqp_proxy
            .as_ref()
            .expect("a deployment behind proxies")
    }

    pub fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("DATABASE_URL", self.db_url.as_str()),
            ("AMQP_URL", self.amqp_url.as_str()),
            ("RESTAURANT_RABBITMQ__PREFIX", self.prefix.as_str()),
        ]
    }

    pub fn serve(&self) -> Process {
        Process::serve(&["serve", "--port", "0", "--rate-limit", "0"], &self.env())
    }

    pub fn worker(&self, args: &[&str]) -> Process {
        let mut all = vec!["worker"];
        all.extend_from_slice(args);
        Process::ready(&all, &self.env(), false)
    }

    pub async fn place(&self, serve: &Process, kind: &str, price: f64) -> String {
        serve.place(&self.client, kind, price).await
    }

    pub async fn status(&self, serve: &Process, n: &str) -> Value {
        serve
            .get_json(&self.client, &format!("/orders/{n}/status"))
            .await
    }

    pub async fn history(&self, serve: &Process, n: &str) -> Vec<(String, String)> {
        let h = serve
            .get_json(&self.client, &format!("/orders/{n}/history"))
            .await;
        h.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["status"].as_str().unwrap().to_string(),
                    e["changed_by"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    pub async fn wait_status(
        &self,
        serve: &Process,
        n: &str,
        status: &str,
        limit: Duration,
    ) -> Value {
        serve.wait_status(&self.client, n, status, limit).await
    }

    /// Deletes the deployment's database and broker topology now (dropping it does the same).
    pub async fn cleanup(self) {
        drop(self);
    }
}
