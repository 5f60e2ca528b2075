//! Progress bars of long runs (ensembles, sweeps). The CLI draws them on
//! stderr. A program that embeds the library and has no terminal (the
//! Python bindings in a notebook) installs an *observer* instead: every bar
//! created afterwards is hidden and handed to the observer, which reads its
//! position and length (`ProgressBar` is a shared handle) and shows them its
//! own way.
use std::sync::{Arc, RwLock};

use indicatif::{ProgressBar, ProgressDrawTarget};

/// Receives every bar created by [`bar`] while it is installed.
pub type Observer = Arc<dyn Fn(&ProgressBar) + Send + Sync>;

static OBSERVER: RwLock<Option<Observer>> = RwLock::new(None);

/// Installs (`Some`) or removes (`None`) the process-wide observer.
pub fn set_observer(observer: Option<Observer>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = observer;
}

/// A bar of `len` steps: hidden when `enabled` is false; otherwise drawn on
/// stderr, or, with an observer installed, hidden and given to the observer.
pub fn bar(len: u64, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let observer = OBSERVER.read().unwrap_or_else(|e| e.into_inner()).clone();
    match observer {
        Some(observe) => {
            let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
            observe(&b);
            b
        }
        None => ProgressBar::new(len),
    }
}

/// The bar of an ensemble of `seeds` seeds, one step per finished seed,
/// labelled `name` (`Model E ensemble`): what `simulate` of every model shows.
pub fn seeds_bar(seeds: u64, enabled: bool, name: &str) -> ProgressBar {
    let b = bar(seeds, enabled);
    b.set_style(indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} seeds ({eta})").expect("valid template"));
    b.set_message(name.to_string());
    b
}

/// Advances a bar by one when dropped: one finished seed, on every path out
/// of the seed's closure (the `?` returns included).
pub struct BarStep<'a>(pub &'a ProgressBar);

impl Drop for BarStep<'_> {
    fn drop(&mut self) {
        self.0.inc(1);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn observer_sees_position_of_hidden_bar() {
        let seen: Arc<Mutex<Vec<ProgressBar>>> = Arc::default();
        let sink = seen.clone();
        set_observer(Some(Arc::new(move |b: &ProgressBar| sink.lock().unwrap().push(b.clone()))));
        let b = bar(10, true);
        b.inc(3);
        assert!(bar(5, false).is_hidden() && seen.lock().unwrap().len() == 1);
        set_observer(None);
        let observed = &seen.lock().unwrap()[0];
        assert_eq!((observed.position(), observed.length()), (3, Some(10)));
        assert!(observed.is_hidden());
    }
}
