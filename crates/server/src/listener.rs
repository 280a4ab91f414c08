//! The accept loop: HTTP/1 connections served by hyper with a header-read timeout, an idle
//! timeout and a cap on open connections, so clients that send nothing (or half a header)
//! cannot hold sockets and file descriptors forever.
//!
//! - **Header read** (hyper's `header_read_timeout`): a connection must deliver a complete
//!   request head within this time of connecting, or of the end of its previous response (so
//!   it also bounds how long a kept-alive connection may sit between requests).
//! - **Idle** ([`IdleTimeout`]): a connection on which no byte moves either way for this long
//!   is closed — a client that stops reading its response or stops sending its body.
//! - **Cap**: each connection holds a semaphore permit; at the cap the loop stops accepting
//!   (new connections wait in the kernel's backlog) until one closes.
//!
//! Shutdown stops accepting, asks every connection to finish its in-flight request and close,
//! and returns once all have (every permit is back).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::Service;

/// The connection limits (from [`crate::config::Config`]).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// The `--http-*` flags.
    pub fn from_config(config: &atrium_domain::Config) -> Self {
        Limits {
            header_read_timeout: config.http_header_read_timeout,
            idle_timeout: config.http_idle_timeout,
            max_connections: config.http_max_connections.unwrap_or_else(default_max_connections),
        }
    }
}

/// Serves `app` on `listener` until `stop` turns true, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    // `acquire_many` takes a u32; a cap beyond that is no cap anyway.
    let cap =
        u32::try_from(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let permits = Arc::new(Semaphore::new(cap as usize));
    let (close, closing) = watch::channel(false);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = turned_true(&mut stop) => break,
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = turned_true(&mut stop) => break,
        };
        match accepted {
            Ok((stream, addr)) => {
                tokio::spawn(connection(
                    stream,
                    addr,
                    app.clone(),
                    limits,
                    permit,
                    closing.clone(),
                ));
            }
            // The peer gave up before we accepted: nothing to do.
            Err(e) if is_connection_error(&e) => {}
            // Out of file descriptors or similar: wait a little instead of spinning.
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = turned_true(&mut stop) => break,
                }
            }
        }
    }
    drop(listener);
    let _ = close.send(true);
    // Every connection holds a permit until it ends.
    let _all_closed = permits.acquire_many(cap).await;
    Ok(())
}

/// Resolves once the flag is true (or its sender is gone).
async fn turned_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|f| *f).await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    app: Router,
    limits: Limits,
    _permit: OwnedSemaphorePermit,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        // A `Router` is always ready.
        app.clone().call(req.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = turned_true(&mut closing) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%addr, error = %e, "connection closed with an error");
    }
}

/// A stream that fails with `TimedOut` once no byte has been read or written for `timeout`
/// while its user waits on it.
///
/// Progress only records the time; the timer is moved when it fires early (a lazy reset), so
/// a busy connection does not re-arm a timer on every read and write.
pub struct IdleTimeout<T> {
    inner: T,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    last_progress: Instant,
}

impl<T> IdleTimeout<T> {
    pub fn new(inner: T, timeout: Duration) -> Self {
        IdleTimeout {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            last_progress: Instant::now(),
        }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
    }

    /// The inner stream is pending: pending too, unless `timeout` passed since the last
    /// progress.
    fn pending<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        loop {
            match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let due = self.last_progress + self.timeout;
                    if due > Instant::now() {
                        // Bytes moved since the timer was set: wait the rest.
                        self.deadline.as_mut().reset(due);
                        continue;
                    }
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle for too long",
                    )));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// A write's outcome: bytes written count as progress; a pending write waits on the deadline.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.pending(cx),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.pending(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.pending(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The default connection cap: three quarters of the open-file limit (the rest is for the
/// database, provisioner jobs and logs), at least 64 and at most 10,000.
pub fn default_max_connections() -> usize {
    open_file_limit().map_or(1024, |n| (n / 4 * 3).clamp(64, 10_000))
}

/// The soft `RLIMIT_NOFILE`, read from `/proc/self/limits` (Linux); `None` elsewhere.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "a test should fail loudly")]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn idle_stream_times_out_and_traffic_keeps_it_alive() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, Duration::from_millis(50));
        let mut client = client;
        // Bytes keep arriving: reads succeed.
        client.write_all(b"ab").await.unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await.unwrap();
        // Nothing more arrives: the read fails with TimedOut (a guard, not a timing assertion).
        let read = tokio::time::timeout(Duration::from_secs(30), server.read(&mut buf)).await;
        let err = read.expect("the idle read ends").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test]
    async fn steady_traffic_outlives_the_first_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, Duration::from_secs(1));
        // A byte every 50 ms for 1.5 s: the timer set at creation fires with progress since,
        // and is moved rather than failing the read.
        let writer = tokio::spawn(async move {
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                client.write_all(b"x").await.unwrap();
            }
            client
        });
        let mut buf = [0u8; 1];
        for i in 0..30 {
            server.read_exact(&mut buf).await.unwrap_or_else(|e| panic!("read {i}: {e}"));
        }
        drop(writer.await.unwrap());
    }

    #[test]
    fn default_cap_is_bounded() {
        let cap = default_max_connections();
        assert!((64..=10_000).contains(&cap), "{cap}");
    }
}
