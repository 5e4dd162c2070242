"""Questions staff ask in a consultation, the bank they reuse them from, and stakeholders' answers."""
