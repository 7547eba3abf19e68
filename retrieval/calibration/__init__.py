"""Knowing when not to answer: a confidence calibrated per index, with no labels.

`qa calibrate` makes synthetic questions from the index's own chunks (questions.py), asks each
twice through the real engine, against the whole index (answerable) and with its own document
left out (unanswerable by construction), turns each answer into signals (signals.py), fits a
small logistic regression (model.py) and stores it with the index (record.py). The engine
re-reads that record every few seconds (live.py): `score` becomes the chance, in 0..1, that
the question is answerable, and the refusal threshold is picked for a target share of
answerable questions refused. run.py ties the steps together.
"""
