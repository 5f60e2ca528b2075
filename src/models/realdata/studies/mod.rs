//! Real-data studies (figures r1-r3).
pub mod figure;
pub mod head;
pub mod slow_rate;
