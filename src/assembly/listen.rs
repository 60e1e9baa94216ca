//! The HTTP listeners of a kitchen: the API, and `/metrics` alone for the processes without it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Assembly, AssemblyError};
use crate::api::{self, ApiOptions, AppState};
use crate::supervisor::{OnExit, TaskError};

impl Assembly {
    /// Binds the API where the configuration says and serves it until the stop. A server that
    /// ends by itself stops the process.
    pub async fn listen(&self, read_only: bool) -> Result<SocketAddr, AssemblyError> {
        let orders = self.orders.clone().ok_or(AssemblyError::NoKitchen)?;
        let (listener, local) = self.bind(self.config.server.port).await?;
        let state = AppState {
            orders,
            broker: if read_only { None } else { self.broker.clone() },
            tasks: Some(self.board()),
            warnings: Arc::new(self.warnings.clone()),
        };
        let router = api::router_with(
            state,
            &ApiOptions::from_server(&self.config.server, read_only),
        );
        self.serve_router("api", listener, router);
        Ok(local)
    }

    /// Serves `/metrics` alone on `port` of the configured host (`worker` and `notify`, which
    /// have no API).
    pub async fn listen_metrics(&self, port: u16) -> Result<SocketAddr, AssemblyError> {
        let (listener, local) = self.bind(port).await?;
        let router = api::metrics_only(self.store.clone(), self.broker.clone());
        self.serve_router("metrics", listener, router);
        Ok(local)
    }

    /// Binds `port` on `server.host` (a name or an address, IPv6 included).
    async fn bind(
        &self,
        port: u16,
    ) -> Result<(tokio::net::TcpListener, SocketAddr), AssemblyError> {
        let host = self.config.server.host.as_str();
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let failed = |source| AssemblyError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = tokio::net::TcpListener::bind((host, port))
            .await
            .map_err(failed)?;
        let local = listener.local_addr().map_err(failed)?;
        Ok((listener, local))
    }

    /// Serves `router` until the API's stop; a server that ends by itself stops the process.
    fn serve_router(&self, task: &str, listener: tokio::net::TcpListener, router: axum::Router) {
        let limits = api::ConnectionLimits::from_server(&self.config.server);
        // One listener, served once: a restart could not bind it again.
        let listener = Arc::new(std::sync::Mutex::new(Some(listener)));
        let token = self.shutdown.api.clone();
        self.shutdown
            .supervisor
            .spawn(task, token.clone(), OnExit::StopProcess, move || {
                let listener = listener.lock().ok().and_then(|mut l| l.take());
                let (router, token) = (router.clone(), token.clone());
                async move {
                    let listener =
                        listener.ok_or_else(|| TaskError::permanent("the listener is gone"))?;
                    api::serve(listener, router, token.cancelled_owned(), limits)
                        .await
                        .map_err(|e| TaskError::transient(format!("the HTTP server failed: {e}")))
                }
            });
    }
}
