"""Analyses over metrics: the flow figures and their headlines, Amdahl's law, AI impact and its statistics."""
