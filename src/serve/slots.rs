//! The connections the server holds at once, at most `max`, and which of them gives way when a
//! new one arrives at the limit: a connection still waiting for its client (for a request's head
//! or body, or idle between requests) may be closed to make room, the one waiting longest first;
//! one whose request is with the model may not. So slow clients that fill every place are pushed
//! out by the next client instead of locking everyone out, and the count stays bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

/// The places for connections; `take` one per accepted connection.
pub(crate) struct Slots {
    max: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    next: u64,
    slots: HashMap<u64, Entry>,
}

struct Entry {
    /// Since when the connection waits for its client; None while the model has its request.
    waiting_since: Option<Instant>,
    /// Tells the connection's task to close it.
    close: oneshot::Sender<()>,
}

/// One connection's place; dropping it frees the place.
pub(crate) struct Slot {
    id: u64,
    slots: Arc<Slots>,
}

impl Slots {
    /// Room for `max` connections (at least one).
    pub(crate) fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max: max.max(1),
            held: Mutex::new(Held::default()),
        })
    }

    /// A place for a new connection, and the signal that it must close (it was pushed out);
    /// at the limit, the connection waiting longest for its client is pushed out to make room.
    /// None when every held connection has a request with the model.
    pub(crate) fn take(self: &Arc<Self>) -> Option<(Slot, oneshot::Receiver<()>)> {
        let mut held = self.lock();
        if held.slots.len() >= self.max {
            let oldest = held
                .slots
                .iter()
                .filter_map(|(id, e)| e.waiting_since.map(|since| (since, *id)))
                .min()?
                .1;
            if let Some(pushed) = held.slots.remove(&oldest) {
                let _ = pushed.close.send(());
            }
        }
        let id = held.next;
        held.next += 1;
        let (close, closing) = oneshot::channel();
        held.slots.insert(
            id,
            Entry {
                waiting_since: Some(Instant::now()),
                close,
            },
        );
        let slot = Slot {
            id,
            slots: self.clone(),
        };
        Some((slot, closing))
    }

    /// Connections held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.lock().slots.len()
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        // The map stays consistent even if a holder panicked: every change is one statement.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Slot {
    /// The connection's request is whole and goes to the model: it may not be pushed out.
    pub(crate) fn busy(&self) {
        self.set_waiting(None);
    }

    /// The connection has its answer and waits for its client again.
    pub(crate) fn waiting(&self) {
        self.set_waiting(Some(Instant::now()));
    }

    fn set_waiting(&self, since: Option<Instant>) {
        if let Some(entry) = self.slots.lock().slots.get_mut(&self.id) {
            entry.waiting_since = since;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().slots.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_longest_waiting_connection_gives_way() {
        let slots = Slots::new(2);
        let (first, mut first_closing) = slots.take().unwrap();
        let (second, mut second_closing) = slots.take().unwrap();
        let (_third, _) = slots.take().expect("room made by pushing one out");
        assert_eq!(slots.held(), 2);
        assert!(
            first_closing.try_recv().is_ok(),
            "the oldest waiting gives way"
        );
        assert!(second_closing.try_recv().is_err());
        drop(first);
        assert_eq!(slots.held(), 2, "a pushed-out slot was already freed");
        drop(second);
        assert_eq!(slots.held(), 1);
    }

    #[test]
    fn connections_with_the_model_are_not_pushed_out() {
        let slots = Slots::new(2);
        let (first, mut first_closing) = slots.take().unwrap();
        let (second, mut second_closing) = slots.take().unwrap();
        first.busy();
        second.busy();
        assert!(
            slots.take().is_none(),
            "no room while both are with the model"
        );
        second.waiting();
        let (_third, _) = slots.take().expect("the one waiting again gives way");
        assert!(first_closing.try_recv().is_err());
        assert!(second_closing.try_recv().is_ok());
    }
}
