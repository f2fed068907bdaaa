"""The audit log of administrative acts: who did what to which object, and when."""
