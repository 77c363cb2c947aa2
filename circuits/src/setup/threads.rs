//! Thread use at small sizes.
//!
//! Key generation and verification are sequences of small multi-exponentiations (one per committed
//! column). At small k each is faster on one thread than split across several: measured on the 2-core
//! reference machine (with the previous backend), rebuilding the digits MLP's verifying key at k = 7
//! took 19 ms on one thread and 47 ms on two.

/// Up to this k, key generation and verification run on one thread.
pub const SINGLE_THREAD_MAX_K: u32 = 11;

/// Run `f` on a one-thread pool when `k` is small, on the current pool otherwise.
#[cfg(not(target_arch = "wasm32"))]
pub fn on_one_thread_if_small<R: Send>(k: u32, f: impl FnOnce() -> R + Send) -> R {
    if k > SINGLE_THREAD_MAX_K {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// In the browser (wasm32) there is only the calling thread.
#[cfg(target_arch = "wasm32")]
pub fn on_one_thread_if_small<R: Send>(_k: u32, f: impl FnOnce() -> R + Send) -> R {
    f()
}
