"""Orders: the model, the rules for creating, cancelling and fulfilling them, and queries."""
