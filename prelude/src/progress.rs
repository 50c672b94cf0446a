//! `for x in progress(items)`: a progress bar updated in place, like tqdm in Jupyter.
//!
//! The bar is one display that is replaced, at most every 100 ms: a saved notebook keeps a
//! single output however long the loop, and a headless run isn't flooded with messages.
//! Iterating checks for interrupts, so a long loop stops when the user asks.

use std::time::{Duration, Instant};

use crate::display::{display, escape, DisplayHandle, MimeBundle, Render};
use crate::runtime::check_interrupt;

const REFRESH: Duration = Duration::from_millis(100);
const BAR_WIDTH: usize = 24;

/// Wraps an iterator so that iterating it shows a progress bar.
pub fn progress<I: IntoIterator>(items: I) -> Progress<I::IntoIter> {
    let items = items.into_iter();
    let total = match items.size_hint() {
        (low, Some(high)) if low == high => Some(high),
        _ => None,
    };
    Progress {
        items,
        state: State {
            description: String::new(),
            initial: 0,
            done: 0,
            total,
            started: Instant::now(),
        },
        handle: None,
        shown_at: None,
        finished: false,
    }
}

pub struct Progress<I> {
    items: I,
    state: State,
    handle: Option<DisplayHandle>,
    shown_at: Option<Instant>,
    /// The iterator ran out and the bar shows its final state.
    finished: bool,
}

impl<I> Progress<I> {
    /// A label before the bar: `progress(0..epochs).desc("epochs")`.
    pub fn desc(mut self, description: &str) -> Self {
        self.state.description = description.to_owned();
        self
    }

    /// The total, for iterators that don't know their length.
    pub fn total(mut self, total: usize) -> Self {
        self.state.total = Some(total);
        self
    }

    /// Starts the count at `done` (tqdm's `initial`): a resumed loop shows 11/25, not 1/15.
    pub fn initial(mut self, done: usize) -> Self {
        self.state.initial = done;
        self.state.done = done;
        self.state.total = self.state.total.map(|remaining| remaining + done);
        self
    }

    fn show(&mut self) {
        match &self.handle {
            Some(handle) => handle.update(&self.state),
            None => self.handle = Some(display(&self.state)),
        }
        self.shown_at = Some(Instant::now());
    }
}

impl<I: Iterator> Iterator for Progress<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        check_interrupt();
        if self.shown_at.is_none_or(|at| at.elapsed() >= REFRESH) {
            self.show();
        }
        let item = self.items.next();
        match item {
            Some(_) => self.state.done += 1,
            None if !self.finished => {
                self.state.total = Some(self.state.done);
                self.show();
                self.finished = true;
            }
            None => {}
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// A loop left early (`break`, `?`, a panic) still shows where it stopped.
impl<I> Drop for Progress<I> {
    fn drop(&mut self) {
        match &self.handle {
            Some(handle) if !self.finished => handle.update(&self.state),
            _ => {}
        }
    }
}

/// A snapshot of a loop's progress: what the bar shows.
#[derive(Debug, Clone)]
struct State {
    description: String,
    /// Counted before this loop started.
    initial: usize,
    done: usize,
    total: Option<usize>,
    started: Instant,
}

impl Render for State {
    fn render(&self) -> MimeBundle {
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (self.done - self.initial) as f64 / elapsed
        } else {
            0.0
        };
        let label = if self.description.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.description)
        };
        let (text, bar) = match self.total {
            Some(total) => {
                let fraction = if total == 0 {
                    1.0
                } else {
                    self.done as f64 / total as f64
                };
                let filled = (fraction * BAR_WIDTH as f64).round() as usize;
                let remaining = if rate > 0.0 {
                    (total.saturating_sub(self.done)) as f64 / rate
                } else {
                    0.0
                };
                let text = format!(
                    "{label}{:3.0}% |{}{}| {}/{total} [{}<{}, {rate:.2} it/s]",
                    fraction * 100.0,
                    "█".repeat(filled),
                    " ".repeat(BAR_WIDTH - filled.min(BAR_WIDTH)),
                    self.done,
                    clock(elapsed),
                    clock(remaining),
                );
                (
                    text,
                    format!(
                        "<progress value=\"{}\" max=\"{total}\" style=\"width:16em\"></progress>",
                        self.done
                    ),
                )
            }
            None => (
                format!("{label}{} [{}, {rate:.2} it/s]", self.done, clock(elapsed)),
                String::new(),
            ),
        };
        let html = format!(
            "<div style=\"display:flex;align-items:center;gap:0.6em;font-family:monospace\">{bar}<span>{}</span></div>",
            escape(&text)
        );
        MimeBundle::plain(text).with("text/html", html)
    }
}

fn clock(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}
