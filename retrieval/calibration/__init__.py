"""The `qa calibrate` run: fitting, per index, when not to answer, with no labels.

It makes synthetic questions from the index's own chunks (training/questions.py), asks each
twice through the real engine, against the whole index (answerable) and with its own document
left out (unanswerable by construction), turns each answer into signals
(confidence/signals.py), fits a small logistic regression (confidence/model.py) and stores it
with the index (confidence/calibration_record.py). What every answer then reads lives in
retrieval/confidence/: the engine re-reads that record every few seconds
(confidence/live_calibration.py), `score` becomes the chance, in 0..1, that the question is
answerable, and the refusal threshold is picked for a target share of answerable questions
refused. run.py ties the steps together; status.py says where an index stands.
"""
