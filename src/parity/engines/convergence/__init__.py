"""Reference convergence points: submissions must not converge faster than the reference."""
