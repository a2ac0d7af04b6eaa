"""Scoring newsflow against annotated corpora: the gold format (gold.py) and the scorecard (score.py)."""
