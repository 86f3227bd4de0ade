//! Catch-up progress of a node far behind its chain: on a terminal, a bar
//! per chain (indicatif) that log lines print above; otherwise, a log line
//! every [`LOG_EVERY`] with the height, the estimated tip, blocks per
//! second and the time left.
//!
//! [`LogWriter`] is the writer `gont start` gives its log subscriber, so
//! that a log line and a bar never draw over each other.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gont_core::{ChainId, Height};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a node without a terminal logs its progress.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// The bars, when stderr is a terminal.
fn bars() -> Option<&'static MultiProgress> {
    static BARS: OnceLock<Option<MultiProgress>> = OnceLock::new();
    BARS.get_or_init(|| {
        std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
    })
    .as_ref()
}

/// stderr for log lines: each line is written with the bars hidden, then
/// the bars are drawn again below it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match bars() {
            Some(bars) => bars.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Where catching up stands: the rate since it started and the time left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The height committed last.
    pub height: Height,
    /// The tip as estimated from the block's age.
    pub tip: Height,
    /// Blocks committed per second since catching up started.
    pub blocks_per_sec: f64,
    /// The time left at that rate; `None` before any block.
    pub left: Option<Duration>,
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{} of ~#{}, {:.1} blocks/s",
            self.height, self.tip, self.blocks_per_sec
        )?;
        match self.left {
            Some(left) => write!(f, ", ~{}s left", left.as_secs()),
            None => Ok(()),
        }
    }
}

/// One chain's catch-up, from the first block found behind to the tip.
#[derive(Debug)]
pub struct CatchUp {
    from: Height,
    started: Instant,
    last_log: Instant,
    bar: Option<ProgressBar>,
}

impl CatchUp {
    /// Catching up `chain` from `from`, at `now`.
    pub fn start(chain: ChainId, from: Height, now: Instant) -> Self {
        let bar = bars().map(|bars| {
            let bar = bars.add(ProgressBar::new(0));
            let style =
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} blocks, {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("chain {chain} catching up"));
            bar
        });
        Self {
            from,
            started: now,
            last_log: now,
            bar,
        }
    }

    /// The height catching up started from.
    pub fn from(&self) -> Height {
        self.from
    }

    /// The estimate at `height`, with the tip estimated at `tip`, at `now`.
    pub fn estimate(&self, height: Height, tip: Height, now: Instant) -> Estimate {
        let done = height.0.saturating_sub(self.from.0);
        let secs = now.duration_since(self.started).as_secs_f64();
        let blocks_per_sec = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let left = (blocks_per_sec > 0.0).then(|| {
            Duration::from_secs_f64(tip.0.saturating_sub(height.0) as f64 / blocks_per_sec)
        });
        Estimate {
            height,
            tip,
            blocks_per_sec,
            left,
        }
    }

    /// Records the block at `height` with the tip estimated at `tip`: moves
    /// the bar, or returns the estimate to log when [`LOG_EVERY`] has passed
    /// since the last one.
    pub fn advance(&mut self, height: Height, tip: Height, now: Instant) -> Option<Estimate> {
        let estimate = self.estimate(height, tip, now);
        if let Some(bar) = &self.bar {
            bar.set_length(tip.0.saturating_sub(self.from.0));
            bar.set_position(height.0.saturating_sub(self.from.0));
            bar.set_message(format!(
                "{:.1} blocks/s, ~{}s left",
                estimate.blocks_per_sec,
                estimate.left.map_or(0, |d| d.as_secs())
            ));
            return None;
        }
        if now.duration_since(self.last_log) < LOG_EVERY {
            return None;
        }
        self.last_log = now;
        Some(estimate)
    }

    /// Catching up is over: the bar goes; the blocks and the time it took.
    pub fn finish(self, height: Height, now: Instant) -> (u64, Duration) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        (
            height.0.saturating_sub(self.from.0),
            now.duration_since(self.started),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_rate_and_time_left_and_logs_every_ten_seconds() {
        let t0 = Instant::now();
        let mut catch_up = CatchUp {
            from: Height(100),
            started: t0,
            last_log: t0,
            bar: None,
        };
        // 50 blocks in 5 s: 10 blocks/s, 850 to go: 85 s.
        let at5 = t0 + Duration::from_secs(5);
        assert_eq!(catch_up.advance(Height(150), Height(1000), at5), None);
        let at10 = t0 + Duration::from_secs(10);
        let logged = catch_up.advance(Height(200), Height(1000), at10).unwrap();
        assert_eq!(logged.blocks_per_sec, 10.0);
        assert_eq!(logged.left, Some(Duration::from_secs(80)));
        assert_eq!(
            logged.to_string(),
            "#200 of ~#1000, 10.0 blocks/s, ~80s left"
        );
        // The next line only ten seconds later.
        assert_eq!(
            catch_up.advance(Height(210), Height(1000), at10 + Duration::from_secs(9)),
            None
        );
        assert!(
            catch_up
                .advance(Height(300), Height(1000), at10 + Duration::from_secs(10))
                .is_some()
        );
        assert_eq!(
            catch_up.finish(Height(1000), t0 + Duration::from_secs(60)),
            (900, Duration::from_secs(60))
        );
        // No block yet: no rate, no time left.
        let fresh = CatchUp {
            from: Height(5),
            started: t0,
            last_log: t0,
            bar: None,
        };
        assert_eq!(fresh.estimate(Height(5), Height(9), t0).left, None);
    }
}
