"""Evaluation: image metrics, run evaluation, comparison reports."""
