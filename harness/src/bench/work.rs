//! Calibrated busy work, for critical sections and gaps of a given length.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// About `nanos` ns of work that touches no shared memory.
#[derive(Clone, Copy, Debug)]
pub struct Work {
    nanos: u64,
    steps: u64,
}

impl Work {
    /// No work at all.
    pub const NONE: Work = Work { nanos: 0, steps: 0 };

    /// About `nanos` ns of arithmetic on this machine.
    pub fn nanos(nanos: u64) -> Work {
        let steps = (nanos as f64 * steps_per_nano()).round() as u64;
        Work { nanos, steps }
    }

    /// The length asked for, in ns.
    pub fn length(&self) -> u64 {
        self.nanos
    }

    /// Does the work.
    #[inline]
    pub fn run(&self) {
        spin_steps(self.steps);
    }
}

#[inline]
fn spin_steps(steps: u64) {
    let mut x = 1u64;
    for i in 0..steps {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    black_box(x);
}

/// Steps of [`spin_steps`] per ns, measured once per process.
fn steps_per_nano() -> f64 {
    static RATE: OnceLock<f64> = OnceLock::new();
    *RATE.get_or_init(|| {
        const STEPS: u64 = 20_000_000;
        spin_steps(STEPS / 10); // warm up
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                spin_steps(STEPS);
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::from_secs(1));
        STEPS as f64 / best.as_nanos().max(1) as f64
    })
}
