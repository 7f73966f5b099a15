//! Message ids in each carrier's shape, made from the 128 random bits the record keeps,
//! so the record stays 64 bytes per request and still reports the id the client saw.

use crate::config::Carrier;

/// The id a carrier returns for a message: Twilio `SM` + 32 hex, Telnyx a v4 UUID,
/// Vonage 16 upper-case hex (part 1 of a long message; see [`vonage_part_id`]).
pub(crate) fn message_id(carrier: Carrier, bits: [u64; 2]) -> String {
    match carrier {
        Carrier::Twilio => format!("SM{:016x}{:016x}", bits[0], bits[1]),
        Carrier::Telnyx => {
            let (hi, lo) = (bits[0], bits[1]);
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0x0fff,
                0x8000 | ((lo >> 48) & 0x3fff),
                lo & 0xffff_ffff_ffff
            )
        }
        Carrier::Vonage => vonage_part_id(bits, 0),
    }
}

/// Vonage answers (and later sends a DLR) per part, each with its own `message-id`.
pub(crate) fn vonage_part_id(bits: [u64; 2], part: u16) -> String {
    format!("{:016X}", bits[0].wrapping_add(u64::from(part)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let bits = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        assert_eq!(
            message_id(Carrier::Twilio, bits),
            "SM0123456789abcdeffedcba9876543210"
        );
        assert_eq!(
            message_id(Carrier::Telnyx, bits),
            "01234567-89ab-4def-bedc-ba9876543210"
        );
        assert_eq!(message_id(Carrier::Vonage, bits), "0123456789ABCDEF");
        assert_eq!(vonage_part_id(bits, 1), "0123456789ABCDF0");
    }
}
