//! Password hashing on a small pool of its own: argon2 is deliberately expensive (19 MiB and
//! tens of milliseconds per hash), so a login flood must not be able to take the threads that
//! database work runs on. A fixed number of worker threads take jobs from a bounded queue;
//! when the queue is full the caller is told at once (a 503 at the edge), instead of waiting.

use std::{
    sync::mpsc::{sync_channel, SyncSender, TrySendError},
    thread,
};

use tokio::sync::oneshot;

use crate::password::verify_password;

type Job = Box<dyn FnOnce() + Send>;

/// The pool is saturated: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is saturated; retry shortly")]
pub struct HashPoolBusy;

/// A bounded pool of password-hashing threads.
#[derive(Debug, Clone)]
pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    /// `workers` threads (at least 1) and a queue of `queue` waiting jobs.
    ///
    /// # Panics
    /// When the operating system refuses to start a thread (at start-up only).
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let (jobs, inbox) = sync_channel::<Job>(queue);
        let inbox = std::sync::Arc::new(std::sync::Mutex::new(inbox));
        for i in 0..workers {
            let inbox = inbox.clone();
            #[allow(clippy::expect_used)] // start-up: no threads, no server
            thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = {
                        let Ok(inbox) = inbox.lock() else { return };
                        inbox.recv()
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                })
                .expect("starting a password-hashing thread");
        }
        Self { jobs }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashPoolBusy> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => result.await.map_err(|_| HashPoolBusy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(HashPoolBusy),
        }
    }

    /// Whether `password` matches the PHC `hash`, computed on the pool.
    ///
    /// # Errors
    /// [`HashPoolBusy`] when the queue is full.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, HashPoolBusy> {
        self.run(move || verify_password(&password, &hash)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    #[tokio::test]
    async fn hashes_run_on_the_pool_and_a_full_queue_says_so_at_once() {
        let pool = HashPool::new(1, 1);
        let hash = crate::password::hash_password("correct horse").unwrap();
        assert!(pool
            .verify("correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!pool.verify("wrong".into(), hash).await.unwrap());

        // The one worker holds a job until the gate opens; the one queue slot is taken.
        let (started, started_rx) = std::sync::mpsc::channel();
        let gate = Arc::new(Barrier::new(2));
        let held = gate.clone();
        let first: Job = Box::new(move || {
            let _ = started.send(());
            held.wait();
        });
        assert!(pool.jobs.try_send(first).is_ok());
        started_rx.recv().unwrap();
        let (second_done, second_rx) = std::sync::mpsc::channel();
        let second: Job = Box::new(move || {
            let _ = second_done.send(());
        });
        assert!(pool.jobs.try_send(second).is_ok());
        // A third job is refused at once, not queued behind the others.
        assert_eq!(pool.run(|| ()).await, Err(HashPoolBusy));
        gate.wait();
        second_rx.recv().unwrap();
        // The queue has drained: work is taken again.
        assert_eq!(pool.run(|| 42).await, Ok(42));
    }
}
