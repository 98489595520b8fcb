//! Fairness over fixed-length runs, which criterion (it measures time only)
//! cannot express: per-thread acquisition counts (max/min and Jain's index)
//! and, for the FIFO locks, an audit of overtakes, which must be zero.
//!
//! Runs every lock for `DURATION` at one thread per core and at twice that,
//! prints the tables, and writes them to `target/doorway-bench/fairness.csv`
//! and `fairness.md`.

use doorway_harness::bench as harness;

use harness::pool::Pool;
use harness::stats::machine;
use harness::work::Work;
use harness::{contention_rows, contention_table};
use std::path::Path;
use std::time::Duration;

const DURATION: Duration = Duration::from_secs(2);

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` lists criterion benches; nothing here.
    }
    let cores = Pool::global().cores();
    let mut markdown = format!("Fairness, {} s runs, {}\n\n", DURATION.as_secs(), machine());
    let mut csv = String::new();
    for threads in [cores, 2 * cores] {
        let rows = contention_rows(
            threads,
            DURATION,
            Work::NONE,
            Work::NONE,
            &|_| true,
            |name| {
                eprintln!("fairness: {name}, {threads} threads");
            },
        );
        let table = contention_table(&rows);
        println!("\n{threads} threads on {cores} cores:\n{}", table.render());
        markdown += &format!("{threads} threads:\n\n{}\n\n", table.render());
        csv += &table.csv();
        assert!(
            rows.iter().all(|row| row.lost == 0),
            "a lock lost increments"
        );
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../doorway-bench");
    std::fs::create_dir_all(&dir).expect("create target/doorway-bench");
    std::fs::write(dir.join("fairness.csv"), csv).expect("write fairness.csv");
    std::fs::write(dir.join("fairness.md"), markdown).expect("write fairness.md");
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("\nwritten to {}", dir.display());
}
