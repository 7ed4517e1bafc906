// Shared by every crate's `tests/fuzz_replay.rs` (pulled in with `include!`): the committed
// seed corpus of one fuzz target, and its replay through the target's logic on stable Rust.

/// `(file name, bytes)` of every file in `fuzz/corpus/<target>/`, sorted by name; panics when
/// the corpus is missing or empty (a target without seeds is a CI failure, not a pass).
#[allow(dead_code)]
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seed files in {}", dir.display());
    files
}

/// Runs `run` (the whole body of the fuzz target) over every seed of `target`, and names every
/// seed that made it panic.
#[allow(dead_code)]
fn replay(target: &str, run: fn(&[u8])) {
    let failed: Vec<String> = corpus(target)
        .into_iter()
        .filter(|(_, data)| std::panic::catch_unwind(|| run(data)).is_err())
        .map(|(name, _)| format!("corpus/{target}/{name}"))
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz target {target} panicked on seed {}",
        failed.join(", ")
    );
}
