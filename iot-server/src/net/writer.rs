//! The store writer: one OS thread owns the store and commits batches in arrival order. Jobs
//! waiting together are committed in one transaction (group commit), so many devices'
//! telemetry shares one fsync; each caller gets its answer only after the commit.

use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::store::{Store, StoreError, Write};

/// Most jobs committed together.
const MAX_GROUP: usize = 512;

struct Job {
    writes: Vec<Write>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// A handle to the writer thread.
pub(crate) struct StoreHandle {
    tx: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl core::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StoreHandle")
    }
}

impl StoreHandle {
    pub(crate) fn spawn<S: Store + 'static>(mut store: S) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("iot-server-store".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let all: Vec<Write> = jobs.iter().flat_map(|j| j.writes.clone()).collect();
                    let result = store.apply(&all);
                    if result.is_ok() || jobs.len() == 1 {
                        for job in jobs {
                            let answer = match &result {
                                Ok(()) => Ok(()),
                                Err(e) => Err(StoreError::Database(e.to_string())),
                            };
                            let _ = job.done.send(answer);
                        }
                    } else {
                        // One job spoiled the group: commit each alone so the others land.
                        for job in jobs {
                            let _ = job.done.send(store.apply(&job.writes));
                        }
                    }
                }
            })
            .ok();
        Self {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(thread),
        }
    }

    /// Queues `writes` for one transaction; the receiver answers once they are durable.
    pub(crate) fn submit(&self, writes: Vec<Write>) -> oneshot::Receiver<Result<(), StoreError>> {
        let (done, wait) = oneshot::channel();
        if let Ok(tx) = self.tx.lock()
            && let Some(tx) = tx.as_ref()
        {
            // A closed writer drops `done`, which the receiver reads as `Closed`.
            let _ = tx.send(Job { writes, done });
        }
        wait
    }

    /// Commits `writes` in one transaction; returns once they are durable.
    pub(crate) async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.submit(writes).await.unwrap_or(Err(StoreError::Closed))
    }

    /// Stops the writer after the queued jobs and waits for it.
    pub(crate) async fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}
