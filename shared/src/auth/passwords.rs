//! argon2id password hashes (m = 19 MiB, t = 2, p = 1), computed off the async threads,
//! a bounded number at once: each holds 19 MiB, and more hashes than cores only queue
//! memory. A request waits briefly for a turn and is shed (503) beyond that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;
use crate::error::Error;
use crate::ports::Random;

/// Turns at hashing: about one per core, and how long a request may wait for one.
/// Hashes run on this many dedicated threads: the allocator keeps an arena per thread
/// that has hashed, so hashing on the runtime's many blocking threads would keep up to
/// 19 MiB per thread long after the burst (700+ MiB for 64 concurrent logins).
pub struct HashingTurns {
    turns: tokio::sync::Semaphore,
    wait: std::time::Duration,
    workers: Workers,
    /// Verifications run so far (the dummy ones included), for the test that pins that
    /// an unknown account costs the same work as a known one.
    verifications: std::sync::Arc<AtomicU64>,
}

type Job = Box<dyn FnOnce() + Send>;

/// glibc raises its mmap threshold after the first large block is freed, so every later
/// 19 MiB argon2 block comes from a heap it never trims: measured, 64 concurrent logins
/// left 240 MiB resident for good. A fixed threshold keeps such blocks mmapped, and
/// freeing one returns it to the system (scripts/bench/concurrent_logins.py).
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before the hashing
    // threads allocate and is safe to call at any time per glibc's documentation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// A fixed set of threads that run hashing jobs in turn.
struct Workers {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl Workers {
    fn start(n: usize) -> Workers {
        return_large_blocks_to_the_system();
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        Workers {
            jobs: std::sync::Mutex::new(tx),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| Error::Internal("hashing queue poisoned".into()))?
            .send(job)
            .map_err(|_| Error::Internal("no hashing thread runs".into()))?;
        result
            .await
            .map_err(|_| Error::Internal("a hashing thread stopped".into()))
    }
}

impl HashingTurns {
    pub fn new(at_once: usize, wait: std::time::Duration) -> Self {
        HashingTurns {
            turns: tokio::sync::Semaphore::new(at_once.max(1)),
            wait,
            workers: Workers::start(at_once.max(1)),
            verifications: std::sync::Arc::new(AtomicU64::new(0)),
        }
    }

    /// The process-wide turns: one per core, two seconds of queueing.
    pub fn shared() -> &'static HashingTurns {
        static TURNS: OnceLock<HashingTurns> = OnceLock::new();
        TURNS.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            HashingTurns::new(cores, std::time::Duration::from_secs(2))
        })
    }

    async fn take(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Error> {
        match tokio::time::timeout(self.wait, self.turns.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Error::Internal("hashing turns closed".into())),
            Err(_) => Err(Error::Overloaded),
        }
    }
}

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: &Password, random: &dyn Random) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let password = password.clone();
    let turns = HashingTurns::shared();
    let _turn = turns.take().await?;
    turns
        .workers
        .run(move || {
            argon2()?
                .hash_password_with_salt(password.expose(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .await?
}

/// A hash of a password nobody knows, so that an unknown account costs the same work.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut salt = [0u8; 16];
        crate::ports::OsRandom.fill(&mut salt);
        argon2()
            .ok()
            .and_then(|a| a.hash_password_with_salt(&salt, &salt).ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `stored`; with no stored hash, verifies against a dummy.
pub async fn verify(password: &Password, stored: Option<&str>) -> Result<bool, Error> {
    verify_with(HashingTurns::shared(), password, stored).await
}

async fn verify_with(turns: &HashingTurns, password: &Password, stored: Option<&str>) -> Result<bool, Error> {
    let password = password.clone();
    let _turn = turns.take().await?;
    let stored = stored.map(str::to_string);
    let verifications = turns.verifications.clone();
    turns
        .workers
        .run(move || {
            let argon = argon2()?;
            verifications.fetch_add(1, Ordering::SeqCst);
            Ok(match stored {
                Some(h) => argon.verify_password(password.expose(), h.as_str()).is_ok(),
                None => {
                    let _ = argon.verify_password(password.expose(), dummy_hash());
                    false
                }
            })
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_the_turns_and_a_short_wait_a_hash_is_shed() {
        let turns = HashingTurns::new(1, std::time::Duration::from_millis(20));
        let held = turns.take().await.unwrap();
        let pw = Password::parse("password", "P@ssw0rd").unwrap();
        assert!(matches!(verify_with(&turns, &pw, None).await, Err(Error::Overloaded)));
        drop(held);
        assert!(!verify_with(&turns, &pw, None).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_costs_one_full_argon2_verification_like_a_known_one() {
        let pw = Password::parse("password", "P@ssw0rd").unwrap();
        let stored = hash(&pw, &crate::ports::OsRandom).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        let turns = HashingTurns::new(1, std::time::Duration::from_secs(30));
        let verify = |pw, stored| verify_with(&turns, pw, stored);
        let before = turns.verifications.load(Ordering::SeqCst);
        assert!(verify(&pw, Some(&stored)).await.unwrap());
        let wrong = Password::parse("password", "Wr0ngPass").unwrap();
        assert!(!verify(&wrong, Some(&stored)).await.unwrap());
        assert!(!verify(&pw, None).await.unwrap());
        assert_eq!(turns.verifications.load(Ordering::SeqCst) - before, 3);
        // The dummy is a real argon2id hash with the same parameters.
        assert!(
            dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            dummy_hash()
        );
    }
}
