//! Cases read a chunk at a time, the chunk's cases in parallel on every core (rayon), for a
//! reader that asks for them in order: decoding a corpus of images, or reading the `.npz` files
//! of a golden set, runs on every core while the backends run on theirs. Memory holds one chunk
//! ([`chunk_len`] cases) whatever the number of cases.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::Scope;

use rayon::prelude::*;

/// Items read at once: two for each thread of rayon's pool (one a core), so a slow item leaves
/// the other threads work.
pub fn chunk_len() -> usize {
    2 * rayon::current_num_threads().max(1)
}

/// Items `0..count` of `read`, handed out in increasing order; asking for an item before the
/// last one handed out (a second pass) reads again from there.
pub struct ReadAhead<'a, T> {
    read: Box<dyn Fn(usize) -> T + Send + Sync + 'a>,
    count: usize,
    chunk: usize,
    /// The index of `buffer`'s first item.
    start: usize,
    buffer: VecDeque<T>,
}

impl<'a, T: Send> ReadAhead<'a, T> {
    /// Items `0..count`, item `i` made by `read(i)`.
    pub fn new(read: impl Fn(usize) -> T + Send + Sync + 'a, count: usize) -> ReadAhead<'a, T> {
        let read = Box::new(read);
        ReadAhead { read, count, chunk: chunk_len(), start: 0, buffer: VecDeque::new() }
    }

    /// Item `k` (`k < count`).
    pub fn get(&mut self, k: usize) -> T {
        assert!(k < self.count, "item {k} of {}", self.count);
        if k < self.start || k >= self.start + self.buffer.len() {
            let end = (k + self.chunk).min(self.count);
            let read = &self.read;
            let items: Vec<T> = (k..end).into_par_iter().map(read).collect();
            self.buffer = items.into();
            self.start = k;
        }
        // Items skipped over are dropped unread by the caller.
        self.buffer.drain(..k - self.start);
        self.start = k + 1;
        self.buffer.pop_front().expect("the chunk holds item k")
    }
}

/// Every item of `ahead`, in order, read on a thread of `scope` while the caller works on the
/// ones before (at most a chunk waiting); the thread stops when the receiver is dropped.
pub fn in_background<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    mut ahead: ReadAhead<'scope, T>,
) -> Receiver<T> {
    let (tx, rx) = sync_channel(chunk_len());
    scope.spawn(move || {
        for k in 0..ahead.count {
            if tx.send(ahead.get(k)).is_err() {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn hands_out_every_item_in_order_and_reads_each_once_per_pass() {
        let reads = AtomicUsize::new(0);
        let read = |i: usize| {
            reads.fetch_add(1, Ordering::Relaxed);
            i * 10
        };
        let count = 3 * chunk_len() + 1;
        let mut ahead = ReadAhead::new(read, count);
        let first: Vec<usize> = (0..count).map(|k| ahead.get(k)).collect();
        assert_eq!(first, (0..count).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(reads.load(Ordering::Relaxed), count);
        // A second pass (the next wave of backends) reads again from the start.
        let second: Vec<usize> = (0..count).map(|k| ahead.get(k)).collect();
        assert_eq!(second, first);
        assert_eq!(reads.load(Ordering::Relaxed), 2 * count);
    }

    #[test]
    fn in_background_hands_out_every_item_in_order() {
        let count = 5 * chunk_len() + 3;
        let got: Vec<usize> = std::thread::scope(|scope| {
            in_background(scope, ReadAhead::new(|i: usize| i + 1, count)).into_iter().collect()
        });
        assert_eq!(got, (1..=count).collect::<Vec<_>>());
    }

    #[test]
    fn skips_items_not_asked_for() {
        let read = |i: usize| i;
        let mut ahead = ReadAhead::new(read, 100);
        assert_eq!(ahead.get(0), 0);
        assert_eq!(ahead.get(1), 1);
        assert_eq!(ahead.get(50), 50);
        assert_eq!(ahead.get(99), 99);
    }
}
