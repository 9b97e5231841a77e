//! Progress reports and cancellation of an export.
//!
//! Exports of large heaps take seconds; the caller (the binding, which turns a report
//! into a Python callback and a check for Ctrl-C) is told `(done, total)` often enough
//! to show a bar and to cancel promptly, but rarely enough that the reports cost
//! nothing next to the writing: every 1% of the work, at most every 65,536 units.

use std::ops::ControlFlow;

use super::ExportError;

/// The caller's hook: given `(done, total)` work units, `Break` cancels the export.
pub type ProgressHook<'a> = &'a mut dyn FnMut(u64, u64) -> ControlFlow<()>;

/// Counts work units and reports them to the hook now and then.
pub(crate) struct Ticker<'a> {
    hook: ProgressHook<'a>,
    done: u64,
    total: u64,
    next: u64,
    step: u64,
}

impl<'a> Ticker<'a> {
    /// A ticker for `total` units; reports `(0, total)` at once, so that a caller
    /// cancelling before anything is written is heard.
    pub(crate) fn start(hook: ProgressHook<'a>, total: u64) -> Result<Self, ExportError> {
        let mut t = Ticker {
            hook,
            done: 0,
            total,
            next: 0,
            step: (total / 100).clamp(1, 1 << 16),
        };
        t.report()?;
        Ok(t)
    }

    /// One more unit done.
    #[inline]
    pub(crate) fn tick(&mut self) -> Result<(), ExportError> {
        self.advance(1)
    }

    /// `units` more done.
    #[inline]
    pub(crate) fn advance(&mut self, units: u64) -> Result<(), ExportError> {
        self.done += units;
        if self.done >= self.next {
            self.report()?;
        }
        Ok(())
    }

    /// Everything done: the last report is `(total, total)`.
    pub(crate) fn finish(&mut self) -> Result<(), ExportError> {
        if self.done != self.total || self.next != self.done + self.step {
            self.done = self.total;
            self.report()?;
        }
        Ok(())
    }

    fn report(&mut self) -> Result<(), ExportError> {
        self.next = self.done + self.step;
        match (self.hook)(self.done.min(self.total), self.total) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(ExportError::Cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_percent_from_zero_to_total_and_cancels_on_break() {
        let mut seen = Vec::new();
        let mut hook = |d: u64, t: u64| {
            seen.push((d, t));
            ControlFlow::Continue(())
        };
        let mut t = Ticker::start(&mut hook, 1000).unwrap();
        for _ in 0..1000 {
            t.tick().unwrap();
        }
        t.finish().unwrap();
        assert_eq!(seen.first(), Some(&(0, 1000)));
        assert_eq!(seen.last(), Some(&(1000, 1000)));
        assert_eq!(seen.len(), 101, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));

        let mut calls = 0;
        let mut stop = |d: u64, _| {
            calls += 1;
            if d >= 30 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let mut t = Ticker::start(&mut stop, 100).unwrap();
        let stopped_at = (0..100).position(|_| t.tick().is_err());
        assert_eq!(stopped_at, Some(29));
        assert_eq!(calls, 31);
    }
}
