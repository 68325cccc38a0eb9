"""Statistics as pure functions: agreement, intervals, reliability, disclosure control."""
