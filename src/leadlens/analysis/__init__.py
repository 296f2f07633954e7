"""Analyses over metrics: Amdahl's law, and later AI attribution, statistics and simulation."""
