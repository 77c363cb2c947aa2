//! Setup: the proof system's parameters (made once per k, cached, pinned by digest) and threads.

pub mod params_cache;
pub mod ptau;
pub mod threads;
