//! The board a pool of workers pulls a streamed run's work from: loading a backend's model, and
//! running a chunk of cases on one of its loaded instances. The reader puts chunks up in case
//! order; any worker takes any backend's next chunk (the backend furthest behind first), so fast
//! backends never wait for slow ones and the slowest one gets every core once the others are
//! done. A chunk stays on the board until every backend still running has run it, and the board
//! holds at most [`Board::new`]'s `window` chunks: memory is bounded whatever the number of cases.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use parity_core::Runnable;

use crate::stream::StreamCase;

/// A run of consecutive cases, the unit a worker takes.
pub struct Chunk {
    /// Its place among the run's chunks (0, 1, ...).
    pub index: usize,
    /// Its cases, in order.
    pub cases: Vec<Arc<StreamCase>>,
}

/// Work a worker took from the board.
pub enum Task {
    /// Load backend `backend`'s first instance.
    Load(usize),
    /// Run `chunk` on `backend`, on `instance` (`None`: load another instance first).
    Run { backend: usize, chunk: Arc<Chunk>, instance: Option<Box<dyn Runnable>> },
}

/// One backend's standing on the board.
#[derive(Default)]
struct Lane {
    /// Loaded instances no worker holds.
    idle: Vec<Box<dyn Runnable>>,
    /// Instances made or being made.
    instances: usize,
    /// Its first instance is loaded.
    loaded: bool,
    /// Its first instance is being loaded.
    loading: bool,
    /// The next chunk it runs.
    next: usize,
    /// It failed or was refused: it takes no more chunks.
    stopped: bool,
}

/// The board's state, under its lock.
struct State {
    lanes: Vec<Lane>,
    /// Chunks up, from `base` on, each with how many backends have yet to run it.
    window: VecDeque<(Arc<Chunk>, usize)>,
    /// The index of the window's first chunk.
    base: usize,
    /// No more chunks will come.
    read_all: bool,
    /// The run ends now (the reader failed).
    aborted: bool,
}

impl State {
    fn live(&self) -> usize {
        self.lanes.iter().filter(|l| !l.stopped).count()
    }

    /// A load nobody has started, else the next chunk of the live, loaded backend furthest behind
    /// that has an instance free or may make one (`last`, the worker's previous backend, first
    /// among equals, so a worker keeps its caches warm).
    fn pick(&mut self, last: Option<usize>, per_backend: usize) -> Option<Task> {
        if let Some(b) = self.lanes.iter().position(|l| !l.loaded && !l.loading && !l.stopped) {
            let lane = &mut self.lanes[b];
            lane.loading = true;
            lane.instances += 1;
            return Some(Task::Load(b));
        }
        let end = self.base + self.window.len();
        let ready = |l: &Lane| {
            l.loaded
                && !l.stopped
                && l.next < end
                && (!l.idle.is_empty() || l.instances < per_backend)
        };
        let mut order: Vec<usize> = (0..self.lanes.len()).collect();
        order.sort_by_key(|&b| (self.lanes[b].next, Some(b) != last, b));
        let b = order.into_iter().find(|&b| ready(&self.lanes[b]))?;
        let lane = &mut self.lanes[b];
        let chunk = Arc::clone(&self.window[lane.next - self.base].0);
        lane.next += 1;
        let instance = lane.idle.pop();
        if instance.is_none() {
            lane.instances += 1;
        }
        Some(Task::Run { backend: b, chunk, instance })
    }

    /// Chunk `index` needs one backend fewer; chunks every backend has run leave the window.
    fn release(&mut self, index: usize) {
        if let Some(slot) = index.checked_sub(self.base).and_then(|i| self.window.get_mut(i)) {
            slot.1 -= 1;
        }
        while self.window.front().is_some_and(|(_, remaining)| *remaining == 0) {
            self.window.pop_front();
            self.base += 1;
        }
    }

    /// Backend `b` takes no more chunks: the ones it has not taken no longer wait for it.
    fn stop(&mut self, b: usize) {
        if self.lanes[b].stopped {
            return;
        }
        let lane = &mut self.lanes[b];
        lane.stopped = true;
        lane.idle.clear();
        let first = lane.next.max(self.base);
        lane.next = usize::MAX;
        for index in first..self.base + self.window.len() {
            self.window[index - self.base].1 -= 1;
        }
        self.release(usize::MAX);
    }

    fn finished(&self) -> bool {
        self.aborted
            || (self.read_all
                && self.window.is_empty()
                && self.lanes.iter().all(|l| l.stopped || (l.loaded && !l.loading)))
    }
}

/// `mutex`'s guard, even after a panic while it was held: workers panic only outside their locks
/// (backend code runs unlocked, and a panic in it is caught), so the state is whole.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The board: chunks put up by the reader, tasks taken by workers.
pub struct Board {
    state: Mutex<State>,
    changed: Condvar,
    /// Chunks held at most.
    window: usize,
    /// Instances a backend may have at most.
    per_backend: usize,
}

impl Board {
    /// A board for `backends` backends holding at most `window` chunks, each backend with at
    /// most `per_backend` instances.
    pub fn new(backends: usize, window: usize, per_backend: usize) -> Board {
        let state = State {
            lanes: (0..backends).map(|_| Lane::default()).collect(),
            window: VecDeque::new(),
            base: 0,
            read_all: false,
            aborted: false,
        };
        let (window, per_backend) = (window.max(1), per_backend.max(1));
        Board { state: Mutex::new(state), changed: Condvar::new(), window, per_backend }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Puts `cases` up as the next chunk once the window has room; false (and nothing put up)
    /// when no backend is running any more.
    pub fn put(&self, cases: Vec<Arc<StreamCase>>) -> bool {
        let mut state = self.lock();
        while state.window.len() >= self.window && state.live() > 0 && !state.aborted {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        let live = state.live();
        if live == 0 || state.aborted {
            return false;
        }
        let index = state.base + state.window.len();
        state.window.push_back((Arc::new(Chunk { index, cases }), live));
        self.changed.notify_all();
        true
    }

    /// No more chunks will come; `aborted`: the run ends without them.
    pub fn close(&self, aborted: bool) {
        let mut state = self.lock();
        state.read_all = true;
        state.aborted |= aborted;
        self.changed.notify_all();
    }

    /// The next task for a worker whose previous task was on backend `last`, once there is one;
    /// `None` when the run is over.
    pub fn take(&self, last: Option<usize>) -> Option<Task> {
        let mut state = self.lock();
        loop {
            if state.finished() {
                return None;
            }
            if let Some(task) = state.pick(last, self.per_backend) {
                return Some(task);
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// A backend's first instance loaded (`Some`), or refused (`None`: it stops).
    pub fn loaded(&self, backend: usize, instance: Option<Box<dyn Runnable>>) {
        let mut state = self.lock();
        let lane = &mut state.lanes[backend];
        lane.loading = false;
        match instance {
            Some(instance) => {
                lane.loaded = true;
                lane.idle.push(instance);
            }
            None => state.stop(backend),
        }
        self.changed.notify_all();
    }

    /// A worker ran chunk `index` on `backend`, handing back its instance (`None`: it could not
    /// be loaded); `failed`: the backend stops.
    pub fn ran(
        &self,
        backend: usize,
        index: usize,
        instance: Option<Box<dyn Runnable>>,
        failed: bool,
    ) {
        let mut state = self.lock();
        let lane = &mut state.lanes[backend];
        match instance {
            Some(instance) if !lane.stopped && !failed => lane.idle.push(instance),
            Some(_) => {}
            None => lane.instances -= 1,
        }
        state.release(index);
        if failed {
            state.stop(backend);
        }
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(i: usize) -> Arc<StreamCase> {
        let (inputs, expected) = Default::default();
        Arc::new(StreamCase { name: format!("case_{i}"), inputs, expected })
    }

    fn instance() -> Box<dyn Runnable> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models/ssrnet_legacy_dynamic.onnx");
        let options = parity_core::Options::with_threads(Some(1));
        crate::BackendName::Tract.runtime().prepare(&path, &options).unwrap()
    }

    /// Takes a task that must be there now.
    fn take(board: &Board, last: Option<usize>) -> Task {
        board.state.lock().unwrap().pick(last, board.per_backend).expect("a task")
    }

    fn run_of(task: Task) -> (usize, usize, Option<Box<dyn Runnable>>) {
        match task {
            Task::Run { backend, chunk, instance } => (backend, chunk.index, instance),
            Task::Load(b) => panic!("a load of backend {b}, not a run"),
        }
    }

    #[test]
    fn loads_come_first_then_the_backend_furthest_behind_runs() {
        let board = Board::new(2, 4, 1);
        assert!(matches!(take(&board, None), Task::Load(0)));
        assert!(matches!(take(&board, None), Task::Load(1)));
        board.loaded(0, Some(instance()));
        board.loaded(1, Some(instance()));
        for i in 0..3 {
            assert!(board.put(vec![case(i)]));
        }
        // Backend 0 runs chunk 0, then (one instance each) backend 1 is the one free.
        let (b, index, held0) = run_of(take(&board, Some(0)));
        assert_eq!((b, index), (0, 0));
        let (b, index, held1) = run_of(take(&board, Some(0)));
        assert_eq!((b, index), (1, 0));
        assert!(board.state.lock().unwrap().pick(None, 1).is_none(), "both instances are held");
        board.ran(0, 0, held0, false);
        // Chunk 0 waits for backend 1; backend 0 goes on to chunk 1.
        assert_eq!(board.state.lock().unwrap().base, 0);
        let (b, index, held0) = run_of(take(&board, Some(0)));
        assert_eq!((b, index), (0, 1));
        board.ran(1, 0, held1, false);
        assert_eq!(board.state.lock().unwrap().base, 1, "every backend ran chunk 0");
        // Backend 1 is now furthest behind (chunk 1) and gets the free instance first.
        board.ran(0, 1, held0, false);
        let (b, index, _) = run_of(take(&board, Some(0)));
        assert_eq!((b, index), (1, 1));
    }

    #[test]
    fn the_window_holds_at_most_its_chunks_until_every_backend_ran_them() {
        let board = Board::new(1, 2, 1);
        assert!(matches!(take(&board, None), Task::Load(0)));
        board.loaded(0, Some(instance()));
        assert!(board.put(vec![case(0)]));
        assert!(board.put(vec![case(1)]));
        std::thread::scope(|scope| {
            let third = scope.spawn(|| board.put(vec![case(2)]));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!third.is_finished(), "a third chunk waits for room");
            assert_eq!(board.state.lock().unwrap().window.len(), 2);
            let (_, index, held) = run_of(board.take(Some(0)).unwrap());
            board.ran(0, index, held, false);
            assert!(third.join().unwrap(), "room made, the chunk is up");
        });
        assert_eq!(board.state.lock().unwrap().window.len(), 2);
    }

    #[test]
    fn a_stopped_backend_no_longer_holds_chunks_and_the_run_ends() {
        let board = Board::new(2, 4, 2);
        assert!(matches!(take(&board, None), Task::Load(0)));
        assert!(matches!(take(&board, None), Task::Load(1)));
        board.loaded(0, Some(instance()));
        board.loaded(1, None);
        assert!(board.put(vec![case(0)]));
        let (b, index, held) = run_of(take(&board, None));
        assert_eq!((b, index), (0, 0));
        board.ran(0, 0, held, true);
        assert!(board.state.lock().unwrap().window.is_empty());
        assert!(!board.put(vec![case(1)]), "no backend runs any more");
        board.close(false);
        assert!(board.take(None).is_none());
    }
}
