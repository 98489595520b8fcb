//! What each lock costs and what it buys: every doorway lock and the
//! baselines (`spin::TicketMutex`, `parking_lot::Mutex`, `std::sync::Mutex`)
//! run the same contended counter in turn, on the benches' pinned thread pool.
//!
//! ```text
//! cargo run --release --example contention -- [--threads N] [--duration SECS] [--cs NS]
//! ```
//!
//! At the end it prints, per lock: throughput, the ratio to the ticket lock,
//! fairness (most acquisitions by one thread over fewest, and Jain's index),
//! FIFO overtakes found by an audit of the FIFO locks (must be 0),
//! increments lost by the non-atomic counter (must be 0), and the core-to-core
//! cache-line round trip measured right after each lock's run.

mod cli;
#[path = "../benches/harness/mod.rs"]
mod harness;

use cli::{Flags, Stop};
use harness::contenders::lineup_len;
use harness::pool::Pool;
use harness::stats::machine;
use harness::work::Work;
use harness::{contention_rows, contention_table};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: contention [--threads N] [--duration SECS] [--cs NS]

Runs every lock in turn on one contended counter and prints a table of
throughput, ratio to the ticket lock, fairness and lost increments.

  --threads N       threads contending (default: one per core; at most 4 per core)
  --duration SECS   seconds for the whole lineup, split evenly (default: 16)
  --cs NS           nanoseconds of work inside each critical section (default: 0)
  -h, --help        this text";

struct Options {
    threads: usize,
    duration: Duration,
    critical_section: Work,
}

fn parse(pool: &Pool) -> Result<Options, Stop> {
    let mut threads = pool.cores();
    let mut seconds: f64 = 16.0;
    let mut cs_nanos: u64 = 0;
    let mut flags = Flags::from_env();
    while let Some(flag) = flags.next_flag()? {
        match flag.as_str() {
            "--threads" => threads = flags.value(&flag)?,
            "--duration" => seconds = flags.value(&flag)?,
            "--cs" => cs_nanos = flags.value(&flag)?,
            other => return Err(cli::unknown(other)),
        }
    }
    if !(1..=pool.capacity()).contains(&threads) {
        let capacity = pool.capacity();
        return Err(format!("--threads must be between 1 and {capacity} (4 per core)").into());
    }
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err("--duration must be more than 0 and at most 3600 seconds".into());
    }
    if cs_nanos > 1_000_000 {
        return Err("--cs must be at most 1000000 ns".into());
    }
    Ok(Options {
        threads,
        duration: Duration::from_secs_f64(seconds),
        critical_section: Work::nanos(cs_nanos),
    })
}

fn main() -> ExitCode {
    let pool = Pool::global();
    let options = match cli::options_or_exit(USAGE, || parse(pool)) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let locks = lineup_len();
    let per_lock = options.duration / locks as u32;
    println!(
        "contention: {} threads on {} ({} ns in each critical section), {:.1} s per lock",
        options.threads,
        machine(),
        options.critical_section.length(),
        per_lock.as_secs_f64()
    );
    let start = Instant::now();
    let mut done = 0;
    let rows = contention_rows(
        options.threads,
        per_lock,
        options.critical_section,
        Work::NONE,
        |name| {
            done += 1;
            print!(
                "\r  [{done}/{locks}] {name:<24} ({:.0} s elapsed)   ",
                start.elapsed().as_secs_f64()
            );
            let _ = std::io::stdout().flush();
        },
    );
    println!(
        "\r  all {locks} locks done in {:.1} s{:30}\n",
        start.elapsed().as_secs_f64(),
        ""
    );
    println!("{}", contention_table(&rows).render());

    let lost: u64 = rows.iter().map(|row| row.lost).sum();
    let overtakes: usize = rows.iter().filter_map(|row| row.overtakes).sum();
    println!("\nlost increments: {lost} (must be 0); FIFO overtakes: {overtakes} (must be 0)");
    if lost == 0 && overtakes == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
