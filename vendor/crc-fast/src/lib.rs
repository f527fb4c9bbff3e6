//! The part of `crc-fast`'s API that `aws-smithy-checksums` calls (`Digest`, `CrcAlgorithm`,
//! `checksum`), for the three CRCs S3 uses, computed by the `crc` crate.
//!
//! Why: crates.io's `crc-fast` picks its algorithm at run time from an enum of some fifty
//! CRCs, so every one of their lookup tables (two thirds of a megabyte of incompressible
//! data) lands in each function that links the S3 client, whose uploads are a few hundred
//! kilobytes at most. The workspace patches it with this crate (`[patch.crates-io]`).

use crc::{Crc, CRC_32_ISCSI, CRC_32_ISO_HDLC};

/// CRC-64/NVME (S3's `CRC64NVME` checksum), as catalogued by reveng.
const CRC_64_NVME: crc::Algorithm<u64> = crc::Algorithm {
    width: 64,
    poly: 0xad93_d235_94c9_3659,
    init: 0xffff_ffff_ffff_ffff,
    refin: true,
    refout: true,
    xorout: 0xffff_ffff_ffff_ffff,
    check: 0xae8b_1486_0a79_9888,
    residue: 0xf310_303b_2b6f_6e42,
};

static CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);
static CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);
static CRC64_NVME: Crc<u64> = Crc::<u64>::new(&CRC_64_NVME);

/// The algorithms this stand-in computes (the names are `crc-fast`'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcAlgorithm {
    Crc32IsoHdlc,
    Crc32Iscsi,
    Crc64Nvme,
}

#[derive(Clone)]
enum State {
    Crc32(crc::Digest<'static, u32>),
    Crc64(crc::Digest<'static, u64>),
}

/// A running checksum.
#[derive(Clone)]
pub struct Digest {
    algorithm: CrcAlgorithm,
    state: State,
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digest")
            .field("algorithm", &self.algorithm)
            .field("value", &self.finalize())
            .finish()
    }
}

impl Digest {
    pub fn new(algorithm: CrcAlgorithm) -> Self {
        let state = match algorithm {
            CrcAlgorithm::Crc32IsoHdlc => State::Crc32(CRC32.digest()),
            CrcAlgorithm::Crc32Iscsi => State::Crc32(CRC32C.digest()),
            CrcAlgorithm::Crc64Nvme => State::Crc64(CRC64_NVME.digest()),
        };
        Digest { algorithm, state }
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(d) => d.update(data),
            State::Crc64(d) => d.update(data),
        }
    }

    /// The checksum of everything so far; the digest goes on.
    pub fn finalize(&self) -> u64 {
        match &self.state {
            State::Crc32(d) => u64::from(d.clone().finalize()),
            State::Crc64(d) => d.clone().finalize(),
        }
    }

    pub fn reset(&mut self) {
        *self = Digest::new(self.algorithm);
    }
}

/// The checksum of `buf` in one call.
pub fn checksum(algorithm: CrcAlgorithm, buf: &[u8]) -> u64 {
    let mut digest = Digest::new(algorithm);
    digest.update(buf);
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The catalogue's check values: each CRC of the ASCII digits "123456789".
    #[test]
    fn each_algorithm_gives_its_catalogued_check_value() {
        assert_eq!(checksum(CrcAlgorithm::Crc32IsoHdlc, b"123456789"), 0xcbf4_3926);
        assert_eq!(checksum(CrcAlgorithm::Crc32Iscsi, b"123456789"), 0xe306_9283);
        assert_eq!(checksum(CrcAlgorithm::Crc64Nvme, b"123456789"), 0xae8b_1486_0a79_9888);
    }

    #[test]
    fn a_digest_fed_in_pieces_equals_one_call_and_resets() {
        for algorithm in [CrcAlgorithm::Crc32IsoHdlc, CrcAlgorithm::Crc32Iscsi, CrcAlgorithm::Crc64Nvme] {
            let mut d = Digest::new(algorithm);
            d.update(b"1234");
            let part = d.finalize();
            d.update(b"56789");
            assert_eq!(d.finalize(), checksum(algorithm, b"123456789"));
            assert_eq!(part, checksum(algorithm, b"1234"));
            d.reset();
            assert_eq!(d.finalize(), checksum(algorithm, b""));
        }
    }
}
