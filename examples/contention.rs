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
//! FIFO overtakes found by an audit of the FIFO locks (must be 0), and
//! increments lost by the non-atomic counter (must be 0).

#[path = "../benches/harness/mod.rs"]
mod harness;

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

fn parse(args: impl Iterator<Item = String>, pool: &Pool) -> Result<Option<Options>, String> {
    let mut threads = pool.cores();
    let mut seconds = 16.0;
    let mut cs_nanos = 0;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--threads" => {
                threads = value("--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?;
            }
            "--duration" => {
                seconds = value("--duration")?
                    .parse()
                    .map_err(|e| format!("--duration: {e}"))?;
            }
            "--cs" => cs_nanos = value("--cs")?.parse().map_err(|e| format!("--cs: {e}"))?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !(1..=pool.capacity()).contains(&threads) {
        return Err(format!(
            "--threads must be between 1 and {} (4 per core)",
            pool.capacity()
        ));
    }
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err("--duration must be more than 0 and at most 3600 seconds".to_string());
    }
    if cs_nanos > 1_000_000 {
        return Err("--cs must be at most 1000000 ns".to_string());
    }
    Ok(Some(Options {
        threads,
        duration: Duration::from_secs_f64(seconds),
        critical_section: Work::nanos(cs_nanos),
    }))
}

fn main() -> ExitCode {
    let pool = Pool::global();
    let options = match parse(std::env::args().skip(1), pool) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
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
