//! What the examples share: reading `--flag value` arguments, answering
//! `--help`, and reporting the check of a counter incremented under a lock.
//!
//! Each example includes it with `mod cli;`; a folder without `main.rs` is
//! not an example of its own.

#![allow(dead_code)] // Each example uses part of it.

use std::fmt::Display;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

/// Why reading the arguments produced no options.
pub enum Stop {
    /// `-h` or `--help`: print the usage and succeed.
    Help,
    /// A bad argument, said in one line: print it with the usage and fail.
    Bad(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Bad(message)
    }
}

impl From<&str> for Stop {
    fn from(message: &str) -> Self {
        Stop::Bad(message.to_string())
    }
}

/// The arguments after the program name, read as flags and their values.
pub struct Flags<I: Iterator<Item = String>> {
    args: I,
}

impl Flags<std::iter::Skip<std::env::Args>> {
    /// The process's own arguments.
    pub fn from_env() -> Self {
        Self::new(std::env::args().skip(1))
    }
}

impl<I: Iterator<Item = String>> Flags<I> {
    pub fn new(args: I) -> Self {
        Self { args }
    }

    /// The next flag, `None` at the end; `-h` and `--help` stop with
    /// [`Stop::Help`].
    pub fn next_flag(&mut self) -> Result<Option<String>, Stop> {
        match self.args.next() {
            Some(flag) if flag == "-h" || flag == "--help" => Err(Stop::Help),
            next => Ok(next),
        }
    }

    /// The value that follows `flag`, parsed.
    pub fn value<T>(&mut self, flag: &str) -> Result<T, Stop>
    where
        T: FromStr,
        T::Err: Display,
    {
        let text = self
            .args
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        Ok(text.parse().map_err(|err| format!("{flag}: {err}"))?)
    }
}

/// The error for a flag the example does not know.
pub fn unknown(flag: &str) -> Stop {
    Stop::Bad(format!("unknown argument `{flag}`"))
}

/// The options `parse` reads, or the exit code once the usage has been
/// printed: success for `--help`, failure (status 2) with the error first for
/// a bad argument.
pub fn options_or_exit<O>(
    usage: &str,
    parse: impl FnOnce() -> Result<O, Stop>,
) -> Result<O, ExitCode> {
    match parse() {
        Ok(options) => Ok(options),
        Err(Stop::Help) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(Stop::Bad(error)) => {
            eprintln!("error: {error}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// Prints the rate and whether the counter, incremented non-atomically once
/// per acquisition, lost anything; fails if it did.
pub fn check_counter(counter: u64, expected: u64, elapsed: Duration) -> ExitCode {
    let per_acquisition = elapsed.as_nanos() as f64 / expected.max(1) as f64;
    println!(
        "  {expected} acquisitions in {:.3} s, {per_acquisition:.0} ns each",
        elapsed.as_secs_f64()
    );
    if counter == expected {
        println!("  counter = {counter}: no increment lost");
        ExitCode::SUCCESS
    } else {
        println!(
            "  counter = {counter}, expected {expected}: {} increments LOST",
            expected.abs_diff(counter)
        );
        ExitCode::FAILURE
    }
}
