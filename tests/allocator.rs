//! The running bot allocates with jemalloc, configured as `src/main.rs`
//! says: its background thread is what hands freed memory back to the
//! system within about a second (without it, jemalloc waits for a later
//! allocation to notice, and RSS after traffic stayed about 30 MiB higher
//! with 1M known users). If the compiled-in options were ignored (a
//! renamed symbol, another allocator), there would be no such thread.

mod support;

use std::time::{Duration, Instant};
use support::spawn_app;

/// The names of a process's threads.
fn thread_names(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn the_bot_runs_jemalloc_with_its_background_thread() {
    let mut app = spawn_app().await;
    let pid = app.pid().expect("the bot runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut names = thread_names(pid);
    while !names.iter().any(|name| name == "jemalloc_bg_thd") {
        assert!(
            Instant::now() < deadline,
            "no jemalloc background thread among the bot's threads: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        names = thread_names(pid);
    }
    app.kill();
}
