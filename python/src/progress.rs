//! Progress of long calls, shown by Python. The library's bars
//! (`repcollapse::report::progress`) are hidden while the bindings are
//! loaded and handed to an observer; the observer keeps each bar created on
//! a call's worker thread in that call's [`Bars`], and the calling thread
//! (which wakes every 50 ms to check for Ctrl-C) passes the newest bar's
//! position to a Python callback (tqdm, or a text line; see
//! `repcollapse/_progress.py`).
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use pyo3::prelude::*;

thread_local! {
    static SINK: RefCell<Option<Arc<Mutex<Vec<ProgressBar>>>>> = const { RefCell::new(None) };
}

/// Installs the observer; called once when the module is imported.
pub fn install() {
    repcollapse::report::progress::set_observer(Some(Arc::new(|b: &ProgressBar| {
        SINK.with(|s| {
            if let Some(bars) = s.borrow().as_ref() {
                bars.lock().unwrap_or_else(|e| e.into_inner()).push(b.clone());
            }
        })
    })));
}

/// The bars of one call, and what was last reported to Python.
#[derive(Clone, Default)]
pub struct Bars {
    bars: Arc<Mutex<Vec<ProgressBar>>>,
    last: Arc<Mutex<Option<(u64, u64)>>>,
}

impl Bars {
    /// Routes bars created on the current thread (the call's worker) here.
    pub fn attach(&self) {
        SINK.with(|s| *s.borrow_mut() = Some(self.bars.clone()));
    }

    /// Calls `callback(position, length, message)` if the newest bar moved.
    pub fn report(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let newest = self.bars.lock().unwrap_or_else(|e| e.into_inner()).last().cloned();
        let Some(bar) = newest else { return Ok(()) };
        let now = (bar.position(), bar.length().unwrap_or(0));
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if *last != Some(now) {
            *last = Some(now);
            drop(last);
            callback.call1((now.0, now.1, bar.message()))?;
        }
        let _ = py;
        Ok(())
    }
}
