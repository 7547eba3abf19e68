"""Shaping an answer: its sources, where they live, copies shown once."""
