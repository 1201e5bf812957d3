//! PKCS#7 padding with WeCom's 32-byte block (not AES's 16).
//!
//! WeCom pads the plaintext frame to a multiple of 32 bytes with 1..=32 bytes each equal to the pad
//! length, then encrypts with AES-256-CBC *without* cipher-level padding. The padding is checked only after
//! the signature has been verified, so its check is not a padding oracle.

use crate::error::{Error, Result};

/// WeCom's PKCS#7 block size in bytes.
pub const BLOCK_SIZE: usize = 32;

/// Appends 1..=32 bytes of PKCS#7 padding so that `data.len()` becomes a multiple of [`BLOCK_SIZE`].
pub fn pad(data: &mut Vec<u8>) {
    let n = BLOCK_SIZE - data.len() % BLOCK_SIZE;
    // n is in 1..=32, so it fits in a byte.
    let byte = u8::try_from(n).unwrap_or(BLOCK_SIZE as u8);
    data.resize(data.len() + n, byte);
}

/// Strips PKCS#7 padding: the last byte `n` must be in 1..=32, at most the data length, and the last `n`
/// bytes must all equal `n`. Otherwise [`Error::InvalidPadding`].
pub fn unpad(data: &[u8]) -> Result<&[u8]> {
    let &last = data.last().ok_or(Error::InvalidPadding)?;
    let n = usize::from(last);
    if n == 0 || n > BLOCK_SIZE || n > data.len() {
        return Err(Error::InvalidPadding);
    }
    let (body, padding) = data.split_at_checked(data.len() - n).ok_or(Error::InvalidPadding)?;
    if padding.iter().any(|&b| b != last) {
        return Err(Error::InvalidPadding);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_32_and_back() {
        for len in 0..100 {
            let mut v = vec![7u8; len];
            pad(&mut v);
            assert_eq!(v.len() % BLOCK_SIZE, 0);
            assert!(v.len() > len && v.len() - len <= BLOCK_SIZE);
            assert_eq!(unpad(&v).unwrap(), &vec![7u8; len][..]);
        }
    }

    #[test]
    fn full_block_of_padding_when_aligned() {
        let mut v = vec![1u8; 32];
        pad(&mut v);
        assert_eq!(v.len(), 64);
        assert!(v[32..].iter().all(|&b| b == 32));
    }

    #[test]
    fn rejects_bad_padding() {
        assert_eq!(unpad(&[]), Err(Error::InvalidPadding));
        assert_eq!(unpad(&[0]), Err(Error::InvalidPadding));
        assert_eq!(unpad(&[33; 64]), Err(Error::InvalidPadding));
        assert_eq!(unpad(&[5, 5, 5]), Err(Error::InvalidPadding));
        assert_eq!(unpad(&[1, 2, 3, 3, 2, 3]), Err(Error::InvalidPadding));
        assert_eq!(unpad(&[9, 2, 2]).unwrap(), &[9]);
    }
}
