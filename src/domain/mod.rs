//! Types that are valid by construction: parse at the edge, trust them inside.

mod gsm7;
mod join_keyword;
mod keyword;
mod member_status;
mod message_body;
mod message_status;
mod phone_number;
mod segments;
mod sender_address;
mod sender_kind;

pub use join_keyword::{JoinKeyword, JoinKeywordError};
pub use keyword::Keyword;
pub use member_status::MemberStatus;
pub use message_body::{Encoding, MessageBody, MessageBodyError};
pub use message_status::{MessageStatus, UnknownStatus};
pub use phone_number::{PhoneNumber, PhoneNumberError};
pub use sender_address::{SenderAddress, SenderAddressError};
pub use sender_kind::SenderKind;
