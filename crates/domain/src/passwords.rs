//! Argon2id password hashes (PHC strings), computed on a small fixed pool of threads.
//!
//! Each hash takes 19 MiB of working memory (Argon2's `m` cost). Computed on Tokio's blocking
//! pool, 200 concurrent logins meant 200 blocks at once and malloc arenas that kept them
//! afterwards (3.8 GiB). Here one thread per core does every hash and check, each reusing its
//! own block, and a semaphore with one permit per thread admits the work: excess checks wait
//! for a permit (the request timeout bounds the wait). Peak memory is threads × 19 MiB.
//!
//! One pool per process, like Tokio's own blocking pool: the CPU is the shared resource, and
//! `atrium reset-password` uses the same functions.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::Error;

/// A PHC hash of a password that never matches, so an unknown email costs the same time as a
/// wrong password (no user enumeration by timing).
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wb1Kkv3Kp7+fJvC8VgCq4w7oC0Ktl5U3s6x7cQ2mYlQ";

/// The largest memory cost (KiB) a stored hash may ask a worker for; larger ones never match.
const MAX_M_COST: u32 = 64 * 1024;

/// Hashes a password.
pub async fn hash(password: String) -> Result<String, Error> {
    pool().hash(password).await
}

/// Verifies a password against a stored hash (or the dummy when there is none).
pub async fn verify(password: String, hashed: Option<String>) -> bool {
    pool().verify(password, hashed).await
}

/// The process's hashing pool: one thread per core.
pub fn pool() -> &'static Hasher {
    static POOL: OnceLock<Hasher> = OnceLock::new();
    POOL.get_or_init(|| {
        Hasher::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
    })
}

/// A fixed set of hashing threads behind a semaphore of as many permits.
pub struct Hasher {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
}

struct Job {
    work: Work,
    /// Held until the work is done, so a permit always means a busy thread.
    permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<Outcome>,
}

enum Work {
    Hash(String),
    Verify(String, String),
}

enum Outcome {
    Hashed(Result<String, String>),
    Verified(bool),
}

impl Hasher {
    /// Starts `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            match std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&queue))
            {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a password hashing thread"),
            }
        }
        Hasher { permits: Arc::new(Semaphore::new(started)), jobs }
    }

    /// Checks that could start now without waiting.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Takes one permit as a running check does (tests: fill the pool).
    pub fn try_hold(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    async fn run(&self, work: Work) -> Result<Outcome, Error> {
        let permit = self.permits.clone().acquire_owned().await.map_err(Error::internal)?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { work, permit, reply })
            .map_err(|_| Error::internal("password hashing threads stopped"))?;
        answer.await.map_err(|_| Error::internal("password hashing thread failed"))
    }

    /// Hashes a password.
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        match self.run(Work::Hash(password)).await? {
            Outcome::Hashed(r) => r.map_err(Error::internal),
            Outcome::Verified(_) => Err(Error::internal("unexpected hashing outcome")),
        }
    }

    /// Verifies a password against a stored hash (or the dummy when there is none).
    pub async fn verify(&self, password: String, hashed: Option<String>) -> bool {
        let found = hashed.is_some();
        let phc = hashed.unwrap_or_else(|| DUMMY.to_owned());
        let ok = matches!(self.run(Work::Verify(password, phc)).await, Ok(Outcome::Verified(true)));
        ok && found
    }
}

/// A hashing thread: takes jobs until the pool is dropped, reusing one memory block.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(queue) = queue.lock() else { return };
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let outcome = match &job.work {
            Work::Hash(password) => Outcome::Hashed(hash_with(&mut memory, password.as_bytes())),
            Work::Verify(password, phc) => {
                Outcome::Verified(verify_with(&mut memory, password.as_bytes(), phc))
            }
        };
        drop(job.permit);
        let _ = job.reply.send(outcome);
    }
}

/// The first `n` blocks of the thread's memory, growing it when needed.
fn blocks(memory: &mut Vec<Block>, n: usize) -> &mut [Block] {
    if memory.len() < n {
        memory.resize(n, Block::new());
    }
    &mut memory[..n]
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, String> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    if params.m_cost() > MAX_M_COST {
        return false;
    }
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let n = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    argon
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks(memory, n))
        .is_ok()
        && bool::from(out.ct_eq(expected))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "a test should fail loudly")]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let pool = Hasher::new(1);
        let h = pool.hash("Correct-Horse-9!".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(pool.verify("Correct-Horse-9!".into(), Some(h.clone())).await);
        assert!(!pool.verify("wrong".into(), Some(h.clone())).await);
        assert!(!pool.verify("Correct-Horse-9!".into(), None).await);
        // Hashes from the argon2 crate's own hasher (earlier releases) still verify.
        use argon2::password_hash::PasswordHasher;
        let old = Argon2::default().hash_password(b"old-secret").unwrap().to_string();
        assert!(pool.verify("old-secret".into(), Some(old)).await);
    }

    /// The N+1-th concurrent check waits for a permit instead of allocating its own block.
    #[tokio::test]
    async fn checks_beyond_the_pool_wait() {
        let pool = Hasher::new(2);
        let a = pool.try_hold().expect("first permit");
        let b = pool.try_hold().expect("second permit");
        assert!(pool.try_hold().is_none(), "only as many checks as threads");
        let mut third = Box::pin(pool.verify("x".into(), None));
        assert!((&mut third).now_or_never().is_none(), "the third check waits");
        assert!((&mut third).now_or_never().is_none(), "and keeps waiting");
        drop(a);
        // With a permit free it runs (bounded guard, not a timing assertion).
        let done = tokio::time::timeout(Duration::from_secs(60), third).await;
        assert_eq!(done, Ok(false));
        assert_eq!(pool.available(), 1);
        drop(b);
        assert_eq!(pool.available(), 2);
    }
}
