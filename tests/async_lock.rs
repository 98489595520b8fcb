//! The async lock on tokio's multi-threaded runtime: mutual exclusion over
//! a non-atomic counter, a FIFO audit, cancellation storms, and no task
//! stranded (every test runs under a watchdog that fails instead of
//! hanging). Under Miri (`.ci/run`'s `miri`) the same tests run small.

use doorway::asynch::{AsyncLock, AsyncParticipant};
use doorway_harness::fifo::{FirstPoll, overtakes};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

/// A test's lock, leaked for `'static` participants (a static cell would do
/// the same on a target without allocation). Kept reachable from a static,
/// so that Miri's leak check does not count it.
fn leak<const N: usize, T: Send + 'static>(value: T) -> &'static mut AsyncLock<N, T> {
    let lock: &'static mut AsyncLock<N, T> = Box::leak(Box::new(AsyncLock::new(value)));
    LEAKED
        .lock()
        .unwrap()
        .push(Leaked(lock as *const AsyncLock<N, T> as *const ()));
    lock
}

/// An address kept only so that the allocation stays reachable.
struct Leaked(#[allow(dead_code)] *const ());

// SAFETY: never dereferenced.
unsafe impl Send for Leaked {}

static LEAKED: std::sync::Mutex<Vec<Leaked>> = std::sync::Mutex::new(Vec::new());

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .unwrap()
}

/// Runs `test` on a fresh runtime, failing if it takes longer than
/// `limit` (a stranded task shows as this timeout).
fn watched<T, F: Future<Output = T> + Send + 'static>(
    workers: usize,
    limit: Duration,
    test: F,
) -> T {
    runtime(workers).block_on(async move {
        tokio::time::timeout(limit, test)
            .await
            .expect("a task was stranded: the test did not finish in time")
    })
}

/// Waits for every task; returns what the last one returned (its
/// participant, to look at the lock once all are done).
async fn last_of<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> T {
    let mut last = None;
    for task in tasks {
        last = Some(task.await.unwrap());
    }
    last.expect("at least one task")
}

/// A counter updated with a read, a yield and a write: two holders at once
/// lose an update.
#[test]
fn mutual_exclusion_on_a_non_atomic_counter() {
    const TASKS: usize = if cfg!(miri) { 3 } else { 8 };
    const ROUNDS: u64 = if cfg!(miri) { 4 } else { 300 };
    let participants: [AsyncParticipant<'static, TASKS, u64>; TASKS] =
        leak::<TASKS, u64>(0).participants();
    let mut me = watched(4, Duration::from_secs(60), async move {
        let tasks: Vec<_> = participants
            .into_iter()
            .map(|mut me| {
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        let mut guard = me.lock().await;
                        let seen = *guard;
                        tokio::task::yield_now().await;
                        *guard = seen + 1;
                    }
                    me
                })
            })
            .collect();
        last_of(tasks).await
    });
    assert_eq!(*me.try_lock().unwrap(), TASKS as u64 * ROUNDS);
}

#[test]
fn fifo_audit_no_overtakes() {
    const TASKS: usize = if cfg!(miri) { 3 } else { 8 };
    const ROUNDS: usize = if cfg!(miri) { 4 } else { 200 };
    static CLOCK: AtomicU64 = AtomicU64::new(0);
    let participants: [_; TASKS] = leak::<TASKS, Vec<(u64, u64)>>(Vec::new()).participants();
    let mut me = watched(4, Duration::from_secs(60), async move {
        let tasks: Vec<_> = participants
            .into_iter()
            .map(|mut me| {
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        let (mut guard, stamps) = FirstPoll::new(Box::pin(me.lock()), &CLOCK).await;
                        guard.push(stamps);
                        drop(guard);
                        tokio::task::yield_now().await;
                    }
                    me
                })
            })
            .collect();
        last_of(tasks).await
    });
    let entries = me.try_lock().unwrap().clone();
    assert_eq!(entries.len(), TASKS * ROUNDS);
    assert_eq!(overtakes(&entries), 0, "a later arrival entered first");
}

/// Small deterministic noise for the storms.
fn noise(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Half the acquisitions give up after a random short timeout, some through
/// `select!` against a sleep, some dropped right after their first poll;
/// holders keep the lock for a random moment. Every task finishes, the
/// count of entries matches the counter, and the lock ends free.
#[test]
fn cancellation_storm_strands_nobody() {
    const TASKS: usize = if cfg!(miri) { 3 } else { 8 };
    const ROUNDS: u64 = if cfg!(miri) { 8 } else { 300 };
    static ENTERED: AtomicU64 = AtomicU64::new(0);
    let participants: [_; TASKS] = leak::<TASKS, u64>(0).participants();
    let mut me = watched(4, Duration::from_secs(120), async move {
        let tasks: Vec<_> = participants
            .into_iter()
            .enumerate()
            .map(|(i, mut me)| {
                tokio::spawn(async move {
                    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1);
                    for _ in 0..ROUNDS {
                        let r = noise(&mut seed);
                        let guard = match r % 4 {
                            0 => {
                                let wait = Duration::from_micros(r % 200);
                                tokio::time::timeout(wait, me.lock()).await.ok()
                            }
                            1 => tokio::select! {
                                guard = me.lock() => Some(guard),
                                () = tokio::time::sleep(Duration::from_micros(r % 300)) => None,
                            },
                            2 => {
                                // Polled once (a place in line), then dropped.
                                let mut acquire = std::pin::pin!(me.lock());
                                let polled = futures::poll!(acquire.as_mut());
                                match polled {
                                    Poll::Ready(guard) => Some(guard),
                                    Poll::Pending => None,
                                }
                            }
                            _ => Some(me.lock().await),
                        };
                        if let Some(mut guard) = guard {
                            ENTERED.fetch_add(1, SeqCst);
                            *guard += 1;
                            if r.is_multiple_of(7) {
                                tokio::time::sleep(Duration::from_micros(50)).await;
                            } else {
                                tokio::task::yield_now().await;
                            }
                        }
                    }
                    me
                })
            })
            .collect();
        last_of(tasks).await
    });
    // `try_lock` fails while anyone holds a ticket: no cancelled waiter
    // left one.
    let count = *me.try_lock().expect("a cancelled waiter left a ticket");
    assert_eq!(count, ENTERED.load(SeqCst));
    assert!(count > 0);
}

/// A waiter woken and then dropped before it runs again passes the wake
/// on: the holder leaves, the next in line is cancelled at once, and the
/// one behind it must still get in.
#[test]
fn a_woken_waiter_cancelled_passes_the_wake_on() {
    let lock = leak::<3, u32>(0);
    let [mut holder, mut woken, mut behind] = lock.participants();
    watched(2, Duration::from_secs(30), async move {
        for _ in 0..if cfg!(miri) { 2 } else { 200 } {
            let held = holder.lock().await;
            let mut second = Box::pin(woken.lock());
            assert!(futures::poll!(second.as_mut()).is_pending());
            let third = tokio::spawn(async move {
                *behind.lock().await += 1;
                behind
            });
            // Let the third take its place behind the second.
            tokio::time::sleep(Duration::from_micros(100)).await;
            drop(held);
            // The second is now first (and woken); it goes away unpolled.
            drop(second);
            behind = third.await.unwrap();
        }
    });
}
