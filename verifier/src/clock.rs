//! A stopwatch for the verdict's timings: std's `Instant` natively, `performance.now()` in the
//! browser (where `Instant::now` panics on wasm32-unknown-unknown).

/// Measures elapsed wall-clock time.
#[cfg(not(target_arch = "wasm32"))]
pub struct Stopwatch(std::time::Instant);

#[cfg(not(target_arch = "wasm32"))]
impl Stopwatch {
    /// Start measuring now.
    pub fn start() -> Self {
        Stopwatch(std::time::Instant::now())
    }

    /// Seconds since `start`.
    pub fn secs(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        /// Milliseconds, from the page's (or worker's) global `performance` object.
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        pub fn performance_now() -> f64;
    }
}

/// Measures elapsed wall-clock time (with the browser's `performance.now()`, in milliseconds).
#[cfg(target_arch = "wasm32")]
pub struct Stopwatch(f64);

#[cfg(target_arch = "wasm32")]
impl Stopwatch {
    /// Start measuring now.
    pub fn start() -> Self {
        Stopwatch(js::performance_now())
    }

    /// Seconds since `start`.
    pub fn secs(&self) -> f64 {
        (js::performance_now() - self.0) / 1e3
    }
}
