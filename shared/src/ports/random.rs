use base64::Engine;

/// The random source. Production uses the operating system's CSPRNG.
pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // The OS CSPRNG failing is unrecoverable for a service that mints secrets.
        if getrandom::fill(buf).is_err() {
            std::process::abort();
        }
    }
}

impl dyn Random {
    /// An opaque URL-safe id from `bytes` random bytes.
    pub fn token(&self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.fill(&mut buf);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    }

    /// A uniform integer in `0..bound` (rejection sampling, no modulo bias).
    pub fn below(&self, bound: u32) -> u32 {
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let mut b = [0u8; 4];
            self.fill(&mut b);
            let v = u32::from_le_bytes(b);
            if v < zone {
                return v % bound;
            }
        }
    }

    /// `len` decimal digits, uniformly chosen.
    pub fn digits(&self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}
