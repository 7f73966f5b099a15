//! Stored text back into domain types; a value that does not parse means the row is corrupt.

use crate::domain::{MemberStatus, MessageStatus, PhoneNumber, SenderAddress};

use super::StoreError;

/// A stored phone number; every writer stored a parsed `PhoneNumber`, so failure is corruption.
pub(crate) fn phone(column: &str, text: &str) -> Result<PhoneNumber, StoreError> {
    PhoneNumber::from_stored(text).map_err(|e| corrupt(column, text, e))
}

/// A stored sender address (an E.164 number or a short code's digits).
pub(crate) fn sender_address(column: &str, text: &str) -> Result<SenderAddress, StoreError> {
    SenderAddress::from_stored(text).map_err(|e| corrupt(column, text, e))
}

/// An optional stored sender address.
pub(crate) fn opt_sender_address(
    column: &str,
    text: Option<&str>,
) -> Result<Option<SenderAddress>, StoreError> {
    text.map(|t| sender_address(column, t)).transpose()
}

/// A stored message status.
pub(crate) fn message_status(text: &str) -> Result<MessageStatus, StoreError> {
    MessageStatus::parse(text).map_err(|e| corrupt("messages.status", text, e))
}

/// A stored member status.
pub(crate) fn member_status(text: &str) -> Result<MemberStatus, StoreError> {
    MemberStatus::parse(text).ok_or_else(|| corrupt("members.status", text, "unknown status"))
}

/// The error for a column whose stored value is not one the code ever writes.
pub(crate) fn corrupt(column: &str, value: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{column} = {value:?}: {why}"))
}

/// Parses one of a fixed set of stored names through the type's own `parse`.
pub(crate) fn name<T>(
    column: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt(column, text, "unknown value"))
}
