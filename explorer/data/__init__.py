"""Data: the dataset registry (facts), the synthetic shapes, the splits and held-out images."""
