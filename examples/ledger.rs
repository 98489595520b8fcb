//! A replicated bank ledger on a Paxos log: one replica per thread, no lock
//! anywhere, and every replica ends in the same state.
//!
//! Each replica thread appends random transfers to a shared `PaxosLog` and
//! applies the log, in order, to its own private copy of the accounts. A
//! transfer that would overdraw its source account is rejected, so the result
//! depends on the order of the transfers: replicas that applied them in
//! different orders would disagree on balances. They do not, because the log
//! decides one order for everyone. At the end the demo prints each replica's
//! state and checks that all are identical and that no money was created or
//! lost.
//!
//! ```text
//! cargo run --release -p doorway --example ledger -- [--transfers N]
//! ```

mod cli;

use cli::Stop;
use doorway::paxos::log::PaxosLog;
use std::process::ExitCode;
use std::sync::Barrier;

/// Replicas, one thread each.
const REPLICAS: usize = 4;
/// Accounts in the ledger.
const ACCOUNTS: usize = 5;
/// Every account's opening balance.
const OPENING: i64 = 100;

/// A command in the log: move `amount` from one account to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transfer {
    /// Unique per command: the replica that issued it and its sequence number.
    id: (usize, usize),
    from: usize,
    to: usize,
    amount: i64,
}

/// One replica's private state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ledger {
    balances: [i64; ACCOUNTS],
    applied: usize,
    rejected: usize,
    /// A running hash of the ids applied, in order: equal digests mean the
    /// same sequence (with overwhelming probability).
    digest: u64,
}

impl Ledger {
    fn new() -> Self {
        Self {
            balances: [OPENING; ACCOUNTS],
            applied: 0,
            rejected: 0,
            digest: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn apply(&mut self, transfer: &Transfer) {
        if self.balances[transfer.from] >= transfer.amount {
            self.balances[transfer.from] -= transfer.amount;
            self.balances[transfer.to] += transfer.amount;
        } else {
            self.rejected += 1;
        }
        self.applied += 1;
        for part in [transfer.id.0, transfer.id.1] {
            self.digest = (self.digest ^ part as u64).wrapping_mul(0x100_0000_01b3);
        }
    }

    /// Applies the log's slots from `self.applied` up to `end`, all decided.
    fn catch_up(&mut self, log: &PaxosLog<Transfer, REPLICAS>, end: usize) {
        while self.applied < end {
            let transfer = log
                .get(self.applied)
                .expect("every slot below `end` is decided");
            self.apply(transfer);
        }
    }
}

fn parse_transfers() -> Result<usize, Stop> {
    let mut transfers = 2_000;
    cli::read_args(|flag, args| {
        match flag {
            "--transfers" => transfers = cli::value(flag, args)?,
            other => return Err(cli::unknown(other)),
        }
        Ok(())
    })?;
    Ok(transfers)
}

/// A small deterministic generator for the random transfers (xorshift64).
fn xorshift(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed | 1;
    std::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(state)
    })
}

const USAGE: &str = "\
usage: ledger [--transfers N]

  --transfers N   transfers each of the 4 replicas appends (default: 2000)";

fn main() -> ExitCode {
    let transfers = match cli::options_or_exit(USAGE, parse_transfers) {
        Ok(transfers) => transfers,
        Err(exit) => return exit,
    };
    println!(
        "A bank ledger replicated on a PaxosLog: {REPLICAS} replica threads, {ACCOUNTS} accounts \
         of {OPENING}, {transfers} transfers appended by each replica"
    );

    let mut log = PaxosLog::<Transfer, REPLICAS>::with_capacity(REPLICAS * transfers);
    let appended = Barrier::new(REPLICAS);
    let ledgers: Vec<Ledger> = std::thread::scope(|s| {
        let handles: Vec<_> = log
            .replicas()
            .into_iter()
            .map(|mut replica| {
                let appended = &appended;
                s.spawn(move || {
                    let me = replica.index();
                    let mut random = xorshift(0x1ed9e5 + me as u64);
                    let mut ledger = Ledger::new();
                    for seq in 0..transfers {
                        let draw = random.next().expect("an endless generator");
                        let from = (draw % ACCOUNTS as u64) as usize;
                        let to = (from + 1 + (draw >> 8) as usize % (ACCOUNTS - 1)) % ACCOUNTS;
                        let amount = 1 + (draw >> 16) as i64 % 60;
                        let transfer = Transfer {
                            id: (me, seq),
                            from,
                            to,
                            amount,
                        };
                        let slot = replica
                            .append(transfer)
                            .expect("the log has a slot per transfer");
                        // Everything up to our own slot is decided: apply it.
                        ledger.catch_up(replica.log(), slot + 1);
                    }
                    // Once every replica has appended, the log is complete.
                    appended.wait();
                    ledger.catch_up(replica.log(), replica.log().len());
                    ledger
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a replica panicked"))
            .collect()
    });

    for (me, ledger) in ledgers.iter().enumerate() {
        println!(
            "  replica {me}: applied {}, rejected {} overdrafts, digest {:016x}, balances {:?}",
            ledger.applied, ledger.rejected, ledger.digest, ledger.balances
        );
    }
    let identical = ledgers.iter().all(|ledger| *ledger == ledgers[0]);
    let total: i64 = ledgers[0].balances.iter().sum();
    let complete = ledgers[0].applied == REPLICAS * transfers;
    println!(
        "  log length {} of {} slots; money in the ledger: {total} (opened with {})",
        log.len(),
        log.capacity(),
        OPENING * ACCOUNTS as i64
    );
    if identical && complete && total == OPENING * ACCOUNTS as i64 {
        println!(
            "  all {REPLICAS} replicas are identical, every transfer was applied once, and no lock was taken"
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "  REPLICAS DIVERGED (identical: {identical}, complete: {complete}, total: {total})"
        );
        ExitCode::FAILURE
    }
}
