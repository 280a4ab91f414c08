//! Build info, health and entitlements.

#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
