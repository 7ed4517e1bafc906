//! CPU time of a process or of some threads of this process, from Linux's
//! `/proc/PID/task/TID/schedstat` (first field: nanoseconds on a CPU) and `comm` (the thread
//! name, 15 bytes at most). Elsewhere every reading is `None` and the bench prints "n/a".
//!
//! CPU time per operation does not depend on how busy the machine is the way a rate does, so
//! it shows where the two servers' costs differ even on a loaded machine.

use std::path::Path;
use std::time::Duration;

fn task_cpu(task: &Path) -> Option<Duration> {
    let text = std::fs::read_to_string(task.join("schedstat")).ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Sum over the tasks (threads) under `/proc/{pid}/task` whose name `keep` accepts.
fn tasks_cpu(proc_dir: &Path, keep: impl Fn(&str) -> bool) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut seen = false;
    for task in std::fs::read_dir(proc_dir.join("task")).ok()?.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if keep(name.trim_end()) {
            total += task_cpu(&path)?;
            seen = true;
        }
    }
    seen.then_some(total)
}

/// CPU time of every thread of process `pid`.
pub fn process(pid: u32) -> Option<Duration> {
    tasks_cpu(&Path::new("/proc").join(pid.to_string()), |_| true)
}

/// CPU time of the threads of this process whose name starts with one of `prefixes`.
/// Threads that already ended are not counted, so sample threads that live through the
/// measurement (a runtime's workers, a store thread).
pub fn own_threads(prefixes: &[&str]) -> Option<Duration> {
    tasks_cpu(Path::new("/proc/self"), |name| {
        prefixes.iter().any(|p| name.starts_with(p))
    })
}

/// Difference of two readings, if both exist.
pub fn delta(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_on_linux() {
        if !Path::new("/proc/self/task").is_dir() {
            assert_eq!(process(std::process::id()), None);
            return;
        }
        let before = process(std::process::id());
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = process(std::process::id());
        let spent = delta(before, after);
        assert!(spent.is_some_and(|d| d > Duration::ZERO), "{spent:?}");
        // No thread is named like this.
        assert_eq!(own_threads(&["no-such-thread-name"]), None);
    }
}
