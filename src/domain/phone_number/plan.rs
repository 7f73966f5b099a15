//! The numbering-plan check, kept apart because it is the slow half of parsing (libphonenumber).

use phonenumber::metadata::DATABASE;

use super::PhoneNumberError;

/// Ranges that regulators reserve for fiction: never anyone's phone, yet tests and docs use them.
const FICTIONAL: &[(&str, usize)] = &[
    ("+447700900", 13), // Ofcom's drama range for UK mobiles, 07700 900000 to 900999
];

/// Checks `canonical` (`+` and 8 to 15 digits) against libphonenumber's numbering plans.
pub(super) fn validate(canonical: &str) -> Result<(), PhoneNumberError> {
    let fictional =
        |(prefix, len): &(&str, usize)| canonical.len() == *len && canonical.starts_with(prefix);
    if FICTIONAL.iter().any(fictional) {
        return Ok(());
    }
    let invalid = || PhoneNumberError::Invalid(canonical.to_owned());
    let parsed = phonenumber::parse(None, canonical).map_err(|_| invalid())?;
    let code = parsed.code().value();
    if parsed.is_valid() {
        // libphonenumber silently drops some trunk prefixes (`+33 0 6...`); we store digits as
        // given, so they must already be the E.164 form it validated.
        let national = parsed.national();
        let zeros = "0".repeat(usize::from(national.zeros()));
        let e164 = format!("+{code}{zeros}{}", national.value());
        return match e164 == canonical {
            true => Ok(()),
            false => Err(PhoneNumberError::NotCanonical {
                number: canonical.to_owned(),
                canonical: e164,
            }),
        };
    }
    if parsed.national().zeros() > 0 {
        let without_trunk = format!("+{code}{}", parsed.national().value());
        if validate(&without_trunk).is_ok() {
            return Err(PhoneNumberError::NotCanonical {
                number: canonical.to_owned(),
                canonical: without_trunk,
            });
        }
    }
    // The number's own region when the plan can tell, else the code's main country.
    let country = match parsed.country().id() {
        Some(id) => id.as_ref().to_owned(),
        None => match DATABASE
            .region(&code)
            .and_then(|r| r.first().map(|s| s.to_string()))
        {
            Some(region) => region,
            None => return Err(invalid()),
        },
    };
    Err(PhoneNumberError::InvalidForCountry {
        number: canonical.to_owned(),
        country,
    })
}

#[cfg(test)]
mod tests {
    use super::super::PhoneNumber;
    use super::*;

    fn err(input: &str) -> PhoneNumberError {
        PhoneNumber::parse(input).expect_err(input)
    }

    #[test]
    fn numbering_plan_errors_name_the_country() {
        let e = err("+15555550100"); // 555 is not an assigned area code
        assert!(
            matches!(&e, PhoneNumberError::InvalidForCountry { country, .. } if country == "US"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "phone number `+15555550100` is not a valid number for its country (US)"
        );
        let e = err("+14151550100"); // exchange codes never start with 1
        assert!(
            matches!(e, PhoneNumberError::InvalidForCountry { .. }),
            "{e:?}"
        );
        assert!(matches!(
            err("+44770090012"),
            PhoneNumberError::InvalidForCountry { .. }
        ));
        assert!(matches!(err("+99912345678"), PhoneNumberError::Invalid(_)));
    }

    #[test]
    fn accepts_numbers_from_many_plans() {
        let numbers = [
            "+390212345678",  // Italy keeps the leading 0 of landlines after +39
            "+4915112345678", // Germany, mobile
            "+61412345678",   // Australia, mobile
            "+919876543210",  // India, mobile
            "+5511912345678", // Brazil, São Paulo mobile
            "+525512345678",  // Mexico City
            "+14165550100",   // Toronto: +1 but Canada
            "+18005550100",   // US toll-free
        ];
        for n in numbers {
            assert_eq!(PhoneNumber::parse(n).map(|p| p.0), Ok(n.to_owned()), "{n}");
        }
    }

    #[test]
    fn fictional_ranges_are_exact() {
        assert!(PhoneNumber::parse("+447700900000").is_ok());
        assert!(PhoneNumber::parse("+447700900999").is_ok());
        assert!(matches!(
            err("+4477009001234"),
            PhoneNumberError::InvalidForCountry { .. }
        ));
    }

    #[test]
    fn trunk_prefix_after_country_code_suggests_the_e164_form() {
        assert_eq!(
            err("+44 07700 900123"),
            PhoneNumberError::NotCanonical {
                number: "+4407700900123".into(),
                canonical: "+447700900123".into(),
            }
        );
        assert_eq!(
            err("+33 06 12 34 56 78"),
            PhoneNumberError::NotCanonical {
                number: "+330612345678".into(),
                canonical: "+33612345678".into(),
            }
        );
        // A number whose national form really starts with 0 is left alone.
        assert!(PhoneNumber::parse("+390612345678").is_ok());
    }
}
