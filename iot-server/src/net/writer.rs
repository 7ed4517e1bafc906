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

/// Commits `jobs` in one transaction and answers each. The writes move into one batch (no
/// copy of a message body); each job's span of it is kept, so when one job spoils the group,
/// each is committed alone and the others still land.
fn commit_group<S: Store>(store: &mut S, mut jobs: Vec<Job>) {
    let mut all: Vec<Write> = Vec::with_capacity(jobs.iter().map(|j| j.writes.len()).sum());
    let mut spans = Vec::with_capacity(jobs.len());
    for job in &mut jobs {
        let start = all.len();
        all.append(&mut job.writes);
        spans.push(start..all.len());
    }
    match store.apply(&all) {
        Ok(()) => {
            for job in jobs {
                let _ = job.done.send(Ok(()));
            }
        }
        // A group of one: its job gets the store's error itself, cause and all.
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.pop() {
                let _ = job.done.send(Err(e));
            }
        }
        Err(_) => {
            for (job, span) in jobs.into_iter().zip(spans) {
                let answer = all.get(span).map_or(Ok(()), |writes| store.apply(writes));
                let _ = job.done.send(answer);
            }
        }
    }
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
                    commit_group(&mut store, jobs);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Snapshot, TelemetryFilter, TelemetryMessage};

    /// Records every `apply` call; refuses (applying nothing) any batch holding a message of
    /// device `poison`.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<Vec<String>>,
        committed: Vec<String>,
    }

    fn device(w: &Write) -> String {
        match w {
            Write::Telemetry(m) => m.device_id.clone(),
            _ => String::new(),
        }
    }

    impl Store for Recorder {
        fn load(&mut self) -> Result<Snapshot, StoreError> {
            Ok(Snapshot::default())
        }
        fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
            let ids: Vec<String> = writes.iter().map(device).collect();
            self.calls.push(ids.clone());
            if ids.iter().any(|d| d == "poison") {
                return Err(StoreError::Database(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                    Some("poisoned batch".into()),
                )));
            }
            self.committed.extend(ids);
            Ok(())
        }
        fn telemetry(
            &mut self,
            _: &TelemetryFilter,
        ) -> Result<Vec<(u64, TelemetryMessage)>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn message(device_id: &str) -> Write {
        Write::Telemetry(TelemetryMessage {
            hub: "hub".into(),
            device_id: device_id.into(),
            module_id: None,
            properties: String::new(),
            body: device_id.as_bytes().to_vec(),
            received_ms: 0,
        })
    }

    fn job(devices: &[&str]) -> (Job, oneshot::Receiver<Result<(), StoreError>>) {
        let (done, wait) = oneshot::channel();
        let writes = devices.iter().map(|d| message(d)).collect();
        (Job { writes, done }, wait)
    }

    #[test]
    fn a_group_is_one_transaction_in_arrival_order() {
        let mut store = Recorder::default();
        let (a, mut wa) = job(&["a1", "a2"]);
        let (b, mut wb) = job(&["b1"]);
        let (c, mut wc) = job(&["c1", "c2"]);
        commit_group(&mut store, vec![a, b, c]);
        assert_eq!(store.calls, vec![vec!["a1", "a2", "b1", "c1", "c2"]]);
        for wait in [&mut wa, &mut wb, &mut wc] {
            assert!(matches!(wait.try_recv(), Ok(Ok(()))));
        }
    }

    #[test]
    fn a_spoiled_group_commits_each_job_alone_and_fails_only_the_bad_one() {
        let mut store = Recorder::default();
        let (a, mut wa) = job(&["a1"]);
        let (bad, mut wbad) = job(&["x", "poison"]);
        let (c, mut wc) = job(&["c1", "c2"]);
        commit_group(&mut store, vec![a, bad, c]);
        assert_eq!(
            store.calls,
            vec![
                vec!["a1", "x", "poison", "c1", "c2"],
                vec!["a1"],
                vec!["x", "poison"],
                vec!["c1", "c2"],
            ]
        );
        assert_eq!(store.committed, vec!["a1", "c1", "c2"]);
        assert!(matches!(wa.try_recv(), Ok(Ok(()))));
        assert!(matches!(wbad.try_recv(), Ok(Err(StoreError::Database(_)))));
        assert!(matches!(wc.try_recv(), Ok(Ok(()))));
    }

    #[test]
    fn a_lone_failing_job_gets_the_error_once() {
        let mut store = Recorder::default();
        let (bad, mut wbad) = job(&["poison"]);
        commit_group(&mut store, vec![bad]);
        assert_eq!(store.calls.len(), 1);
        assert!(matches!(wbad.try_recv(), Ok(Err(StoreError::Database(_)))));
    }
}
