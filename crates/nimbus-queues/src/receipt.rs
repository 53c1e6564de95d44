//! Receipt handles: which message, in which queue, leased by which receive.
//!
//! A handle is `base64url(queue \n seq \n token)`. The token is fresh for every receive, so a
//! handle from an earlier receive of the same message is recognisably stale.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest receipt handle we decode (SQS handles are up to 1,024 characters).
pub const RECEIPT_HANDLE_CHARS_MAX: usize = 1024;

/// A decoded receipt handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Queue name.
    pub queue: String,
    /// Message sequence number.
    pub seq: i64,
    /// Token of the receive that produced it.
    pub token: String,
}

impl Receipt {
    /// The handle clients see.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\n{}\n{}", self.queue, self.seq, self.token))
    }

    /// Parses a handle; `None` for anything we did not produce.
    pub fn decode(handle: &str) -> Option<Receipt> {
        if handle.is_empty() || handle.len() > RECEIPT_HANDLE_CHARS_MAX {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(handle).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('\n');
        let queue = parts.next()?.to_string();
        let seq = parts.next()?.parse::<i64>().ok()?;
        let token = parts.next()?.to_string();
        if parts.next().is_some() || queue.is_empty() || token.is_empty() || seq <= 0 {
            return None;
        }
        Some(Receipt { queue, seq, token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let r = Receipt {
            queue: "q.fifo".into(),
            seq: 42,
            token: "abc".into(),
        };
        assert_eq!(Receipt::decode(&r.encode()), Some(r));
        for bad in ["", "!!!", "AAAA", &"A".repeat(2000)] {
            assert_eq!(Receipt::decode(bad), None, "{bad}");
        }
        let zero = URL_SAFE_NO_PAD.encode("q\n0\nt");
        assert_eq!(Receipt::decode(&zero), None);
        let extra = URL_SAFE_NO_PAD.encode("q\n1\nt\nx");
        assert_eq!(Receipt::decode(&extra), None);
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(s in ".{0,300}") {
            let _ = Receipt::decode(&s);
        }
    }
}
