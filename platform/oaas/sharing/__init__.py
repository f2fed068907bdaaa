"""Order sharing between a merchant and a logistics partner."""
