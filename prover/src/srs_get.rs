//! `zkinfer srs get`: download a published SRS, the Hermez ceremony's `.ptau` (built on the Perpetual
//! Powers of Tau), check it against the BLAKE2b-512 digest pinned here (the one snarkjs publishes) before
//! anything is kept, then import it.

use std::io::{Read, Write};
use std::path::Path;

use thiserror::Error;

/// Where the Hermez files are published (a mirror may be given instead).
pub const DEFAULT_BASE_URL: &str = "https://storage.googleapis.com/zkevm/ptau/";

/// BLAKE2b-512 of `powersOfTau28_hez_final_{power}.ptau`, as snarkjs's README publishes them, and
/// their sizes in bytes.
pub const HERMEZ_PINS: [(u32, u64, &str); 11] = [
    (10, 1262744, "6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849"),
    (11, 2442392, "47c282116b892e5ac92ca238578006e31a47e7c7e70f0baa8b687f0a5203e28ea07bbbec765a98dcd654bad618475d4661bfaec3bd9ad2ed12e7abc251d94d33"),
    (12, 4801688, "ded2694169b7b08e898f736d5de95af87c3f1a64594013351b1a796dbee393bd825f88f9468c84505ddd11eb0b1465ac9b43b9064aa8ec97f2b73e04758b8a4a"),
    (13, 9520280, "58efc8bf2834d04768a3d7ffcd8e1e23d461561729beaac4e3e7a47829a1c9066d5320241e124a1a8e8aa6c75be0ba66f65bc8239a0542ed38e11276f6fdb4d9"),
    (14, 18957464, "eeefbcf7c3803b523c94112023c7ff89558f9b8e0cf5d6cdcba3ade60f168af4a181c9c21774b94fbae6c90411995f7d854d02ebd93fb66043dbb06f17a831c1"),
    (15, 37831832, "982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e"),
    (16, 75580568, "6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125"),
    (17, 151078040, "6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345"),
    (18, 302072984, "7e6a9c2e5f05179ddfc923f38f917c9e6831d16922a902b0b4758b8e79c2ab8a81bb5f29952e16ee6c5067ed044d7857b5de120a90704c1d3b637fd94b95b13e"),
    (19, 604062872, "bca9d8b04242f175189872c42ceaa21e2951e0f0f272a0cc54fc37193ff6648600eaf1c555c70cdedfaf9fb74927de7aa1d33dc1e2a7f1a50619484989da0887"),
    (20, 1208042648, "89a66eb5590a1c94e3f1ee0e72acf49b1669e050bb5f93c73b066b564dca4e0c7556a52b323178269d64af325d8fdddb33da3a27c34409b821de82aa2bf1a27b"),
];

/// Why a download was not kept.
#[derive(Debug, Error)]
pub enum GetError {
    /// No pinned file covers this k.
    #[error("no published SRS file is pinned for k = {0}: zkinfer gets k = 4 to 20")]
    Unpinned(u32),
    /// The download failed.
    #[error("downloading {url}: {why}")]
    Download {
        /// What was fetched.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// The file is not the pinned one: nothing was kept.
    #[error(
        "{url} is not the published file: its BLAKE2b-512 is {got}, the pinned one {pinned}; \
         nothing was kept"
    )]
    Digest {
        /// What was fetched.
        url: String,
        /// Its digest.
        got: String,
        /// The pinned digest.
        pinned: String,
    },
    /// A temporary file could not be written or read.
    #[error("temporary file in {dir}: {source}")]
    Io {
        /// Its folder.
        dir: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The Hermez file that holds the powers for `k` (the smallest pinned one), its size and digest.
pub fn hermez_file(k: u32) -> Result<(String, u64, &'static str), GetError> {
    if !(circuits::plan::MIN_K..=20).contains(&k) {
        return Err(GetError::Unpinned(k));
    }
    let (power, size, pin) = HERMEZ_PINS
        .iter()
        .find(|(p, _, _)| *p >= k)
        .ok_or(GetError::Unpinned(k))?;
    Ok((format!("powersOfTau28_hez_final_{power}.ptau"), *size, pin))
}

/// Fetch `url` into a temporary file in `dir`, hashing it on the way; keep it only when its BLAKE2b-512
/// is `pinned`. At most `max_len` bytes are read.
pub fn fetch_pinned(
    url: &str,
    pinned: &str,
    max_len: u64,
    dir: &Path,
) -> Result<tempfile::NamedTempFile, GetError> {
    let io = |source| GetError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let download = |why: String| GetError::Download {
        url: url.into(),
        why,
    };
    let response = ureq::get(url).call().map_err(|e| download(e.to_string()))?;
    let mut body = response.into_body().into_reader().take(max_len + 1);
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let mut state = blake2b_simd::Params::new().hash_length(64).to_state();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| download(e.to_string()))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        if len > max_len {
            return Err(download(format!(
                "longer than the {max_len} bytes expected"
            )));
        }
        state.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(io)?;
    }
    file.flush().map_err(io)?;
    let got: String = state
        .finalize()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != pinned {
        return Err(GetError::Digest {
            url: url.into(),
            got,
            pinned: pinned.into(),
        });
    }
    Ok(file)
}
